"""The holes issue 12 found on the old code, one test each (each failed there with a non-Labwright exception or ran
for minutes): hostile paths, a 100k-character SMILES, s = 2**63, t_end = 1e308, area·c = 1e-300, a NaN current and a
petabyte chronoamperogram. File errors reach callers as InvalidInput: the registry re-raises a MalformedFile with the
tool's name."""

from __future__ import annotations

import math
import os
import time

import labwright
import pytest
from labwright.errors import InvalidInput, LabwrightError, SimulationFailed

EVENTS = [
    {"source": ["insulin"], "relation": "activates", "target": ["insulin receptor"]},
    {"source": ["insulin receptor", "IRS1"], "relation": "phosphorylates", "target": ["PI3K"]},
]


def _fails_fast(tool: str, args: dict, error: type[LabwrightError], field: str | None = None, seconds: float = 10.0):
    """Call ``tool``; it must raise ``error`` (naming ``field``) within ``seconds`` (the old code took minutes)."""
    t0 = time.perf_counter()
    with pytest.raises(error) as err:
        labwright.call_tool(tool, args)
    assert time.perf_counter() - t0 < seconds
    if field is not None:
        assert err.value.field == field, err.value
    return err.value


@pytest.mark.parametrize(
    ("tool", "key", "extra"),
    [
        ("read_voltammogram", "path", {}),
        ("validate_mechanism", "path", {}),
        ("kg_stats", "store_path", {}),
        ("kg_export", "path", {}),
    ],
)
def test_nul_byte_in_a_path_names_the_field(tool, key, extra, tmp_path):
    # Old code: ValueError("embedded null byte") from the OS layer.
    err = _fails_fast(tool, {key: str(tmp_path / "a\x00b.csv"), **extra}, InvalidInput)
    assert key in err.field and "NUL" in err.reason


def test_a_directory_is_not_a_data_file(tmp_path):
    # Old code: IsADirectoryError from the mechanism reader, sqlite OperationalError for a store path.
    _fails_fast("validate_mechanism", {"path": str(tmp_path)}, InvalidInput, "path")
    _fails_fast("read_voltammogram", {"path": str(tmp_path)}, InvalidInput, "path")
    _fails_fast("kg_stats", {"store_path": str(tmp_path)}, InvalidInput, "store_path")


def test_dev_zero_is_refused_before_reading(tmp_path):
    # Old code: MemoryError (or no end) reading /dev/zero to its end; reached here through a symlink as well.
    link = tmp_path / "data.csv"
    link.symlink_to("/dev/zero")
    for path in ("/dev/zero", str(link)):
        err = _fails_fast("read_voltammogram", {"path": path}, InvalidInput, "path")
        assert "device" in err.reason


def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    _fails_fast("validate_mechanism", {"path": str(fifo)}, InvalidInput, "path")


def test_binary_and_invalid_utf8_files_are_malformed(tmp_path):
    # Old code: UnicodeDecodeError from the mechanism reader.
    binary = tmp_path / "mech.yaml"
    binary.write_bytes(bytes(range(256)) * 16)
    _fails_fast("validate_mechanism", {"path": str(binary)}, InvalidInput, "path")
    csv = tmp_path / "cv.csv"
    csv.write_bytes(b"E,I\n\x00\x01\x02" + bytes(range(256)))
    err = _fails_fast("read_voltammogram", {"path": str(csv)}, InvalidInput, "path")
    assert "binary" in err.reason


def test_store_path_that_is_not_a_database(tmp_path):
    # Old code: sqlite3.DatabaseError("file is not a database").
    bad = tmp_path / "notes.sqlite"
    bad.write_bytes(b"just some text, not SQLite\n" * 100)
    _fails_fast("kg_stats", {"store_path": str(bad)}, InvalidInput, "store_path")


def test_kg_export_never_replaces_a_device(tmp_path):
    # Old code: the atomic os.replace swapped the device node for the JSON export (seen as root on /dev/zero).
    labwright.call_tool("kg_ingest_events", {"events": EVENTS, "document_id": "d1"})
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    _fails_fast("kg_export", {"path": str(link)}, InvalidInput, "path")
    assert link.is_symlink() and os.path.realpath(link) == "/dev/null"


