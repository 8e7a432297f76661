"""Benchmark: the first CV fit in a fresh process (cold start), with an empty and with a warm compilation cache.

Run: ``.venv/bin/python benchmarks/cold_start.py [--runs 2]``; ``main([])`` from another script returns the numbers.

Each measurement is a NEW Python process (``subprocess``) that imports labwright, reads the example files
``examples/data/redox_kinetics`` (3 scan rates, SYNTHETIC, 1 % noise) and times ``fit_cv`` (E mechanism, Butler–Volmer,
k0, alpha, D, E0) from the call to its return, then a second, warm fit in the same process. ``LABWRIGHT_HOME`` points
at a temporary folder, so the persistent JAX compilation cache (``tools/_runtime.py``: ``LABWRIGHT_HOME/jax_cache``)
starts empty for the first process ("empty cache": every XLA program is compiled) and holds that run's programs for
the next ones ("warm cache": programs are loaded from disk, tracing and lowering still run). Import time is reported
apart. Target (ANCHORS "Current targets"): first fit in a fresh process <= 5 s on 2 cores.
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
from labwright.tools.electrochem import fit_cv, read_voltammogram_file
t_import = time.perf_counter() - t0
data_dir, rates = sys.argv[1], [0.05, 0.2, 0.5]
truth = json.load(open(data_dir + "/truth.json"))["parameters_SI"]
fixed = {k: truth[k] for k in ("area", "c_bulk", "T", "n")}
data = [read_voltammogram_file(f"{data_dir}/cv_{v:g}Vps.csv") for v in rates]
t0 = time.perf_counter()
first = fit_cv(data, "E", ["k0", "alpha", "D", "E0"], fixed=fixed)
t_first = time.perf_counter() - t0
t0 = time.perf_counter()
fit_cv(data, "E", ["k0", "alpha", "D", "E0"], fixed=fixed)
t_warm = time.perf_counter() - t0
k0 = first.parameters["k0"].value
print(json.dumps({"import_s": t_import, "first_fit_s": t_first, "warm_fit_s": t_warm, "k0": k0}))
"""


def fresh_process(home: str) -> dict[str, float]:
    """Run one child process with ``LABWRIGHT_HOME=home``; its timings (s) and fitted k0."""
    env = dict(os.environ, LABWRIGHT_HOME=home)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(DATA)], env=env, capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="fresh processes per case (medians are reported)")
    args = ap.parse_args(argv)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="labwright-cold-") as tmp:
        empty = []
        for i in range(args.runs):
            empty.append(fresh_process(str(Path(tmp) / f"empty{i}")))  # a new, empty home each time
        warm = [fresh_process(str(Path(tmp) / "empty0")) for _ in range(args.runs)]  # reuses run 0's cache
    for label, runs in (("empty compilation cache", empty), ("warm persistent cache", warm)):
        first = statistics.median(r["first_fit_s"] for r in runs)
        print(
            f"{label:24s}: first fit {first:6.2f} s (median of {len(runs)} fresh processes; target <= 5 s), "
            f"import {statistics.median(r['import_s'] for r in runs):.2f} s, second fit in the same process "
            f"{statistics.median(r['warm_fit_s'] for r in runs):.3f} s; k0 = {runs[0]['k0']:.4g} m/s"
        )
        key = "empty" if label.startswith("empty") else "warm"
        out[f"first_fit_{key}_cache_s"] = first
        out[f"import_{key}_cache_s"] = statistics.median(r["import_s"] for r in runs)
    return out


if __name__ == "__main__":
    main()
