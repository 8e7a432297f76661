"""Listing and pruning runs whose checkpoints, ledger rows and audit events are in PostgreSQL (issue 18 item 2)."""

from __future__ import annotations

import pytest
from labwright import Lab
from labwright.agents.audit import AuditLog

pytestmark = pytest.mark.postgres


def test_runs_list_show_and_prune_on_postgres(lab_roles, postgres_url, monkeypatch, isolated_home):
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", postgres_url)
    lab = Lab()
    ids = [lab.chat(f"echo_value(value={i})").run_id for i in range(3)]
    assert {r["run_id"] for r in lab.runs.list()} == set(ids)
    assert lab.runs.view(ids[0]).status == "answered"
    before = lab.runs.checkpoint_bytes()
    one = lab.runs.checkpoint_bytes(ids[0])
    assert 0 < one < before and lab.runs.checkpoint_file_bytes() > 0
    assert set(lab.runs.prune(keep=1)) == set(ids[:2])
    assert [r["run_id"] for r in lab.runs.list()] == [ids[2]]
    assert lab.runs.checkpoint_bytes(ids[0]) == 0 and lab.runs.checkpoint_bytes() < before
    assert lab.verify_audit().ok and set(AuditLog().run_ids()) == set(ids)  # the audit log keeps them
    assert not any(isolated_home.glob("*.sqlite"))  # nothing went to the embedded files