def test_100k_character_smiles_is_refused_at_once():
    # Old code: RDKit canonicalised 100,000 carbons for > 150 s.
    err = _fails_fast("canonicalize_smiles", {"smiles": "C" * 100_000}, InvalidInput, "smiles", seconds=1.0)
    assert "2,000" in err.reason


def test_non_ascii_smiles_is_refused():
    # Old code: RDKit's logging bridge raised SystemError on undecodable characters.
    found = "\x93´\U000fc2d9gR9©@\U00103681謓\U00098c4b-\U000ab4b5\U000bb2de&£e\U00063584\x8a½ÞÔ4\x9f𐀜îa桹\U00040c1f;"
    _fails_fast("describe_molecule", {"smiles": found}, InvalidInput, "smiles")  # as the fuzzer found it


@pytest.mark.parametrize("tool", ["kg_stats", "kg_hypotheses", "kg_paths"])
def test_s_above_the_largest_hyperedge(tool):
    # Old code: s = 2**63 computed n_nodes ** s, for > 150 s.
    labwright.call_tool("kg_ingest_events", {"events": EVENTS, "document_id": "d1"})
    args = {"s": 2**63} if tool == "kg_stats" else {"a": "insulin", "b": "PI3K", "s": 2**63, "use_llm": False}
    if tool == "kg_paths":
        args.pop("use_llm")
    err = _fails_fast(tool, args, InvalidInput, "s", seconds=5.0)
    assert "largest hyperedge" in err.reason
    ok = labwright.call_tool(tool, {**args, "s": 3})  # the largest edge has 3 nodes: allowed
    assert ok is not None


def test_ssa_with_t_end_1e308_is_bounded():
    # Old code: 200 trajectories × 10^7 events each, 69 s, before failing.
    args = {"reactions": ["0 -> X; kf=5", "X -> 0; kf=0.5"], "initial": {"X": 0}, "t_end": 1e308}
    _fails_fast("simulate_ssa", {**args, "max_events": 10_000_000}, InvalidInput, "max_events")
    with pytest.raises(SimulationFailed, match="limit of"):  # the default budget runs out quickly and says so
        labwright.call_tool("simulate_ssa", {**args, "n_trajectories": 1000, "n_points": 3})


@pytest.mark.parametrize(("area", "concentration"), [(1e-300, 1.0), (1e-300, 1e-300)])
def test_cottrell_with_tiny_area_times_concentration(area, concentration):
    # Old code: OverflowError (1e-300) and ZeroDivisionError (1e-600 underflows to 0).
    t = [0.05 * i for i in range(1, 100)]
    current = [96485 * 1e-6 * math.sqrt(1e-9 / (math.pi * x)) for x in t]
    args = {"t": t, "I": current, "area": area, "concentration": concentration}
    err = _fails_fast("cottrell_analysis", args, InvalidInput, "area")
    assert "not finite" in err.reason and "area" in err.field


def test_simulate_cv_nan_current_is_a_simulation_failure():
    # Old code: the NaN current reached the output model and failed as a pydantic ValidationError.
    args = {"E_start": -50.0, "E_vertex": 50.0, "scan_rate": 0.1, "dE": 0.05, "k0": 1e300}
    with pytest.raises(SimulationFailed, match="not finite"):
        labwright.call_tool("simulate_cv", args)


def test_simulate_ca_petabyte_request_is_refused_before_allocating():
    # Old code: numpy asked for 1.78 PiB (MemoryError), or OverflowError converting inf samples to int.
    for durations, dt in (([1e308], 1e-300), ([5e14], 5e-3)):
        args = {"E_initial": -0.5, "E_steps": [0.5], "durations": durations, "dt": dt}
        err = _fails_fast("simulate_ca", args, InvalidInput, "dt", seconds=1.0)
        assert "limit" in err.reason


