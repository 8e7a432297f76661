"""Readers: the sample files in data/ follow the instruments' published text layouts (composed by hand, not measured);
the files in data/real/ are real instrument exports written by others (see data/real/README.md), and the header
spellings below are the ones instruments write.

Every sample holds the same 41-point CV (0 → 0.5 → 0 V at 0.1 V/s, peak 16.06 µA), written in each format's units,
so each reader must return the same SI arrays (tolerance: the files' printed precision).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from labwright.errors import InvalidInput, MalformedFile
from labwright.tools.electrochem._analysis_tools import read_voltammogram
from labwright.tools.electrochem._readers import (
    detect_format,
    read_voltammogram_file,
    unit_factor,
)

DATA = Path(__file__).parent / "data"
PEAK = 16.059e-6  # A, the samples' maximum current


@pytest.mark.parametrize(
    ("name", "fmt", "options", "n", "area"),
    [
        ("cv_simple.csv", "csv", {}, 41, None),
        ("cv_density.tsv", "csv", {"area": 7.07e-6}, 41, 7.07e-6),
        ("cv_biologic.mpt", "mpt", {}, 41, 7.07e-6),
        ("cv_chi.txt", "chi", {}, 41, None),
        ("cv_gamry.DTA", "dta", {}, 82, 7.07e-6),
    ],
)
def test_formats_give_the_same_si_arrays(name, fmt, options, n, area):
    v = read_voltammogram_file(DATA / name, **options)
    E, I, _ = v.arrays()
    assert v.metadata.format == fmt
    assert E.size == n
    assert E.max() == pytest.approx(0.5, abs=2e-4)  # the .mpt sample's Ewe is offset by 0.1 mV
    assert I.max() == pytest.approx(PEAK, rel=2e-3)  # CHI prints 4 significant digits
    assert v.metadata.sha256 == hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    assert v.metadata.source_path.endswith(name)
    if area is not None:
        assert v.metadata.area == pytest.approx(area, rel=1e-9)
    if fmt != "csv" or name == "cv_simple.csv":
        assert v.scan_rate == pytest.approx(0.1) and v.metadata.scan_rate_source == "header"


def test_csv_units_from_header_and_explicit_override():
    v = read_voltammogram_file(DATA / "cv_simple.csv")
    assert v.metadata.units == {"E": "mV", "I": "uA", "t": "s"}
    assert v.E[1] == pytest.approx(0.025)
    # explicit units override the header: "mV" read as V gives 1000x larger potentials, up to 125 V here, which no
    # potentiostat applies (|E| <= 100 V), so the file is refused with the likely cause named
    with pytest.raises(MalformedFile, match=r"125 V.*mV read as V"):
        read_voltammogram_file(DATA / "cv_simple.csv", potential_unit="V", potential_column=0, current_column="I")


def test_density_without_area_names_the_field():
    with pytest.raises(InvalidInput, match="area"):
        read_voltammogram_file(DATA / "cv_density.tsv")


def test_unit_factors():
    assert unit_factor("I", "µA") == 1e-6
    assert unit_factor("I", "mA/cm^2", area=1e-4) == pytest.approx(1e-3)
    assert unit_factor("I", "A/m2", area=2.0) == 2.0
    assert unit_factor("E", "mV") == 1e-3
    assert unit_factor("t", "min") == 60.0
    with pytest.raises(InvalidInput, match="current_unit"):
        unit_factor("I", "furlongs")


def test_gamry_curves_become_cycles_and_ocv_is_skipped():
    v = read_voltammogram_file(DATA / "cv_gamry.DTA")
    assert sorted(set(v.cycle)) == [1, 2]
    assert v.metadata.technique == "CV"
    one = v.select_cycle(2)
    assert len(one.E) == 41 and one.t[0] == pytest.approx(10.0)
    with pytest.raises(InvalidInput, match="cycle 7 not found"):
        v.select_cycle(7)


def test_mpt_decimal_comma_and_cycle_column():
    v = read_voltammogram_file(DATA / "cv_biologic.mpt")
    assert v.E[0] == pytest.approx(1e-4)
    assert set(v.cycle) == {1}
    assert v.metadata.instrument.startswith("SP-150")
    assert v.t[-1] == pytest.approx(10.0)


def test_chi_chronoamperometry_uses_init_e():
    v = read_voltammogram_file(DATA / "ca_chi.txt")
    _, I, t = v.arrays()
    assert np.all(np.asarray(v.E) == 0.6)
    assert t[0] == pytest.approx(0.05) and I[0] == pytest.approx(2e-5 / np.sqrt(0.05), rel=1e-3)


def test_detect_format():
    assert detect_format(DATA / "cv_biologic.mpt") == "mpt"
    assert detect_format(DATA / "cv_gamry.DTA") == "dta"
    assert detect_format(DATA / "cv_chi.txt") == "chi"
    assert detect_format(DATA / "cv_simple.csv") == "csv"


# ------------------------------------------------------------------------------------------------ malformed ----


def _truncate(src: Path, dst: Path, drop_chars: int) -> Path:
    raw = src.read_bytes()
    dst.write_bytes(raw[: len(raw) - drop_chars])
    return dst


@pytest.mark.parametrize("name", ["cv_simple.csv", "cv_biologic.mpt", "cv_chi.txt"])
def test_truncated_last_row_is_reported_with_its_line(tmp_path, name):
    src = DATA / name
    n_lines = len(src.read_bytes().splitlines())
    # cut the last row in the middle of its second field
    last = src.read_bytes().splitlines()[-1]
    cut = len(last) - (last.find(b"," if name != "cv_biologic.mpt" else b"\t") + 1) + 2
    path = _truncate(src, tmp_path / name, cut)
    with pytest.raises(MalformedFile) as err:
        read_voltammogram_file(path)
    assert err.value.line == n_lines
    assert f"line {n_lines}" in str(err.value)


def test_truncated_gamry_table_reports_missing_rows(tmp_path):
    lines = (DATA / "cv_gamry.DTA").read_text().splitlines()
    path = tmp_path / "short.DTA"
    path.write_text("\n".join(lines[:-10]) + "\n")
    with pytest.raises(MalformedFile, match="declares 41 rows but has 31") as err:
        read_voltammogram_file(path)
    assert err.value.line == len(lines) - 10


def test_non_numeric_field_names_line(tmp_path):
    lines = (DATA / "cv_simple.csv").read_text().splitlines()
    lines[10] = "100.0,abc,2.5"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines))
    with pytest.raises(MalformedFile, match="line 11: not a number: 'abc'"):
        read_voltammogram_file(path)


def test_mpt_header_count_past_end(tmp_path):
    lines = (DATA / "cv_biologic.mpt").read_text(encoding="cp1252").splitlines()
    path = tmp_path / "cut.mpt"
    path.write_text("\n".join(lines[:20]), encoding="cp1252")
    with pytest.raises(MalformedFile, match="header says 34 lines but the file has 20"):
        read_voltammogram_file(path)


def test_wrong_magic_and_empty_file(tmp_path):
    bad = tmp_path / "x.DTA"
    bad.write_text("NOT EXPLAIN\n")
    with pytest.raises(MalformedFile, match="line 1"):
        read_voltammogram_file(bad, format="dta")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(MalformedFile, match="empty"):
        read_voltammogram_file(empty)
    with pytest.raises(InvalidInput, match="file not found"):
        read_voltammogram_file(tmp_path / "missing.csv")


def test_read_voltammogram_tool(tmp_path):
    out = read_voltammogram(path=str(DATA / "cv_gamry.DTA"), cycle=1)
    assert out.n_points == 41 and out.cycles == [1, 2]
    assert out.E_range == pytest.approx((0.0, 0.5))
    brief = read_voltammogram(path=str(DATA / "cv_biologic.mpt"), summary_only=True)
    assert brief.voltammogram is None and brief.metadata["format"] == "mpt" and brief.scan_rate == pytest.approx(0.1)
    with pytest.raises(InvalidInput, match="read_voltammogram: invalid input for field 'area'"):
        read_voltammogram(path=str(DATA / "cv_density.tsv"), area=-1.0)
    with pytest.raises(InvalidInput, match="current_column"):
        read_voltammogram(path=str(DATA / "cv_simple.csv"), current_column="nope")


# ------------------------------------------------------------------------------- real files written by others ----
# data/real/README.md: an EC-Lab export from ixdat (MIT) and a Gamry export from gamry-parser (MIT), unchanged.

REAL = DATA / "real"


def test_real_eclab_file_reports_the_placeholder_area_as_missing_and_keeps_its_settings():
    path = REAL / "ixdat_Pt_poly_cv_CUT.mpt"
    v = read_voltammogram_file(path)
    m = v.metadata
    assert m.area is None and "placeholder" in m.missing["area"]  # "Electrode surface area : 0,001 cm²"
    assert "concentration" in m.missing
    assert v.scan_rate == pytest.approx(0.1) and m.scan_rate_source == "header"  # dE/dt 100,000 mV/s
    assert m.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert m.instrument.startswith("SP-200 (SN 0961)") and "EC-Lab for windows v11.33" in m.instrument
    assert m.technique == "Cyclic Voltammetry Advanced" and m.header["Ewe,I filtering"] == "50 kHz"
    # decimal commas; <I>/mA -> A: the first row reads -2,604324994466466E-003 mA
    assert v.E[0] == pytest.approx(0.87869531) and v.I[0] == pytest.approx(-2.604324994466466e-6)
    assert sorted(set(v.cycle)) == [1, 2, 3, 4, 5]
    assert v.last_complete_cycle() == 4  # cycle 5 was cut short (19 of 52 points)


def test_read_tool_keeps_the_last_complete_cycle_by_default_and_any_on_request():
    path = str(REAL / "ixdat_Pt_poly_cv_CUT.mpt")
    out = read_voltammogram(path=path)
    assert out.cycles == [1, 2, 3, 4, 5] and out.cycle_used == 4 and out.n_points == 52
    assert "area" in out.missing and any("kept cycle 4" in n for n in out.metadata["notes"])
    assert read_voltammogram(path=path, cycle=2).n_points == 52
    assert read_voltammogram(path=path, cycle="all").n_points == 223


def test_a_real_area_in_an_eclab_header_is_used(tmp_path):
    text = (REAL / "ixdat_Pt_poly_cv_CUT.mpt").read_bytes().replace(b"0,001 cm\xb2", b"0,0707 cm\xb2")
    (tmp_path / "area.mpt").write_bytes(text)
    v = read_voltammogram_file(tmp_path / "area.mpt")
    assert v.metadata.area == pytest.approx(7.07e-6) and "area" not in v.metadata.missing


def test_real_gamry_file_curves_scan_rate_and_missing_area(tmp_path):
    path = REAL / "gamry-parser_cv_data.dta"
    v = read_voltammogram_file(path)
    assert sorted(set(v.cycle)) == [1, 2, 3, 4, 5] and len(v.E) == 50
    assert v.scan_rate == pytest.approx(1.23456e-3)  # SCANRATE 1.23456E+000 mV/s
    assert v.metadata.area is None and "AREA" in v.metadata.missing["area"]
    assert v.t[10] == pytest.approx(120.2) and v.I[0] == pytest.approx(7.80498e-9)
    # Framework's default AREA (1 cm²) is not evidence of the electrode's area either
    lines = path.read_text().splitlines()
    lines.insert(3, "AREA\tQUANT\t1.00000E+000\tSample &Area (cm^2)")
    (tmp_path / "default_area.dta").write_text("\n".join(lines) + "\n")
    w = read_voltammogram_file(tmp_path / "default_area.dta")
    assert w.metadata.area is None and "default" in w.metadata.missing["area"]


def test_real_chi_export_keeps_its_settings_date_and_which_segments_it_holds():
    # A real CH Instruments CHI760E text export (CRLF line ends), copied unchanged from nomad-hzb/nomad-chemical-energy
    # (Apache-2.0): HER on a MoS2/Ti3C2 electrode in 0.5 M acid, 40 mV/s, 6 segments recorded, the last two exported.
    path = REAL / "nomad-chemical-energy_CV-1T.txt"
    v = read_voltammogram_file(path)
    m = v.metadata
    assert detect_format(path) == "chi" and m.format == "chi"
    assert m.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert m.instrument == "CHI760E" and m.technique == "Cyclic Voltammetry"
    assert m.header["Date"] == "June 13, 2024 13:13:28"  # the first line is the date, not a "key: value"
    assert m.header["Init P/N"] == "P" and m.header["Sensitivity (A/V)"] == "0.001" and m.header["Segment"] == "6"
    assert v.scan_rate == pytest.approx(0.04) and m.scan_rate_source == "header"
    assert m.area is None and set(m.missing) == {"area", "concentration"}  # CHI exports record neither
    assert len(v.E) == 1400 and v.t is None
    assert v.E[0] == pytest.approx(-0.5) and v.I[0] == pytest.approx(-4.214e-4)  # first row "-0.500, -4.214e-4"
    assert v.E[-1] == pytest.approx(-0.499) and v.I[-1] == pytest.approx(-4.127e-4)  # last row
    E = np.asarray(v.E)
    assert max(E) == pytest.approx(float(m.header["High E (V)"])) and min(E) == pytest.approx(-0.5)
    assert np.median(np.abs(np.diff(E))) == pytest.approx(float(m.header["Sample Interval (V)"]))
    assert any("data hold 2 of the 6 sweep segments" in n and "5, 6" in n for n in m.notes), m.notes
    # the hand-composed export holds every segment it recorded: no such note
    assert not any("sweep segments" in n for n in read_voltammogram_file(DATA / "cv_chi.txt").metadata.notes)


def test_diffec_csv_with_a_symbol_in_brackets_reads_as_amperes():
    # DiffEC's Fe(III) workbook heads its current column "Current(I)" (examples/data/diffec, MIT)
    v = read_voltammogram_file(Path(__file__).resolve().parents[2] / "examples/data/diffec/fe3_10mVps.csv")
    assert v.metadata.columns == {"E": "Potential(V)", "I": "Current(I)"}
    assert v.I[0] == pytest.approx(3.013e-07) and v.E[0] == pytest.approx(0.79758)
    assert any("'Current(I)' names its quantity" in n for n in v.metadata.notes)
    assert v.scan_rate == pytest.approx(0.01) and v.metadata.area == pytest.approx(2.269801e-06)
    assert v.metadata.concentration == pytest.approx(4.85) and v.metadata.missing == {}


@pytest.mark.parametrize(
    ("potential", "current", "time", "factors"),
    [  # header spellings instruments write (EC-Lab, CHI, Autolab NOVA, generic); values 0.5, 2, 3 in each unit
        ("Ewe/V", "<I>/mA", "time/s", (1.0, 1e-3, 1.0)),
        ("Potential/V", "Current/A", "Time (s)", (1.0, 1.0, 1.0)),
        ("WE(1).Potential (V)", "WE(1).Current (A)", "Time (s)", (1.0, 1.0, 1.0)),
        ("E (mV)", "I/mA", "t [ms]", (1e-3, 1e-3, 1e-3)),
        ("Potential(V)", "Current(I)", "Time(min)", (1.0, 1.0, 60.0)),
        ("E / V vs. Ag/AgCl", "I (µA)", "t/h", (1.0, 1e-6, 3600.0)),
    ],
)
def test_header_spellings_instruments_write(tmp_path, potential, current, time, factors):
    f = tmp_path / "cv.csv"  # made here, to each spelling
    f.write_text(f"{potential},{current},{time}\n0.5,2,3\n0.6,2,4\n")
    v = read_voltammogram_file(f, scan_rate=0.1)
    assert (v.E[0], v.I[0], v.t[0]) == pytest.approx((0.5 * factors[0], 2 * factors[1], 3 * factors[2]))
    assert set(v.metadata.missing) == {"area", "concentration"}  # never guessed


def test_units_are_parsed_by_pint():
    assert unit_factor("I", "nA") == pytest.approx(1e-9)
    assert unit_factor("I", "µA/cm²", area=2e-4) == pytest.approx(2e-6)
    assert unit_factor("E", "V vs. Ref.") == 1.0
    assert unit_factor("t", "h") == 3600.0
    with pytest.raises(InvalidInput, match="current_unit.*not a current unit"):
        unit_factor("I", "mV")
    with pytest.raises(InvalidInput, match="time_unit"):
        unit_factor("t", "parsecs per fortnight squared")


def test_csv_without_scan_rate_or_time_says_the_scan_rate_is_missing(tmp_path):
    f = tmp_path / "cv.csv"
    f.write_text("E/V,I/A\n0.1,1e-6\n0.2,2e-6\n")
    v = read_voltammogram_file(f)
    assert v.scan_rate is None and "scan_rate" in v.metadata.missing
