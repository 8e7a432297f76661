"""docs/deployment.md, checked: a chat run started by one host's process, paused for approval, is listed and approved
by the inbox of another "host" (another LABWRIGHT_HOME) that shares only the PostgreSQL database and the audit anchor
and key; the run finishes there and the one audit chain verifies with the inbox's identity on the decision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from labwright.agents import roles
from labwright.agents.audit import AuditLog

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
AGENT_TESTS = Path(__file__).parents[1] / "agents"


@pytest.fixture
def notes_tool(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("labwright_agent_testing_tools", AGENT_TESTS / "testing_tools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.register()
    old = roles.ROLES["kineticist"]
    extended = roles.Role(old.name, old.description, old.tools | {"lab_note", "blocker"})
    monkeypatch.setitem(roles.ROLES, "kineticist", extended)
    yield
    module.unregister()


def test_inbox_on_another_host_approves_a_run_paused_on_the_first(tmp_path, postgres_url, notes_tool, monkeypatch):
    from labwright.doors._inbox import Inbox

    host_a, host_b, note = tmp_path / "host-a", tmp_path / "host-b", tmp_path / "notebook.txt"
    env = {**os.environ, "LABWRIGHT_HOME": str(host_a), "LABWRIGHT_DATABASE_URL": postgres_url}
    # No flag file: blocker returns at once once the run is approved.
    done = subprocess.run(
        [sys.executable, str(AGENT_TESTS / "lab_child.py"), "start", "-", str(note), str(tmp_path / "no-flag")],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    paused = json.loads(done.stdout.strip().splitlines()[-1])
    assert paused["status"] == "waiting"

    # Host B: its own home; the database URL, and the anchor and key as shared files (docs/deployment.md).
    monkeypatch.setenv("LABWRIGHT_HOME", str(host_b))
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LABWRIGHT_AUDIT_ANCHOR", str(host_a / "audit.postgres.anchor"))
    monkeypatch.setenv("LABWRIGHT_AUDIT_KEY", str(host_a / "audit.postgres.key"))
    inbox = Inbox(identity="dr-approver")
    (question,) = inbox.pending()
    assert question["run_id"] == paused["run_id"] and question["tool"] == "lab_note"
    inbox.answer(paused["run_id"], question["key"], question["kind"], "approve")
    inbox.threads[paused["run_id"]].join(180)
    assert not inbox.errors and inbox.pending() == []
    assert note.read_text() == "once\n"
    log = AuditLog()
    report = log.verify()
    assert report.ok and report.rows == report.anchored_rows, report.problems
    decisions = [r for r in log.rows(paused["run_id"]) if r.event == "decision" and r.tool == "lab_note"]
    assert [d.approver for d in decisions] == ["human:dr-approver"]