def test_cme_prices_its_direct_solve():
    # Found by the fuzzer: three species at the default caps (10^6 states, cut to max_states) ran for minutes on an
    # estimate of 1 s. Measured 9,261 states in 6 s and 68,921 in > 5 min; the estimate now grows ~n².
    spec = labwright.get_tool("cme_stationary")
    three = [f"0 -> {x}; kf=5" for x in "XYZ"] + [f"{x} -> 0; kf=0.5" for x in "XYZ"]
    small = spec.estimate_cost({"reactions": three[::3], "initial": {"X": 0}, "max_counts": {"X": 80}}).seconds
    large = spec.estimate_cost({"reactions": three, "initial": {"X": 0}}).seconds
    assert small < 2.0 and large > 600.0
    _fails_fast("cme_stationary", {"reactions": three, "initial": {"X": 0}, "max_states": 2_000_000}, InvalidInput)


def test_found_by_make_fuzz_lone_surrogate_and_empty_sweep():
    # kg_ingest_text: a lone surrogate in the title reached SQLite (UnicodeEncodeError). simulate_cv: a 1e-99 V window
    # gave a one-sample program, and t[1] raised IndexError.
    _fails_fast("kg_ingest_text", {"text": "abc", "document_id": "d", "title": "\ud800"}, InvalidInput, "title")
    args = {"E_start": -1e-99, "E_vertex": 1e-231, "scan_rate": 0.1, "report_peaks": False}
    _fails_fast("simulate_cv", args, InvalidInput, "E_vertex")


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("kg_stats", {"store_path": "~0"}),
        ("kg_ingest_batch", {"documents": [{"id": "d", "text": "AKT inhibits FOXO1."}], "store_path": "~0"}),
        ("export_sbml", {"reactions": ["A -> B; kf=1"], "path": "~0/net.xml"}),
    ],
)
def test_found_by_the_ci_fuzz_run_a_home_of_an_unknown_user(tool, args):
    # pathlib raises RuntimeError for '~0' (no user named 0): every path a tool expands says which field instead.
    with pytest.raises(InvalidInput, match="cannot expand '~0"):
        labwright.call_tool(tool, args)


# Found by `make fuzz` at 2,000 examples per tool on 15 processes (each raised a non-Labwright exception or hung).


def test_found_by_make_fuzz_non_ascii_smiles_inside_a_mechanism():
    # RDKit's error log cut the text mid-character and its Python log bridge raised SystemError inside the parser.
    from labwright.errors import InvalidSmiles
    from labwright.tools.chem import to_mol

    with pytest.raises(InvalidSmiles, match="printable ASCII"):
        to_mol(".m\xe6\x9f\U000cabba")
    steps = [{"reactants": ["CO"], "products": ["C\U000cabba\x95"]}]
    out = labwright.call_tool("validate_mechanism", {"mechanism": {"steps": steps}})
    assert not out.valid


def test_found_by_make_fuzz_seed_and_pdpc_ranges():
    # A 2**63 seed overflowed the C long JAX converts it to; a1 = 5e-324 divided by zero; T = 9e307 K gave NaN slopes.
    ssa = {"reactions": ["0 -> X; kf=5", "X -> 0; kf=0.5"], "initial": {"X": 0}, "t_end": 2.0, "seed": 2**63}
    _fails_fast("simulate_ssa", ssa, InvalidInput, "seed")
    with pytest.raises(InvalidInput, match="a1 = 4.94066e-324 is outside"):
        labwright.call_tool("pdpc_response", {"parameters": {"a1": 5e-324}})
    _fails_fast("pdpc_response", {"temperature": 8.98e307}, InvalidInput, "temperature")
    # a swept capacity ratio of 1e-308 gave non-finite slopes in the response curve (SciPy's ValueError)
    _fails_fast("pdpc_response", {"signal_ratio_min": 2.2250738585072014e-308}, InvalidInput, "signal_ratio_min")


def test_found_by_make_fuzz_nicholson_beyond_floating_point():
    # v·D so small that sqrt(pi D a) underflows: psi came out NaN and failed the output model.
    args = {"peak_separations": [2.94e307], "scan_rates": [1e-300], "D": 2.25e-292, "n": 6, "alpha": 0.7}
    _fails_fast("nicholson_k0", args, InvalidInput, "peak_separations")


