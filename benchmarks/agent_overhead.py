"""Orchestration overhead of the governed agent graph per step, and checkpoint bytes per step.

A "step" is one governed tool call inside a worker's loop: the planner turn that asks for it (replayable, stored in
the ledger), the policy gate, budget check, idempotency lookup, the call itself, storing its result and three audit
rows. The tool is trivial (returns its input), so the time is orchestration. Measured with the offline planner,
SQLite checkpoints (``durability="sync"``), audit log and ledger on disk, side by side with:

* the bare tool call (``ToolSpec.run``), the floor;
* :func:`governed_call` alone in a loop (the governance core without the graph), with the tool in a warm worker
  process (how every labwright tool runs: killable at its deadline) and, for comparison, in the caller's thread (a
  tool defined in a function, which a worker cannot import).

Target (ANCHORS.md "Current targets"): <= 2 ms per step.

Run: ``.venv/bin/python benchmarks/agent_overhead.py [--calls 20] [--runs 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from labwright.tools.fields import ToolModel
from labwright.tools.registry import Cost, tool
from pydantic import Field


class EchoIn(ToolModel):
    value: float = Field(description="any number")


class EchoOut(ToolModel):
    value: float


@tool(name="bench_echo", cost=lambda inp: Cost(seconds=1e-4))
def bench_echo(inp: EchoIn) -> EchoOut:
    """Return the value given (a trivial tool for the overhead benchmark)."""
    return EchoOut(value=inp.value)


def _register_trivial_tool() -> None:
    from labwright.agents import roles

    @tool(name="bench_echo_inline", cost=lambda inp: Cost(seconds=1e-4))
    def bench_echo_inline(inp: EchoIn) -> EchoOut:
        """Return the value given, in the caller's thread (defined in a function: no worker can import it)."""
        return EchoOut(value=inp.value)

    old = roles.ROLES["kineticist"]
    roles.ROLES["kineticist"] = roles.Role(old.name, old.description, old.tools | {"bench_echo", "bench_echo_inline"})


def _time_bare(n: int) -> float:
    from labwright.tools.registry import get_tool

    spec = get_tool("bench_echo")
    t0 = time.perf_counter()
    for i in range(n):
        spec.run({"value": float(i)})
    return (time.perf_counter() - t0) / n


def _time_governed(n: int, name: str = "bench_echo") -> tuple[float, float]:
    """(cold first call, median of warm calls), s."""
    from labwright.agents.budget import Budget
    from labwright.agents.governance import RunContext, governed_call

    ctx = RunContext.open(f"bench-governed-{name}", budget=Budget(max_tool_calls=None))
    times = []
    for i in range(n + 1):
        t0 = time.perf_counter()
        out = governed_call(ctx, "kineticist", name, {"value": float(i)}, step_key=f"s{i}")
        times.append(time.perf_counter() - t0)
        assert out.ok, out.message
    return times[0], statistics.median(times[1:])


def _time_graph(calls: int, runs: int) -> tuple[list[float], list[float], list[int], int]:
    from labwright.agents.lab import Lab

    lab = Lab(budget={"max_tool_calls": 10_000})
    request = " ".join(f"bench_echo(value={i}.5)" for i in range(calls))
    lab.chat(request)  # warm-up (imports, first checkpoint tables)
    per_step, per_run, nbytes = [], [], []
    supersteps = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        reply = lab.chat(request)
        dt = time.perf_counter() - t0
        assert reply.status == "answered" and reply.usage.tool_calls == calls, reply
        per_run.append(dt)
        per_step.append(dt / calls)
        nbytes.append(lab.runs.checkpoint_bytes(reply.run_id))
        supersteps = len(list(lab.runs.graph.get_state_history({"configurable": {"thread_id": reply.run_id}})))
    return per_step, per_run, nbytes, supersteps


def _time_single_call_runs(runs: int) -> float:
    """Median wall time of a whole run whose request makes one trivial call (plan, worker, review, answer)."""
    from labwright.agents.lab import Lab

    lab = Lab(budget={"max_tool_calls": 10_000})
    lab.chat("bench_echo(value=0.5)")  # warm-up
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        reply = lab.chat(f"bench_echo(value={i}.25)")
        times.append(time.perf_counter() - t0)
        assert reply.status == "answered" and reply.usage.tool_calls == 1, reply
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="tool calls per run (one worker)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["LABWRIGHT_HOME"] = home
        for var in ("LABWRIGHT_BASE_URL", "LABWRIGHT_MODEL"):
            os.environ.pop(var, None)
        _register_trivial_tool()
        bare = _time_bare(2000)
        cold, governed = _time_governed(200)
        _, inline = _time_governed(200, "bench_echo_inline")
        per_step, per_run, nbytes, supersteps = _time_graph(args.calls, args.runs)
        single = _time_single_call_runs(args.runs)
        ckpt_bytes = sum(p.stat().st_size for p in Path(home).glob("checkpoints.sqlite*"))
        med_step = statistics.median(per_step)
        med_bytes = statistics.median(nbytes)
        print(f"agent orchestration overhead (offline planner, trivial tool, {args.calls} calls/run, {args.runs} runs)")
        print(f"  bare tool call (ToolSpec.run)        {bare * 1e3:9.3f} ms/call")
        print(
            f"  governed_call alone, worker process  {governed * 1e3:9.3f} ms/call   ({governed / bare:6.0f}x bare;"
            f" first call {cold * 1e3:.0f} ms: spawning the worker)"
        )
        print(f"  governed_call alone, caller's thread {inline * 1e3:9.3f} ms/call   (a closure tool, for comparison)")
        print(
            f"  whole graph per tool step             {med_step * 1e3:9.3f} ms/step   (min {min(per_step) * 1e3:.3f},"
            f" max {max(per_step) * 1e3:.3f}; target <= 2 ms)"
        )
        print(
            f"  whole graph per run                   {statistics.median(per_run) * 1e3:9.1f} ms/run"
            f"   ({supersteps} checkpoints per run, {statistics.median(per_run) / supersteps * 1e3:.1f} ms each)"
        )
        print(
            f"  whole run with a single call          {single * 1e3:9.1f} ms/run   (request -> plan -> worker -> review"
            " -> answer)"
        )
        print(f"  checkpoint bytes per run              {med_bytes:9.0f} B")
        print(f"  checkpoint bytes per tool step        {med_bytes / args.calls:9.0f} B/step")
        print(f"  checkpoint bytes per graph checkpoint {med_bytes / max(supersteps, 1):9.0f} B/checkpoint")
        print(f"  checkpoint files (db + WAL), {args.runs + 1} runs   {ckpt_bytes:9d} B")
        verdict = "meets" if med_step <= 0.002 else "MISSES"
        print(f"  -> {verdict} the 2 ms/step target")


if __name__ == "__main__":
    main()
