"""Issue 18 item 2: `labwright db migrate --to URL` moves the SQLite audit log, ledger and checkpoints to PostgreSQL
(a real server started by the tests): hashes unchanged and verified, a paused run resumes there, a non-empty target is
refused, and a copy that fails half-way writes nothing."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from labwright import Lab
from labwright.agents import roles
from labwright.agents._migrate import migrate_to_postgres
from labwright.agents.audit import AuditLog
from labwright.cli import main
from labwright.errors import MalformedFile
from labwright.settings import get_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def kineticist_notes(test_tools, monkeypatch):
    old = roles.ROLES["kineticist"]
    monkeypatch.setitem(roles.ROLES, "kineticist", roles.Role(old.name, old.description, old.tools | {"lab_note"}))


def _held(url: str) -> dict[str, int]:
    """Rows in the target's audit, ledger and checkpoint tables (0 for a table that does not exist)."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in ("audit.audit", "ledger.runs", "ledger.asks", "checkpoints.checkpoints"):
            present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
            out[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] if present else 0
    return out


def test_migrate_then_resume_a_paused_run_on_postgres(tmp_path, postgres_url, kineticist_notes, monkeypatch, capsys):
    note = tmp_path / "notebook.txt"
    paused = Lab(auto_approve="none").chat(f"lab_note(path={note}, text=once)")
    assert paused.status == "waiting" and not note.exists()
    before = AuditLog().verify()
    assert before.ok and before.rows > 0

    assert main(["db", "migrate", "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    assert f"{before.rows} audit rows (head {before.head_hash[:16]}, verified)" in out
    assert "checkpoints of 1 run(s)" in out
    assert "password" not in out and "knowledge store:" in out

    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", postgres_url)
    after = AuditLog().verify()
    assert after.ok and after.rows == after.anchored_rows == before.rows and after.head_hash == before.head_hash
    lab = Lab(auto_approve="none")
    assert [r["run_id"] for r in lab.runs.list()] == [paused.run_id]
    reply = lab.resume(paused.run_id, "approve")
    assert reply.status == "answered", reply
    assert note.read_text() == "once\n"
    assert lab.verify_audit().ok
    assert AuditLog(get_settings().audit_path).verify().rows == before.rows  # the SQLite log was only read

    # A second migration would overwrite what the database holds now: refused, the database untouched.
    monkeypatch.delenv("LABWRIGHT_DATABASE_URL")
    held = _held(postgres_url)
    assert main(["db", "migrate", "--to", postgres_url]) == 2
    err = capsys.readouterr().err
    assert "the target database is not empty: audit.audit" in err and "--force" in err
    assert _held(postgres_url) == held
    # --force replaces it with the SQLite state again (the resumed run's later rows are dropped with it).
    assert main(["db", "migrate", "--to", postgres_url, "--force"]) == 0
    assert _held(postgres_url)["audit.audit"] == before.rows < held["audit.audit"]
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", postgres_url)
    assert AuditLog().verify().ok


def test_a_copy_that_fails_half_way_writes_nothing(tmp_path, postgres_url):
    log = AuditLog()
    for i in range(3):
        log.append(run_id="r", actor="a", event="e", detail={"i": i})
    ledger_path = get_settings().ledger_path
    Lab()  # creates the ledger and checkpoint files
    # A value SQLite's loose typing kept but PostgreSQL's DOUBLE PRECISION refuses (the ledger is copied after the log).
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("INSERT INTO runs VALUES ('r', 'q', 'offline', '{}', 'running', 'yesterday', 1.0)")
    with pytest.raises(MalformedFile) as err:
        migrate_to_postgres(postgres_url)
    assert "ledger.sqlite" in str(err.value) and "table runs" in str(err.value)
    assert _held(postgres_url) == dict.fromkeys(_held(postgres_url), 0)
    assert not (get_settings().home_dir / "audit.postgres.anchor").exists()  # the anchor copy was not placed


def test_migrate_refuses_a_broken_source_log_and_a_bad_url(postgres_url, capsys):
    log = AuditLog()
    log.append(run_id="r", actor="a", event="e")
    with sqlite3.connect(get_settings().audit_path) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET actor = 'someone else'")
    assert main(["db", "migrate", "--to", postgres_url]) == 2
    assert "does not verify" in capsys.readouterr().err
    assert _held(postgres_url)["audit.audit"] == 0
    assert main(["db", "migrate", "--to", "mysql://x@y/z"]) == 2
    assert "postgresql://" in capsys.readouterr().err