def test_found_by_make_fuzz_fit_inputs_beyond_any_potentiostat():
    # E = 1e18 V reached LAPACK's SVD (LinAlgError); currents near 1e308 made the fit-quality noise NaN.
    import numpy as np
    from labwright.tools.electrochem._fit_quality import assess_fit, lag1_autocorrelation
    from labwright.tools.electrochem._peaks import noise_level

    E = [round(-0.3 + 0.01 * k, 4) for k in range(61)]
    E[4] = 1e18
    cv = {"E": E, "I": [1e-6 * math.sin(k / 5) for k in range(61)], "scan_rate": 0.1}
    err = _fails_fast("fit_cv", {"voltammograms": [cv], "fixed": {"area": 1e-6, "c_bulk": 1.0}}, InvalidInput)
    assert "over ±100 V" in str(err)
    huge = 1e307 * np.sin(np.linspace(0, 9, 200)) + 1e306 * np.cos(np.linspace(0, 300, 200))
    assert 0 < noise_level(huge) < 1 and math.isfinite(lag1_autocorrelation(huge))
    q = assess_fit([huge / 1e307], [huge], [1e307], ["k0"], np.array([0.0]), np.array([-1.0]), np.array([1.0]))
    assert math.isfinite(q.residual_to_noise) and all(math.isfinite(x) for x in q.noise_relative)
    # residuals of 1e306 peak currents over a 2e-3 noise floor overflowed the ratio to inf
    absurd = assess_fit([np.full(50, 1e306)], [np.ones(50)], [1.0], ["k0"], np.zeros(1), -np.ones(1), np.ones(1))
    assert math.isfinite(absurd.residual_to_noise) and absurd.poor_fit


def test_found_by_make_fuzz_a_sweep_prices_its_tasks():
    # chunk_size = 1 over 100,000 CVs made 100,000 tasks, estimated as seconds and run for minutes.
    from labwright.scale._tools import TASK_SECONDS

    cell = {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1}
    vary = {"k0": [1e-3 * (1 + k) for k in range(100)], "alpha": [0.3 + 0.004 * k for k in range(100)]}
    spec = labwright.get_tool("sweep_cv")
    one = spec.estimate_cost({"cell": cell, "vary": vary, "chunk_size": 1}).seconds
    big = spec.estimate_cost({"cell": cell, "vary": vary, "chunk_size": 4096}).seconds
    assert one - big >= (10_000 - 3) * TASK_SECONDS["local"]


def test_found_by_make_fuzz_a_subnormal_in_a_sweep_fails_its_task_by_name():
    # XLA on the CPU flushes 5e-324 to 0, so the compiled simulator's own check refused it as a JaxRuntimeError.
    cell = {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "dE": 0.005}
    out = labwright.call_tool("sweep_cv", {"cell": cell, "vary": {"alpha": [0.4, 5e-324]}, "chunk_size": 1})
    assert [t.ok for t in out.tasks] == [True, False]
    assert "field 'alpha'" in out.tasks[1].error and out.i_pa[1] is None and out.i_pa[0] > 0


