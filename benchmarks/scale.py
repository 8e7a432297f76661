"""Batch jobs on 1 vs 2 Ray workers against the local (single-process) path: CVs/s, fits/s and per-call overhead.

Workloads (the same for every backend, same results to 1e-12 as tests/scale check):
* sweep: 4,096 CVs (k0 x alpha x E0 grid), BV kinetics, +-0.3 V at 0.1 V/s, 2 mV steps, chunks of 512;
* fits: 8 single-scan-rate CVs fitted for k0 and E0;
* overhead: a job of one trivial task (Ray scheduling + serialisation, against a direct call).
* storage: the per-call cost of the governance records on PostgreSQL against the embedded SQLite files: an audit
  append (hash chain + anchor line), a ledger reserve + put_result pair, and a LangGraph checkpoint put (a ~2 kB
  state), each the median of ``--calls`` warm calls on one open store; the first call (open, schema) apart.
  PostgreSQL is a real local server started with pgserver in a temporary folder (Unix socket, same machine), or
  ``--database-url``; its numbers grow by the network round trip on a remote server. PostgreSQL flushes its WAL to
  disk at every COMMIT (``synchronous_commit=on``, its default and labwright's), so an acknowledged audit row
  survives a power loss; the embedded SQLite files (WAL, ``synchronous=NORMAL``) do not flush per commit. The
  ``async commit`` column shows the same calls with ``synchronous_commit=off`` (set per connection in the URL:
  ``?options=-csynchronous_commit%3Doff``): the flush is most of PostgreSQL's per-call cost on a local disk.

Each backend runs every workload once cold (compiles on each worker) and then ``--repeats`` warm times; the table
shows the median of the warm runs, the cold time apart. Ray clusters are started with ``num_cpus`` = 1 and 2 in
turn (``ray.init()`` with no address: a local cluster). On a 2-core machine two workers compete with the driver,
so expect well under 2x.

    python benchmarks/scale.py [--repeats 3] [--calls 200] [--only ray|storage] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

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


def _per_call(fn, calls: int) -> tuple[float, float]:
    """(first call, median of ``calls`` warm calls), seconds; ``fn(i)`` makes call number ``i``."""
    t = time.perf_counter()
    fn(0)
    cold = time.perf_counter() - t
    warm = []
    for i in range(1, calls + 1):
        t = time.perf_counter()
        fn(i)
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm)


def _storage_rows(target: str, home: Path, calls: int, tag: str) -> list[tuple[str, float, float]]:
    """(operation, first call s, warm median s) for the audit log, ledger and checkpointer at ``target``; ``tag``
    keeps the keys of two runs on one database apart (a repeated key would be a no-op, not the same work)."""
    from labwright.agents._checkpoints import checkpointer
    from labwright.agents.audit import AuditLog
    from labwright.agents.ledger import Ledger
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    rows = []
    t = time.perf_counter()
    log = AuditLog(target, anchor=home / "audit.anchor", key=home / "audit.key")
    opened = time.perf_counter() - t

    def append(i: int) -> None:
        log.append(run_id="bench", actor="worker", event="tool_result", tool="simulate_cv", result={"i": i})

    cold, warm = _per_call(append, calls)
    rows.append(("audit append", opened + cold, warm))
    assert log.verify().ok
    t = time.perf_counter()
    ledger = Ledger(target)
    opened = time.perf_counter() - t

    def reserve_and_store(i: int) -> None:
        key = f"{tag}-call-{i}"
        ledger.reserve(key=key, run_id="bench", step_key="s", role="r", tool="t", seconds=0.1, force=True)
        ledger.put_result(
            key=key, run_id="bench", step_key="s", role="r", tool="t", args={"i": i}, status="ok",
            result={"value": i}, message="ok", approver=None, seconds=0.1,
        )  # fmt: skip

    cold, warm = _per_call(reserve_and_store, calls)
    rows.append(("ledger reserve+put_result", opened + cold, warm))
    state = {"messages": [{"role": "tool", "content": "x" * 2000}]}
    t = time.perf_counter()
    with checkpointer(target) as saver:
        opened = time.perf_counter() - t
        config = {"configurable": {"thread_id": f"bench-{tag}", "checkpoint_ns": ""}}

        def put(i: int) -> None:
            nonlocal config
            cp = empty_checkpoint()
            cp["id"] = str(uuid6(clock_seq=i))
            cp["channel_values"] = {"state": state}
            cp["channel_versions"] = {"state": i + 1}
            config = saver.put(config, cp, {"step": i}, {"state": i + 1})

        cold, warm = _per_call(put, calls)
        rows.append(("checkpoint put", opened + cold, warm))
    log.close()
    ledger.close()
    return rows


def storage(calls: int, database_url: str | None) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lw-bench-") as folder:
        home = Path(folder)
        server = None
        if database_url is None:
            import pgserver

            server = pgserver.get_server(home / "server", cleanup_mode="stop")
            database_url = server.get_uri()
        try:
            lite = _storage_rows(str(home / "store.sqlite"), home / "sqlite", calls, "a")
            pg = _storage_rows(database_url, home / "pg", calls, "b")
            sep = "&" if "?" in database_url else "?"  # one database, so one audit chain and one anchor for both
            relaxed = _storage_rows(database_url + sep + "options=-csynchronous_commit%3Doff", home / "pg", calls, "c")
        finally:
            if server is not None:
                server.cleanup()
    print(f"storage: per-call cost, median of {calls} warm calls (first call, with open and schema, apart)")
    print(f"{'operation':26s} {'SQLite ms':>10s} {'PostgreSQL ms':>14s} {'ratio':>6s} {'async commit ms':>16s} "
          f"{'SQLite 1st ms':>14s} {'PG 1st ms':>10s}")  # fmt: skip
    for (name, lite_cold, lite_warm), (_, pg_cold, pg_warm), (_, _, fast) in zip(lite, pg, relaxed):
        print(
            f"{name:26s} {lite_warm * 1e3:10.3f} {pg_warm * 1e3:14.3f} {pg_warm / lite_warm:6.0f} {fast * 1e3:16.3f} "
            f"{lite_cold * 1e3:14.1f} {pg_cold * 1e3:10.1f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--calls", type=int, default=200, help="warm calls per storage operation")
    ap.add_argument("--only", choices=("ray", "storage"), help="run one part (default: both)")
    ap.add_argument("--database-url", help="PostgreSQL to time (default: a local server started with pgserver)")
    args = ap.parse_args()
    if args.only != "ray":
        storage(args.calls, args.database_url)
    if args.only != "storage":
        ray_backends(args)


def ray_backends(args: argparse.Namespace) -> None:
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
