"""Readers: the sample files in data/ follow the instruments' published text layouts (composed by hand, not measured).

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
    # explicit units override the header: "mV" read as V gives 1000x larger potentials
    w = read_voltammogram_file(DATA / "cv_simple.csv", potential_unit="V", potential_column=0, current_column="I")
    assert w.E[1] == pytest.approx(25.0)


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
