"""A run killed with SIGKILL mid-step resumes (here, in the test's own process) without repeating a side effect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labwright import Lab
from labwright.agents import roles

HERE = Path(__file__).parent

# The process that gets killed (lab_child.py) has the same test tools and role as the test process (see
# `kineticist_runs_both`).


@pytest.fixture
def kineticist_runs_both(test_tools, monkeypatch):
    old = roles.ROLES["kineticist"]
    monkeypatch.setitem(
        roles.ROLES, "kineticist", roles.Role(old.name, old.description, old.tools | {"lab_note", "blocker"})
    )


def start_until_blocked(args: list[str], env: dict[str, str], flag: Path) -> subprocess.Popen:
    """Run lab_child.py with ``args`` in a child process; return it once it is inside blocker."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "lab_child.py"), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready = Path(str(flag) + ".ready")
    deadline = time.time() + 90
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "the run never reached the blocking tool"
        time.sleep(0.05)
    return proc


def kill_9(proc: subprocess.Popen) -> None:
    """SIGKILL the child mid-step (no cleanup, no checkpoint) and reap it."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("approval", ["rule", "person"])
def test_resume_after_kill_9_does_not_repeat_the_side_effect(tmp_path, isolated_home, kineticist_runs_both, approval):
    """The worker calls lab_note (a side effect) and then blocks; SIGKILL lands before the step's checkpoint. On resume
    the worker re-runs from its top, gets lab_note's stored result instead of calling it again, and finishes. With
    ``person``, the killed process is the one that delivered a person's approval: the answer is re-delivered from
    the ledger."""
    note, flag = tmp_path / "notebook.txt", tmp_path / "hold"
    flag.write_text("hold")
    rule = "all" if approval == "rule" else "none"
    if approval == "person":
        paused = Lab(auto_approve=rule).chat(f"lab_note(path={note}, text=once) then blocker(flag={flag})")
        assert paused.status == "waiting" and paused.pending[0].tool == "lab_note"
        mode, run_id = "approve", paused.run_id
    else:
        mode, run_id = "start", "-"
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home)}
    proc = start_until_blocked([mode, run_id, str(note), str(flag), "--rule", rule], env, flag)
    assert note.read_text() == "once\n"  # the side effect happened before the kill
    kill_9(proc)
    flag.unlink()

    lab = Lab(auto_approve=rule)
    (run,) = lab.runs.list()
    assert lab.runs.view(run["run_id"]).status == "incomplete"  # nothing left to ask; resumable as is
    reply = lab.resume(run["run_id"])
    assert reply.status == "answered", reply
    assert "lab_note returned lines=1" in reply.answer and "blocker returned value=1.0" in reply.answer
    assert note.read_text() == "once\n"  # not repeated on resume
    assert lab.verify_audit().ok
    results = [r for r in lab.audit(run["run_id"]) if r.event == "tool_result" and r.tool == "lab_note"]
    assert len(results) == 1
    assert json.loads(json.dumps(reply.results))  # results stay plain JSON


@pytest.mark.slow
def test_resume_after_kill_9_with_the_llm_planner(tmp_path, isolated_home, kineticist_runs_both, openai_server):
    """The same crash with the model behind a real HTTP server: after the resume the model is not asked again for
    the turn it already answered (the reply is replayed from the ledger), and lab_note ran exactly once."""
    note, flag = tmp_path / "notebook.txt", tmp_path / "hold"
    flag.write_text("hold")

    def script(body):
        system = body["messages"][0]["content"]
        if system.startswith("You are the supervisor"):
            return {"tool_calls": [("delegate", {"tasks": [{"role": "kineticist", "goal": "note, then wait"}]})]}
        if system.startswith("You are the kineticist"):
            if not any(m["role"] == "tool" for m in body["messages"]):
                return {
                    "tool_calls": [("lab_note", {"path": str(note), "text": "once"}), ("blocker", {"flag": str(flag)})]
                }
            return {"content": "Noted once and waited."}
        return {"content": "The note was written once."}

    openai_server.script = script
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home)}  # carries the server's URL and model name
    proc = start_until_blocked(["start", "-", str(note), str(flag), "--rule", "all"], env, flag)
    kill_9(proc)
    flag.unlink()
    roles_asked = [b["messages"][0]["content"].split()[3] for b in openai_server.requests]
    assert roles_asked == ["supervisor", "kineticist"]  # plan, then the worker's first turn

    lab = Lab(auto_approve="all")
    (run,) = lab.runs.list()
    reply = lab.resume(run["run_id"])
    assert reply.status == "answered" and reply.answer == "The note was written once.", reply
    assert note.read_text() == "once\n"  # lab_note's stored result was reused, not repeated
    roles_asked = [b["messages"][0]["content"].split()[3] for b in openai_server.requests]
    assert roles_asked == ["supervisor", "kineticist", "kineticist", "answer"]  # only the worker's second turn is new
    assert [e["status"] for e in reply.results[0]["evidence"]] == ["ok", "ok"]
    assert lab.verify_audit().ok
