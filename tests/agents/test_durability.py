"""A run killed with SIGKILL mid-step resumes in a new process without repeating a side effect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent

SCRIPT = r"""
import importlib.util, json, sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("testing_tools", sys.argv[1])
tt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tt)
tt.register()
from labwright.agents import roles
old = roles.ROLES["kineticist"]
roles.ROLES["kineticist"] = roles.Role(old.name, old.description, old.tools | {"lab_note", "blocker"})
from labwright import Lab

mode, note, flag, rule = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
lab = Lab(auto_approve=rule)
if mode == "start":
    # one worker: turn 0 asks for lab_note (a side effect) and then blocker, which hangs while the flag exists
    reply = lab.chat(f"lab_note(path={note}, text=once) then blocker(flag={flag})")
elif mode == "approve":
    reply = lab.resume(sys.argv[6], "approve")
else:
    reply = lab.resume(mode)
print(json.dumps({"run_id": reply.run_id, "status": reply.status, "answer": reply.answer}))
"""


def _run(args, env, **kw):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(HERE / "testing_tools.py"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.mark.slow
@pytest.mark.parametrize("approval", ["rule", "person"])
def test_resume_after_kill_9_does_not_repeat_the_side_effect(tmp_path, isolated_home, approval):
    """The worker calls lab_note (side effect) then blocks; SIGKILL before the step's checkpoint; a new process
    resumes: the worker re-runs from its top, gets lab_note's stored result, and finishes."""
    note, flag = tmp_path / "notebook.txt", tmp_path / "hold"
    flag.write_text("hold")
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home)}
    rule = "all" if approval == "rule" else "none"
    if approval == "person":  # pause for approval, then approve from a second process, which is the one killed
        first = _run(["start", str(note), str(flag), rule], env)
        out, err = first.communicate(timeout=120)
        paused = json.loads(out.strip().splitlines()[-1])
        assert paused["status"] == "waiting", err
        proc = _run(["approve", str(note), str(flag), rule, paused["run_id"]], env)
    else:
        proc = _run(["start", str(note), str(flag), rule], env)
    ready = Path(str(flag) + ".ready")
    deadline = time.time() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "the run never reached the blocking tool"
        time.sleep(0.05)
    assert note.read_text() == "once\n"  # the side effect happened before the kill
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    flag.unlink()

    from labwright.agents.ledger import Ledger

    (run,) = Ledger(isolated_home / "ledger.sqlite").list_runs()
    resumed = _run([run["run_id"], str(note), str(flag), rule], env)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    reply = json.loads(out.strip().splitlines()[-1])
    assert reply["status"] == "answered", reply
    assert "lab_note returned lines=1" in reply["answer"] and "blocker returned value=1.0" in reply["answer"]
    assert note.read_text() == "once\n"  # not repeated on resume

    from labwright.agents.audit import AuditLog

    log = AuditLog(isolated_home / "audit.sqlite")
    assert log.verify().ok
    results = [r for r in log.rows(run["run_id"]) if r.event == "tool_result" and r.tool == "lab_note"]
    assert len(results) == 1
