"""Batch jobs on 1 vs 2 Ray workers against the local (single-process) path: CVs/s, fits/s and per-call overhead.

Workloads (the same for every backend, same results to 1e-12 as tests/scale check):
* sweep: 4,096 CVs (k0 x alpha x E0 grid), BV kinetics, +-0.3 V at 0.1 V/s, 2 mV steps, chunks of 512;
* fits: 8 single-scan-rate CVs fitted for k0 and E0;
* overhead: a job of one trivial task (Ray scheduling + serialisation, against a direct call).

Each backend runs every workload once cold (compiles on each worker) and then ``--repeats`` warm times; the table
shows the median of the warm runs, the cold time apart. Ray clusters are started with ``num_cpus`` = 1 and 2 in
turn (``ray.init()`` with no address: a local cluster). On a 2-core machine two workers compete with the driver,
so expect well under 2x.

    python benchmarks/scale.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _time(fn, repeats: int) -> tuple[float, float]:
    t = time.perf_counter()
    fn()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import ray
    from labwright.scale import LocalExecutor, RayExecutor, batch_fit_cv, sweep_cv
    from labwright.scale._executor import payload_sha256
    from labwright.tools.electrochem import simulate_cv

    cell = {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "dE": 2e-3}
    vary = {
        "k0": list(np.geomspace(1e-6, 1e-1, 16)),
        "alpha": list(np.linspace(0.3, 0.7, 16)),
        "E0": list(np.linspace(-0.02, 0.02, 16)),
    }
    n_cvs = 16**3
    datasets = []
    for k0 in np.geomspace(1e-5, 1e-3, 8):
        sim = simulate_cv(**cell, k0=float(k0), report_peaks=False, max_points=151)
        datasets.append(
            {
                "voltammograms": [{"E": sim.E, "I": sim.I, "t": sim.t, "scan_rate": 0.1}],
                "params_to_fit": ["k0", "E0"],
                "fixed": {"alpha": 0.5, "D_O": 1e-9, "D_R": 1e-9, "c_bulk": 1.0, "area": 1e-6},
                "initial": {"k0": 1e-4, "E0": 0.01},
                "max_points": 150,
            }
        )

    rows = []

    def measure(label: str, backend: str) -> None:
        sweep_cold, sweep = _time(lambda: sweep_cv(cell=cell, vary=vary, chunk_size=512, backend=backend), args.repeats)
        fit_cold, fits = _time(lambda: batch_fit_cv(datasets=datasets, backend=backend), args.repeats)
        ex = LocalExecutor() if backend == "local" else RayExecutor()
        # A trivial task: hashing a one-number payload (microseconds), so the time is the executor's.
        _, overhead = _time(lambda: ex.map(payload_sha256, [0]), max(args.repeats, 20))
        rows.append((label, n_cvs / sweep, sweep_cold, len(datasets) / fits, fit_cold, overhead * 1e3))

    measure("local (this process)", "local")
    for cpus in (1, 2):
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, object_store_memory=256 * 2**20)
        measure(f"ray, {cpus} worker(s)", "ray")
        ray.shutdown()

    print(f"sweep: {n_cvs} CVs in chunks of 512; fits: {len(datasets)} datasets; medians of {args.repeats} warm runs")
    print(f"{'backend':22s} {'CVs/s':>9s} {'cold s':>8s} {'fits/s':>8s} {'cold s':>8s} {'1-task job ms':>14s}")
    for label, cvs, sc, fps, fc, oh in rows:
        print(f"{label:22s} {cvs:9.0f} {sc:8.2f} {fps:8.2f} {fc:8.2f} {oh:14.2f}")
    base = rows[0]
    for label, cvs, _, fps, _, oh in rows[1:]:
        print(
            f"{label}: {cvs / base[1]:.2f}x local CVs/s, {fps / base[3]:.2f}x local fits/s, +{oh - base[5]:.2f} ms/job"
        )


if __name__ == "__main__":
    main()
