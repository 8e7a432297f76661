"""``make fuzz``: drive every registered tool with many generated calls and write a table of what happened.

Usage: ``python tests/fuzz/fuzz_report.py [--examples N] [--tools a,b] [--out FILE] [--run-cap SECONDS]
[--jobs J] [--chunk C] [--seconds S]``.
Exits 1 if any call raised something other than a LabwrightError, ran past its deadline or wrote outside the sandbox.

With ``--jobs J`` each tool's examples are cut into chunks of ``C`` and J worker processes (each in its own sandbox)
take chunks until all are done or ``--seconds`` have passed; the table then says how many examples each tool got.
Hypothesis draws independently in each chunk, so chunks do not repeat one another's examples.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import labwright
from fuzz_harness import Outcome, Sandbox, devices_intact, run_call, snapshot, tool_args, watched_roots
from hypothesis import HealthCheck, Phase, given, settings

REPO = Path(__file__).resolve().parents[2]


def fuzz_tool(name: str, sandbox: Sandbox, examples: int, run_cap: float) -> list[Outcome]:
    """``examples`` generated calls of tool ``name``; every outcome, findings included (nothing is raised)."""
    outcomes: list[Outcome] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(tool_args(name, sandbox))
    def one(args: dict) -> None:
        outcomes.append(run_call(name, args, run_cap_seconds=run_cap))

    one()
    return outcomes


def table(results: dict[str, list[Outcome]]) -> str:
    lines = ["| tool | examples | outcomes | slowest call (s) |", "|---|---|---|---|"]
    for name, outs in results.items():
        counts = collections.Counter(o.kind for o in outs)
        shown = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        slowest = max((o.seconds for o in outs), default=0.0)
        lines.append(f"| {name} | {len(outs)} | {shown} | {slowest:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=10_000, help="generated calls per tool")
    ap.add_argument("--tools", default="", help="comma-separated tool names (default: every registered tool)")
    ap.add_argument("--out", default="fuzz-report.md", help="where the table and findings are written")
    ap.add_argument("--run-cap", type=float, default=30.0, help="calls estimated above this are validated, not run")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (1: everything in this process)")
    ap.add_argument("--chunk", type=int, default=500, help="examples per work item when --jobs > 1")
    ap.add_argument("--seconds", type=float, default=float("inf"), help="with --jobs > 1: start no chunk after this")
    opts = ap.parse_args(argv)
    names = [n for n in opts.tools.split(",") if n] or labwright.list_tools()
    results: dict[str, list[Outcome]] = {n: [] for n in names}
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="labwright-fuzz-") as tmp:
        sandbox = Sandbox.create(Path(tmp) / "main")
        before = snapshot(watched_roots(REPO), exclude=Path(tmp))
        if opts.jobs > 1:
            findings += _in_workers(names, opts, Path(tmp), results)
        else:
            with sandbox.active():
                for name in names:
                    t0 = time.perf_counter()
                    results[name] = fuzz_tool(name, sandbox, opts.examples, opts.run_cap)
                    findings += [o.finding for o in results[name] if o.finding]
                    print(f"{name}: {len(results[name])} calls in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
                    _write(opts.out, results, findings)  # after every tool: an interrupted run leaves its table
        created = sorted(snapshot(watched_roots(REPO), exclude=Path(tmp)) - before)
    findings += [f"file created outside the sandbox: {p}" for p in created]
    findings += [f"device replaced by a tool: {d}" for d in devices_intact()]
    print(_write(opts.out, results, findings))
    return 1 if findings else 0


def _chunk(name: str, examples: int, run_cap: float, root: str) -> list[Outcome]:
    """One work item in a worker process: ``examples`` calls of ``name`` in a fresh sandbox under ``root``."""
    sandbox = Sandbox.create(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root)))
    with sandbox.active():
        return fuzz_tool(name, sandbox, examples, run_cap)


def _in_workers(names: list[str], opts: argparse.Namespace, root: Path, results: dict[str, list[Outcome]]) -> list[str]:
    """Chunks of every tool across ``opts.jobs`` spawned processes (JAX and forked processes do not mix).

    A worker that dies (a hang past the harness's faulthandler limit, whose traceback goes to stderr, or a crash) is
    itself a finding. It breaks the whole pool, so a new pool takes over and the chunks that were running in the
    other workers start again (once each).
    """
    sizes = [min(opts.chunk, opts.examples - i) for i in range(0, opts.examples, opts.chunk)]
    # (chunk number, tool, examples): round-robin over the tools, so a time budget leaves every tool equally covered
    queue = [(i, n, k) for i, (n, k) in enumerate((n, k) for k in sizes for n in names)]
    findings: list[str] = []
    start = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    retried: set[int] = set()
    while queue and time.perf_counter() - start < opts.seconds:
        pool = cf.ProcessPoolExecutor(opts.jobs, mp_context=ctx)
        pending: dict[cf.Future, tuple[int, str, int]] = {}
        lost: list[tuple[int, str, int]] = []
        while queue or pending:
            while queue and len(pending) < opts.jobs and time.perf_counter() - start < opts.seconds:
                item = queue.pop(0)
                pending[pool.submit(_chunk, item[1], item[2], opts.run_cap, str(root))] = item
            if not pending:
                break
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                item = pending.pop(fut)
                _, name, _k = item
                try:
                    outs = fut.result()
                except cf.process.BrokenProcessPool:
                    lost.append(item)
                    continue
                results[name] += outs
                findings += [o.finding for o in outs if o.finding]
                _write(opts.out, results, findings)
                elapsed = time.perf_counter() - start
                print(f"{name}: +{len(outs)} ({len(results[name])}) at {elapsed:.0f} s", file=sys.stderr)
            if lost:
                lost += list(pending.values())  # a broken pool fails every chunk it held
                break
        # waiting on a pool whose worker died can block for good, so a broken pool is left without waiting
        pool.shutdown(wait=not lost, cancel_futures=bool(lost))
        if lost:
            running = ", ".join(sorted({name for _, name, _ in lost}))
            findings.append(f"a worker died (hang or crash; its traceback is on stderr) while chunks of {running} ran")
            queue = [item for item in lost if item[0] not in retried] + queue
            retried |= {item[0] for item in lost}
    if queue:
        print(f"time budget reached: {len(queue)} chunks not started", file=sys.stderr)
    return findings


def _write(out: str, results: dict[str, list[Outcome]], findings: list[str]) -> str:
    report = f"# labwright fuzz report\n\n{table(results)}\n\n## Findings ({len(findings)})\n\n"
    report += "\n".join(f"- {f}" for f in findings) or "none"
    Path(out).write_text(report + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    sys.exit(main())
