"""Benchmark: the first CV fit in a fresh process (cold start), with an empty and with a warm compilation cache.

Run: ``.venv/bin/python benchmarks/cold_start.py [--runs 2]``; ``main([])`` from another script returns the numbers.

Each measurement is a NEW Python process (``subprocess``) that imports labwright, reads the example files
``examples/data/redox_kinetics`` (3 scan rates, SYNTHETIC, 1 % noise) and times ``fit_cv`` (E mechanism, Butler–Volmer,
k0, alpha, D, E0) from the call to its return, then a second, warm fit in the same process. ``LABWRIGHT_HOME`` points
at a temporary folder, so the persistent JAX compilation cache (``tools/_runtime.py``: ``LABWRIGHT_HOME/jax_cache``)
starts empty for the first process ("empty cache": every XLA program is compiled) and holds that run's programs for
the next ones ("warm cache": programs are loaded from disk, tracing and lowering still run). Import time is reported
apart. Target (ANCHORS "Current targets"): first fit in a fresh process <= 5 s on 2 cores.

Besides wall time each process reports the first fit's CPU time (``time.process_time``: what the fit itself costs,
little changed by other jobs on a shared machine, unlike wall time) and, from ``jax.monitoring``, how many XLA
programs the first fit compiled (or loaded from the cache) with the seconds spent tracing, lowering to MLIR and in
XLA (compile or cache load). ``--repo PATH`` times another checkout of labwright (e.g. an export of an older commit)
in the same way, for before/after comparisons run back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "examples" / "data" / "redox_kinetics"

# the child: everything it times happens after ``import labwright`` (timed apart)
CHILD = """
import json, sys, time
t0 = time.perf_counter()
import labwright.tools  # noqa: F401  (JAX settings, the cache, every tool registered)
import jax.monitoring
from labwright.tools.electrochem import fit_cv, read_voltammogram_file
t_import = time.perf_counter() - t0
EVENTS = {"/jax/core/compile/jaxpr_trace_duration": "trace_s", "/jax/core/compile/backend_compile_duration": "xla_s",
          "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s"}
spent = dict.fromkeys(EVENTS.values(), 0.0) | {"programs": 0}
def listen(event, duration, **kwargs):
    if event in EVENTS:
        spent[EVENTS[event]] += duration
        spent["programs"] += event.endswith("backend_compile_duration")
jax.monitoring.register_event_duration_secs_listener(listen)
data_dir, rates = sys.argv[1], [0.05, 0.2, 0.5]
truth = json.load(open(data_dir + "/truth.json"))["parameters_SI"]
fixed = {k: truth[k] for k in ("area", "c_bulk", "T", "n")}
data = [read_voltammogram_file(f"{data_dir}/cv_{v:g}Vps.csv") for v in rates]
t0, c0 = time.perf_counter(), time.process_time()
first = fit_cv(data, "E", ["k0", "alpha", "D", "E0"], fixed=fixed)
t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
first_spent = dict(spent)
t0 = time.perf_counter()
fit_cv(data, "E", ["k0", "alpha", "D", "E0"], fixed=fixed)
t_warm = time.perf_counter() - t0
k0 = first.parameters["k0"].value
print(json.dumps({"import_s": t_import, "first_fit_s": t_first, "first_fit_cpu_s": c_first, "warm_fit_s": t_warm,
                  "k0": k0, "recompiled_in_second_fit": spent["programs"] - first_spent["programs"]} | first_spent))
"""


def fresh_process(home: str, repo: Path | None = None) -> dict[str, float]:
    """Run one child process with ``LABWRIGHT_HOME=home`` (and ``repo``'s parent folder, holding a ``labwright``
    package, first on the path if given); its timings (s) and fitted k0."""
    env = dict(os.environ, LABWRIGHT_HOME=home)
    if repo is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(repo)] + [p for p in [env.get("PYTHONPATH")] if p])
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(DATA)], env=env, capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="fresh processes per case (medians are reported)")
    ap.add_argument("--repo", type=Path, help="folder holding the labwright package to time (default: this one)")
    args = ap.parse_args(argv)
    repo = args.repo.resolve() if args.repo else None
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="labwright-cold-") as tmp:
        empty = []
        for i in range(args.runs):
            empty.append(fresh_process(str(Path(tmp) / f"empty{i}"), repo))  # a new, empty home each time
        warm = [fresh_process(str(Path(tmp) / "empty0"), repo) for _ in range(args.runs)]  # reuses run 0's cache
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    for label, runs in (("empty compilation cache", empty), ("warm persistent cache", warm)):
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{label:24s}: first fit {med['first_fit_s']:6.2f} s wall, {med['first_fit_cpu_s']:.2f} s CPU (medians of "
            f"{len(runs)} fresh processes; target <= 5 s wall); {runs[0]['programs']} XLA programs, trace "
            f"{med['trace_s']:.2f} s, lowering {med['lower_s']:.2f} s, XLA compile or cache load {med['xla_s']:.2f} s; "
            f"import {med['import_s']:.2f} s apart; second fit in the same process {med['warm_fit_s']:.3f} s "
            f"({runs[0]['recompiled_in_second_fit']} programs recompiled); k0 = {runs[0]['k0']:.4g} m/s"
        )
        key = "empty" if label.startswith("empty") else "warm"
        out[f"first_fit_{key}_cache_s"] = med["first_fit_s"]
        out[f"first_fit_cpu_{key}_cache_s"] = med["first_fit_cpu_s"]
        out[f"import_{key}_cache_s"] = med["import_s"]
        out[f"programs_{key}_cache"] = runs[0]["programs"]
    return out


if __name__ == "__main__":
    main()
