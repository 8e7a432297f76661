"""``make fuzz``: drive every registered tool with many generated calls and write a table of what happened.

Usage: ``python tests/fuzz/fuzz_report.py [--examples N] [--tools a,b] [--out FILE] [--run-cap SECONDS]``.
Exits 1 if any call raised something other than a LabwrightError, ran past its deadline or wrote outside the sandbox.
"""

from __future__ import annotations

import argparse
import collections
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
    opts = ap.parse_args(argv)
    names = [n for n in opts.tools.split(",") if n] or labwright.list_tools()
    results: dict[str, list[Outcome]] = {}
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="labwright-fuzz-") as tmp:
        sandbox = Sandbox.create(Path(tmp))
        before = snapshot(watched_roots(REPO), exclude=sandbox.root)
        with sandbox.active():
            for name in names:
                t0 = time.perf_counter()
                results[name] = fuzz_tool(name, sandbox, opts.examples, opts.run_cap)
                findings += [o.finding for o in results[name] if o.finding]
                print(f"{name}: {len(results[name])} calls in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
                _write(opts.out, results, findings)  # after every tool, so that an interrupted run leaves its table
        created = sorted(snapshot(watched_roots(REPO), exclude=sandbox.root) - before)
    findings += [f"file created outside the sandbox: {p}" for p in created]
    findings += [f"device replaced by a tool: {d}" for d in devices_intact()]
    print(_write(opts.out, results, findings))
    return 1 if findings else 0


def _write(out: str, results: dict[str, list[Outcome]], findings: list[str]) -> str:
    report = f"# labwright fuzz report\n\n{table(results)}\n\n## Findings ({len(findings)})\n\n"
    report += "\n".join(f"- {f}" for f in findings) or "none"
    Path(out).write_text(report + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    sys.exit(main())
