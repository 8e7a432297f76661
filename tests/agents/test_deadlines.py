"""Deadlines: a governed call past its deadline is stopped (its worker process killed), audited as timed out, and the
caller gets an error outcome that says so; a normal call returns the same result as in-process."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest
from labwright.agents._executor import deadline_for
from labwright.agents.governance import RunContext, governed_call
from labwright.settings import get_settings
from labwright.tools.registry import Cost, get_tool

FLOOR_S = 2.0  # the deadline of a call estimated at 0.01 s: max(10 x 0.01 s, floor)


@pytest.fixture
def spin_tools(monkeypatch, tmp_path):
    monkeypatch.setenv("LABWRIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABWRIGHT_DEADLINE_FLOOR_S", str(FLOOR_S))
    name = "labwright_test_deadline_tools"
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("deadline_tools.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the worker process loads the same file under this name
    spec.loader.exec_module(module)
    yield module
    module.unregister()
    sys.modules.pop(name, None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_deadline_is_factor_times_estimate_within_floor_and_cap():
    s = get_settings(deadline_factor=4.0, deadline_floor_s=3.0, deadline_cap_s=100.0)
    assert deadline_for(Cost(seconds=0.1), s).seconds == 3.0
    assert deadline_for(Cost(seconds=10.0), s).seconds == 40.0
    assert deadline_for(Cost(seconds=1e6), s).seconds == 100.0


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["lw_spin_jax", "lw_spin_sqlite"])
def test_endless_jax_and_sqlite_calls_are_stopped_and_audited(spin_tools, tmp_path, tool):
    ctx = RunContext.open("deadline-run")
    pid_file = tmp_path / "pid"
    t0 = time.perf_counter()
    out = governed_call(ctx, None, tool, {"pid_file": str(pid_file)}, step_key="spin/1")
    wall = time.perf_counter() - t0
    assert out.status == "error" and out.message.startswith(f"timed out: {tool} was stopped after"), out.message
    stopped_after = float(out.message.split("stopped after ")[1].split(" s")[0])
    assert FLOOR_S <= stopped_after < FLOOR_S + 1.0
    assert wall < 60  # a cold worker imports JAX first; that time is not the tool's
    pid = int(pid_file.read_text())
    assert pid != os.getpid() and not _alive(pid)  # the process running the tool is gone, not abandoned
    events = [r for r in ctx.audit.rows("deadline-run") if r.tool == tool]
    timeout = [r for r in events if r.event == "tool_timeout"]
    assert len(timeout) == 1 and timeout[0].decision == "timeout"
    assert timeout[0].detail["deadline"]["seconds"] == FLOOR_S
    assert events[-1].event == "tool_error"  # the outcome is stored: a re-run does not start the tool again
    again = governed_call(ctx, None, tool, {"pid_file": str(pid_file)}, step_key="spin/1")
    assert again.cached and again.message == out.message


@pytest.mark.slow
def test_a_call_after_a_timeout_gets_a_fresh_worker_and_the_in_process_result(spin_tools, tmp_path):
    ctx = RunContext.open("deadline-then-normal")
    governed_call(ctx, None, "lw_spin_sqlite", {"pid_file": str(tmp_path / "pid")}, step_key="spin/1")
    args = {"smiles": "OCC"}
    out = governed_call(ctx, None, "canonicalize_smiles", args, step_key="smiles/1")
    assert out.ok, out.message
    assert out.result == get_tool("canonicalize_smiles").run(args).model_dump(mode="json")


def test_a_worker_runs_the_tool_as_the_same_governed_call(spin_tools, tmp_path):
    ctx = RunContext.open("deadline-scope")
    out = governed_call(ctx, None, "lw_scope", {"pid_file": str(tmp_path / "unused")}, step_key="scope/1")
    assert out.ok, out.message
    assert out.result["pid"] != os.getpid()  # it ran in a worker process
    assert out.result["key"] == out.key  # and knew its call's idempotency key (exactly-once store writes need it)


def test_a_tool_error_in_the_worker_keeps_its_name_and_message(spin_tools):
    ctx = RunContext.open("deadline-error")
    empty = get_settings().home_dir / "empty.csv"
    empty.write_text("")
    out = governed_call(ctx, None, "read_voltammogram", {"path": str(empty)}, step_key="bad/1")
    assert out.status == "error" and out.message.startswith("InvalidInput: read_voltammogram: "), out.message
    assert "'path'" in out.message and "file is empty" in out.message


@pytest.mark.slow
def test_a_graph_run_with_a_timed_out_call_reaches_a_terminal_state(spin_tools, tmp_path, monkeypatch):
    from labwright.agents import roles
    from labwright.agents.lab import Lab

    old = roles.ROLES["kineticist"]
    monkeypatch.setitem(
        roles.ROLES, "kineticist", roles.Role(old.name, old.description, old.tools | {"lw_spin_sqlite"})
    )
    pid_file = tmp_path / "pid"
    reply = Lab().chat(f'lw_spin_sqlite(pid_file="{pid_file}")')
    assert reply.status in ("answered", "failed"), reply  # terminal: nothing waits, the answer explains
    assert "timed out: lw_spin_sqlite was stopped" in reply.answer
    assert not _alive(int(pid_file.read_text()))
