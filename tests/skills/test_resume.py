"""Kill a run between steps with SIGKILL, resume it by id: finished steps are not repeated (tool calls counted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from labwright.agents.audit import AuditLog

PLUGIN = str(Path(__file__).with_name("plugin_tools.py"))


def _lines(log: Path, prefix: str) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.startswith(prefix)) if log.exists() else 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def database(request, monkeypatch) -> dict[str, str]:
    """The environment choosing the backend of checkpoints, ledger and audit log (set here and for the children)."""
    if request.param == "sqlite":
        return {}
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", url)
    return {"LABWRIGHT_DATABASE_URL": url}


def test_kill_9_between_steps_then_resume_does_not_repeat_finished_steps(tmp_path, isolated_home, database):
    log = tmp_path / "calls.log"
    wf = tmp_path / "wf.yaml"
    steps = [{"id": s, "skill": "test.count", "params": {"label": s, "log_path": str(log)}} for s in "abc"]
    steps[1]["after"], steps[2]["after"] = ["a"], ["b"]
    wf.write_text(yaml.safe_dump({"name": "killme", "imports": [PLUGIN], "steps": steps}))
    hold = tmp_path / "hold"
    hold.touch()
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home), "LW_TEST_HOLD": str(hold), "LW_TEST_HOLD_LABEL": "b"}
    env.update(database)
    cmd = [sys.executable, "-m", "labwright.cli", "run", str(wf), "--approve", "all", "--run-id", "k1", "--no-input"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 90
        while _lines(log, "start b") == 0 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert _lines(log, "start b") == 1, proc.stderr.read().decode() if proc.poll() is not None else "timeout"
        os.kill(proc.pid, signal.SIGKILL)  # step a finished and checkpointed; step b is in the middle of its tool
    finally:
        proc.wait(timeout=30)
    assert (_lines(log, "done a"), _lines(log, "done b"), _lines(log, "start c")) == (1, 0, 0)

    env.pop("LW_TEST_HOLD")
    out = subprocess.run(
        [sys.executable, "-m", "labwright.cli", "run", "--resume", "k1", "--no-input"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "report:" in out.stdout
    # a is not repeated; b (killed mid-call) runs once more; c runs once.
    assert (_lines(log, "done a"), _lines(log, "start b"), _lines(log, "done b"), _lines(log, "done c")) == (1, 2, 1, 1)
    assert (isolated_home / "runs" / "k1" / "report.md").is_file()
    # The CLI's --approve all is recorded in the audit as such, on the start and again on the resume (stored rule).
    starts = [r for r in AuditLog().rows("k1") if r.event in ("run_start", "run_resume")]
    assert [(r.event, r.detail["approve"]) for r in starts] == [("run_start", "all"), ("run_resume", "all")]
    assert AuditLog().verify().ok
    assert (isolated_home / "checkpoints.sqlite").exists() == (not database)  # the backend chosen was used


def test_importing_the_workflow_plane_turns_off_asynchronous_cpu_dispatch():
    # Parallel branches run jitted tools from several threads; XLA's asynchronous CPU dispatch can hang there for good
    # (jax-ml/jax#25861; seen with four parallel CV fits on 2 cores), so importing the workflow plane (through
    # labwright.tools' runtime settings) switches it off before the CPU backend starts. Checked in a fresh process,
    # since the flag only counts before JAX first runs.
    code = (
        "import labwright.skills._governance, jax, jax.numpy as jnp; from jax._src.xla_bridge import "
        "backends_are_initialized as started; s = started(); jnp.ones(2).block_until_ready(); "
        "print(s, jax.config.values['jax_cpu_enable_async_dispatch'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_a_step_approval_still_covers_its_writes_after_a_kill_and_resume_in_another_process(tmp_path, isolated_home):
    from labwright.skills import run

    log = tmp_path / "calls.log"
    wf = tmp_path / "wf.yaml"
    params = {"label": "s", "log_path": str(log), "calls": 3, "estimated_calls": 3}
    wf.write_text(yaml.safe_dump({"name": "grant", "imports": [PLUGIN], "steps": [
        {"id": "s", "skill": "test.store_many", "params": params}]}))  # fmt: skip
    first = run(wf, run_id="g1")
    assert [(p.kind, p.step) for p in first.pending] == [("step", "s")]
    hold = tmp_path / "hold"
    hold.touch()
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home), "LW_TEST_HOLD": str(hold), "LW_TEST_HOLD_LABEL": "s1"}
    code = "from labwright.skills import resume; resume('g1', answers={'s': 'approve'})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 90
        while _lines(log, "start s1") == 0 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert _lines(log, "start s1") == 1, proc.stderr.read().decode() if proc.poll() is not None else "timeout"
        os.kill(proc.pid, signal.SIGKILL)  # approved, first write done, second in the middle
    finally:
        proc.wait(timeout=30)
    done = run(resume="g1")  # no answer, no rule: the step's approval (kept in the run's state) covers the rest
    assert done.status == "finished", done.pending
    assert (_lines(log, "done s0"), _lines(log, "done s1"), _lines(log, "done s2")) == (1, 1, 1)
    writes = [r.approver for r in AuditLog().rows("g1") if r.event == "decision" and r.tool == "lw_test_store"]
    assert len(writes) == 3 and all(a.startswith("step:s(human:") for a in writes)