def test_found_by_make_fuzz_ray_that_cannot_start_names_the_backend(tmp_path):
    # A long TMPDIR puts Ray's sockets past the 107-byte AF_UNIX limit: an OSError from ray.init escaped the tool.
    pytest.importorskip("ray")
    import subprocess
    import sys

    deep = tmp_path / ("t" * 90)
    deep.mkdir()
    code = (
        "import labwright\n"
        "try:\n"
        "    labwright.call_tool('kg_ingest_batch', {'documents': [{'id': 'd', 'text': 'AKT inhibits FOXO1.'}],"
        " 'backend': 'ray', 'store_path': 'k.sqlite'})\n"
        "except labwright.errors.InvalidInput as err:\n"
        "    print('REFUSED', err.field, err)\n"
    )
    env = {**os.environ, "TMPDIR": str(deep), "RAY_TMPDIR": str(deep), "LABWRIGHT_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert "REFUSED backend" in proc.stdout and "Ray could not start" in proc.stdout, proc.stdout + proc.stderr[-2000:]


def test_found_by_make_fuzz_an_initial_amount_beyond_any_real_one():
    # A = 1e308 mol/m³ made the compiled fit's own finiteness check raise a JaxRuntimeError out of the tool.
    args = {"reactions": ["A -> B; kf=1"], "initial": {"A": 1e308}, "times": [0.0, 0.5, 1.0, 2.0]}
    _fails_fast("fit_rate_constants", {**args, "observed": {"A": [1.0, 0.61, 0.37, 0.14]}, "max_iter": 5}, InvalidInput)
    with pytest.raises(InvalidInput, match="initial.A"):
        labwright.call_tool("simulate_network", {"reactions": ["A -> B; kf=1"], "initial": {"A": 1e308}, "t_end": 2.0})


def test_found_by_make_fuzz_a_subnormal_grid_step():
    # grid_h0 = 5e-324 made the node count inf; int() raised OverflowError out of simulate_ca.
    args = {"E_initial": 0.0, "E_steps": [0.3], "durations": [1.0], "dt": 1e-3, "grid_h0": 5e-324}
    _fails_fast("simulate_ca", args, InvalidInput, "grid")


def test_found_by_make_fuzz_goldbeter_koshland_beyond_saturation():
    # W_T = 6e16 mol/m³ makes J1, J2 ~ 1e-16; with v1 > v2 the one-form root gave 0/0 -> inf and the output model
    # refused it. Zero-order limit (Goldbeter & Koshland 1981, PNAS 78:6840): f -> 0 for v1 < v2, 1 for v1 > v2.
    import numpy as np
    from labwright.tools.kinetics._pdpc import goldbeter_koshland

    f = goldbeter_koshland(np.array([0.5, 2.0, 1e6]), 1.0, 1e-16, 1e-16)
    np.testing.assert_allclose(f, [0.0, 1.0, 1.0], atol=1e-12)
    out = labwright.call_tool("pdpc_response", {"parameters": {"km1": 2.06e16, "W_total": 6.2e16}, "n_points": 20})
    assert all(0.0 <= x <= 1.0 for x in out.fraction_goldbeter_koshland)


@pytest.mark.slow
def test_found_by_make_fuzz_a_stiff_pdpc_sweep_stays_within_its_deadline():
    # k1 = a1 = 7.6e11 /s beside W_T/v ~ 1e8 s: stalled lanes ran their relaxation to 20,000 steps each, 186 s for
    # the 200-point sweep estimated at 9 s (deadline 150 s). The fuzz harness's judge is the test.
    from fuzz_harness import run_call

    args = {"signal_ratio_max": 7.6e11, "parameters": {"k1": 7.6e11, "a1": 7.6e11}, "temperature": 1.0}
    outcome = run_call("pdpc_response", args, run_cap_seconds=60.0)
    assert outcome.finding is None and outcome.kind in {"ok", "SimulationFailed"}, outcome


def test_found_by_make_fuzz_10k_run_values_beyond_floating_point(tmp_path):
    # The 10,000-per-tool run on 263e3c6: a 1.7e308 m sphere's area overflowed Python's float power; sample times of
    # 1e308 s made the fit's uniform resampling convert inf to int (or ask NumPy for 1e300 samples); currents 1e200
    # times the data's made the residual sum inf and failed the output model; '~name\x00' reached the user database.
    args = {"E_initial": 0.0, "E_steps": [0.3], "durations": [1.0], "dt": 1e-3, "geometry": "spherical"}
    _fails_fast("simulate_ca", {**args, "radius": 1.7e308}, InvalidInput, "radius")
    import numpy as np
    from labwright.tools.electrochem._fit import _resample_uniform

    t = np.array([0.0, 1.0, 1e308])
    with pytest.raises(InvalidInput, match="exceed the limit") as err:
        _resample_uniform(np.zeros(3), np.ones(3), t, 1.0, 0)
    assert err.value.field == "data.0.t"
    E = [round(-0.3 + 0.01 * k, 4) for k in range(61)] + [round(0.3 - 0.01 * k, 4) for k in range(1, 61)]
    cv = {"E": E, "I": [1e-6 * math.sin(k / 5) for k in range(len(E))], "scan_rate": 0.1}
    with pytest.raises(SimulationFailed, match="overflow float64"):
        labwright.call_tool("fit_cv", {"voltammograms": [cv], "fixed": {"area": 1e-6, "c_bulk": 1e200}})
    docs = [{"id": "d", "text": "AKT inhibits FOXO1."}]
    _fails_fast("kg_ingest_batch", {"documents": docs, "store_path": "~x\x00y"}, InvalidInput, "store_path")
