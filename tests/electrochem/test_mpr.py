"""The BioLogic EC-Lab binary .mpr reader on real files (nomad-hzb/nomad-chemical-energy, Apache-2.0, unchanged).

Expected values come from outside this reader: NOMAD's own tests of the same files (tests/test_parser.py of that
repository, read there by another parser) give the first potential of the LSV (-0.0001 V to 4 decimals), its final
potential (1 V), the first Re(Z) of the PEIS (1489.251 ohm) and its DC potential (0.25 V); the rest are physical
consistency checks (the measured potential follows the programmed one; the sweep runs at one rate).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from labwright.errors import MalformedFile
from labwright.tools.electrochem import read_voltammogram_file
from labwright.tools.electrochem._analysis_tools import read_voltammogram
from labwright.tools.electrochem._mpr import _data_columns, mpr_modules, read_mpr
from labwright.tools.electrochem._readers import detect_format

REAL = Path(__file__).parent / "data" / "real"
LSV = REAL / "nomad-chemical-energy_LSV_nesd.mpr"
PEIS = REAL / "nomad-chemical-energy_PEIS_nesd.mpr"
OLD = REAL / "nomad-chemical-energy_kmc3_biologic_CA_example.mpr"


def _columns(path: Path) -> dict[int, np.ndarray]:
    raw = path.read_bytes()
    version, body = mpr_modules(raw, str(path))["VMP data"]
    newer = raw[raw.index(b"MODULEVMP data") + 41 : raw.index(b"MODULEVMP data") + 45] == b"\xff" * 4
    return _data_columns(version, body, newer, str(path))[0]


def test_lsv_reads_in_si_with_its_provenance():
    v = read_voltammogram_file(LSV)
    m = v.metadata
    assert detect_format(LSV) == "mpr" and m.format == "mpr"
    assert m.sha256 == hashlib.sha256(LSV.read_bytes()).hexdigest()
    assert m.columns == {"E": "Ewe/V", "I": "<I>/mA", "t": "time/s"}
    assert m.header["modules"] == "VMP LOG, VMP Set, VMP data" and m.header["data module version"] == "11"
    assert set(m.missing) == {"area", "concentration"}  # never guessed from the undecoded settings module
    E, I, t = v.arrays()
    assert E.size == 999 and t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert round(E[0], 4) == -0.0001 and max(E) == pytest.approx(1.0, abs=1e-3)  # NOMAD: E[0], final potential 1 V
    # <I>/mA -> A: an LSV on a small electrode draws micro- to milliamps, not kiloamps
    assert 1e-7 < np.max(np.abs(I)) < 1e-1
    # the sweep: 0.1 V/s, estimated from the recorded potential and time (the settings module is not decoded)
    assert v.scan_rate == pytest.approx(0.1, rel=0.01) and m.scan_rate_source == "estimated"


def test_columns_line_up_with_the_programmed_potential():
    # A misread record layout would put bytes of one column into another; here the measured potential (Ewe/V) must
    # follow the programmed one (control/V) within a millivolt, and the program must be a straight 0.1 V/s line.
    cols = _columns(LSV)
    E, control, t = cols[6], cols[19], cols[4]
    assert np.max(np.abs(E - control)) < 1e-3
    sweep = t > 5.1  # a 5 s rest, then the sweep
    slope, intercept = np.polyfit(t[sweep], control[sweep], 1)
    assert slope == pytest.approx(0.1, rel=1e-3) and intercept == pytest.approx(-0.5, abs=2e-3)


def test_impedance_columns_match_an_independent_reader():
    # NOMAD's tests read this PEIS file with another parser: first Re(Z) 1489.251 ohm, first DC potential 0.25 V.
    cols = _columns(PEIS)
    assert round(float(cols[37][0]), 3) == 1489.251
    assert float(cols[32][0]) == pytest.approx(1000.0, rel=1e-3)  # first frequency, Hz (sweep from 1 kHz)
    assert float(cols[77][0]) == pytest.approx(0.25, abs=1e-3)  # the first of its three DC potentials
    v = read_mpr(PEIS)
    assert sorted(set(v.cycle)) == list(range(1, 11)) and v.metadata.columns["cycle"] == "cycle number"


def test_older_module_layout_reads_too():
    # An older EC-Lab file: no 0xFFFFFFFF word in the module headers, a one-byte column count, rows at byte 406.
    v = read_mpr(OLD)
    E, I, t = v.arrays()
    assert E.size == 600 and np.all(np.diff(t) > 0)
    assert np.ptp(E) < 5e-3 and np.median(E) == pytest.approx(-0.45, abs=2e-3)  # chronoamperometry at -0.45 V
    assert "not decoded" in v.metadata.notes[0]


def test_read_tool_takes_mpr_files():
    out = read_voltammogram(path=str(LSV))
    assert out.n_points == 999 and out.metadata["format"] == "mpr"


def test_damaged_files_are_refused_with_the_reason(tmp_path):
    raw = LSV.read_bytes()
    cut = tmp_path / "cut.mpr"
    cut.write_bytes(raw[: len(raw) // 2])  # the data module claims more bytes than remain
    with pytest.raises(MalformedFile, match="claims"):
        read_mpr(cut)
    bad = tmp_path / "bad.mpr"
    bad.write_bytes(b"NOT-BIOLOGIC" + raw[12:])
    with pytest.raises(MalformedFile, match="magic"):
        read_mpr(bad)
    # one extra byte in the rows: records no longer fill the module exactly
    i = raw.index(b"MODULEVMP data") + 41
    length = int.from_bytes(raw[i + 4 : i + 8], "little")
    start = i + 24
    grown = (
        raw[: i + 4] + (length + 1).to_bytes(4, "little") + raw[i + 8 : start + length] + b"\0" + raw[start + length :]
    )
    odd = tmp_path / "odd.mpr"
    odd.write_bytes(grown)
    with pytest.raises(MalformedFile, match="do not divide"):
        read_mpr(odd)


def test_fuzzed_files_raise_only_labwright_errors(tmp_path):
    # Random truncations and flipped header/column-list bytes of a real file: a clear MalformedFile (or a read of
    # whatever stays consistent), never a struct/index error.
    from labwright.errors import LabwrightError

    raw = LSV.read_bytes()
    rng = np.random.default_rng(2026)
    path = tmp_path / "fuzz.mpr"
    for k in range(60):
        data = bytearray(raw[: int(rng.integers(0, len(raw)))] if k % 2 else raw)
        if not k % 2:
            for _ in range(4):
                data[int(rng.integers(0, 7000))] = int(rng.integers(0, 256))
        path.write_bytes(bytes(data))
        try:
            read_mpr(path)
        except LabwrightError:
            pass
