"""Issue 18 item 2: with LABWRIGHT_DATABASE_URL set, checkpoints (PostgresSaver), the ledger and the audit log live in
PostgreSQL. A chat run paused at an approval checkpoint is killed with SIGKILL, approved from a second process that is
itself killed mid-step, and finished by a third: every process is new, only the database (and the shared audit
anchor) connects them, the side effect happens once and the audit chain records it once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labwright.agents.audit import AuditLog

HERE = Path(__file__).parent
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "lab_child.py"), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _kill_9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def test_run_paused_killed_and_resumed_by_new_processes_on_postgres(tmp_path, isolated_home, postgres_url):
    note, flag = tmp_path / "notebook.txt", tmp_path / "hold"
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home), "LABWRIGHT_DATABASE_URL": postgres_url}

    # 1. Start: the run stops for approval of lab_note (a side effect); the process stays up and is killed there.
    first = _spawn(["start", "-", str(note), str(flag), "--hold"], env)
    line = first.stdout.readline()
    assert line, first.communicate()
    paused = json.loads(line)
    assert paused["status"] == "waiting"
    _kill_9(first)
    assert not note.exists()

    # 2. A new process approves; lab_note runs, then blocker holds the step until this process is killed too.
    flag.write_text("hold")
    second = _spawn(["approve", paused["run_id"], str(note), str(flag)], env)
    deadline = time.time() + 120
    while not Path(str(flag) + ".ready").exists():
        assert second.poll() is None, second.communicate()
        assert time.time() < deadline, "the resumed run never reached the blocking tool"
        time.sleep(0.05)
    assert note.read_text() == "once\n"
    _kill_9(second)
    flag.unlink()

    # 3. A third process resumes with no answer: the approval and lab_note's result come back from the database.
    third = _spawn(["finish", paused["run_id"], str(note), str(flag)], env)
    out, err = third.communicate(timeout=180)
    assert third.returncode == 0, err
    done = json.loads(out.strip().splitlines()[-1])
    assert done["status"] == "answered", done
    assert "lab_note returned lines=1" in done["answer"] and "blocker returned value=1.0" in done["answer"]
    assert note.read_text() == "once\n"  # the side effect was not repeated

    # Everything lived in PostgreSQL: no SQLite checkpoint, ledger or audit file was made.
    for name in ("checkpoints.sqlite", "ledger.sqlite", "audit.sqlite"):
        assert not (isolated_home / name).exists(), name
    log = AuditLog(postgres_url)
    report = log.verify()
    assert report.ok and report.rows == report.anchored_rows > 0, report.problems
    rows = log.rows(paused["run_id"])
    assert sum(r.event == "tool_result" and r.tool == "lab_note" for r in rows) == 1
    assert sum(r.event == "decision" and r.tool == "lab_note" for r in rows) == 1, [(r.event, r.tool) for r in rows]
