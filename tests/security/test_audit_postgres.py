"""Issue 18 item 2: the audit chain on PostgreSQL. Four writer processes keep one valid chain, and the five
tamperings of issue 12 (tests/security/test_audit_anchor.py, there on SQLite) are still reported, here done with
SQL on the server by someone who can drop the guards."""

from __future__ import annotations

import multiprocessing

import psycopg
import pytest
from labwright.agents.audit import _FIELDS, AuditLog, _row_hash

pytestmark = pytest.mark.postgres

_WRITERS, _EACH = 4, 25


def _append_many(url: str, writer: int) -> None:
    log = AuditLog(url)  # anchor and key: LABWRIGHT_HOME/audit.postgres.*, shared through the inherited environment
    for i in range(_EACH):
        log.append(run_id=f"w{writer}", actor=f"writer-{writer}", event="tool_result", detail={"i": i})
    log.close()


def _log(url: str, n: int = 5) -> AuditLog:
    log = AuditLog(url)
    for i in range(n):
        log.append(run_id="r1", actor="supervisor", event="plan", args={"i": i}, detail={"i": i})
    report = log.verify()
    assert report.ok and report.anchored_rows == n
    return log


def _sql(url: str, *statements) -> None:
    """What an attacker with write access to the database does: drop the guards, run statements, commit."""
    with psycopg.connect(url, options="-c search_path=audit") as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        for st in statements:
            conn.execute(*st) if isinstance(st, tuple) else conn.execute(st)
        conn.execute("ALTER TABLE audit ENABLE TRIGGER USER")


def _rechain(url: str, start: int = 1) -> None:
    """Recompute every hash from ``start`` on and the head, as a careful attacker would."""
    with psycopg.connect(url, options="-c search_path=audit") as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        rows = conn.execute(f"SELECT {', '.join(_FIELDS)} FROM audit ORDER BY seq").fetchall()
        prev = ""
        for r in rows:
            fields = dict(zip(_FIELDS, r))
            if fields["seq"] >= start:
                fields["prev_hash"] = prev
                conn.execute(
                    "UPDATE audit SET prev_hash = %s, hash = %s WHERE seq = %s", (prev, _row_hash(fields), r[0])
                )
            prev = conn.execute("SELECT hash FROM audit WHERE seq = %s", (r[0],)).fetchone()[0]
        conn.execute("UPDATE audit_head SET seq = %s, hash = %s", (rows[-1][0], prev))
        conn.execute("ALTER TABLE audit ENABLE TRIGGER USER")


def _broken(url: str):
    report = AuditLog(url).verify()
    assert not report.ok
    return report


def test_four_writer_processes_keep_one_valid_chain(postgres_url):
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters with their own connections, as on other hosts
    procs = [ctx.Process(target=_append_many, args=(postgres_url, w)) for w in range(_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    log = AuditLog(postgres_url)
    report = log.verify()
    assert report.ok, report.problems
    assert report.rows == report.anchored_rows == _WRITERS * _EACH
    rows = log.rows()
    assert [r.seq for r in rows] == list(range(1, _WRITERS * _EACH + 1))
    for w in range(_WRITERS):  # every writer's rows, in its own order
        assert [r.detail["i"] for r in log.rows(f"w{w}")] == list(range(_EACH))
    assert len({r.actor for r in rows[:40]}) > 1  # the writers really interleaved


def test_append_only_triggers_refuse_update_delete_and_truncate(postgres_url):
    _log(postgres_url, 2)
    with psycopg.connect(postgres_url, options="-c search_path=audit") as conn:
        for sql in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"), conn.transaction():
                conn.execute(sql)
    assert AuditLog(postgres_url).verify().rows == 2


def test_tail_deleted_and_head_rewritten(postgres_url):
    log = _log(postgres_url)
    h3 = log.rows()[2].hash
    _sql(postgres_url, "DELETE FROM audit WHERE seq > 3", ("UPDATE audit_head SET seq = 3, hash = %s", (h3,)))
    report = _broken(postgres_url)
    assert "rows 4..5 are anchored but missing from the log: rows deleted" in report.problems
    assert report.first_bad_seq == 4


def test_row_edited_and_chain_recomputed(postgres_url):
    _log(postgres_url)
    _sql(postgres_url, "UPDATE audit SET detail = '{\"i\":99}', approver = 'the-lab-director' WHERE seq = 2")
    _rechain(postgres_url, start=2)
    report = _broken(postgres_url)
    assert report.problems == [
        f"row {s} does not match its anchored hash: edited and the chain recomputed, or replaced" for s in (2, 3, 4, 5)
    ]


def test_forged_row_appended(postgres_url):
    log = _log(postgres_url)
    last = log.rows()[-1]
    forged = {**last.model_dump(), "seq": 6, "event": "decision", "approver": "human:director", "detail": "{}"}
    forged["prev_hash"] = last.hash
    values = [forged[k] for k in _FIELDS] + [_row_hash(forged)]
    cols = ", ".join((*_FIELDS, "hash"))
    _sql(
        postgres_url,
        (f"INSERT INTO audit ({cols}) VALUES ({', '.join(['%s'] * len(values))})", values),
        ("UPDATE audit_head SET seq = 6, hash = %s", (values[-1],)),
    )
    assert _broken(postgres_url).problems == ["row 6 is not in the anchor: appended outside labwright (forged)"]


def test_log_emptied(postgres_url):
    _log(postgres_url)
    _sql(postgres_url, "DELETE FROM audit", "DELETE FROM audit_head")
    report = _broken(postgres_url)
    assert report.rows == 0
    assert "rows 1..5 are anchored but missing from the log: the log is empty (emptied or the file replaced)" in (
        report.problems
    )


@pytest.mark.parametrize("drop", ["DROP TABLE audit, audit_head", "DROP SCHEMA audit CASCADE"])
def test_table_or_schema_dropped(postgres_url, drop):
    log = _log(postgres_url)
    log.close()
    with psycopg.connect(postgres_url, options="-c search_path=audit") as conn:
        conn.execute(drop)
    report = _broken(postgres_url)  # opening recreates empty tables
    assert report.rows == 0
    if "SCHEMA" in drop:  # the log's id went with it: a new log the anchor does not know
        assert any("rows of another audit log" in p and "deleted or replaced" in p for p in report.problems)
    else:
        assert any("rows 1..5 are anchored but missing from the log" in p for p in report.problems)


def test_a_pg_dump_backup_restores_to_a_log_that_verifies(postgres_url, tmp_path):
    """docs/deployment.md's backup: pg_dump of the database, restored into another, verifies against the same anchor
    (same rows, hashes and log id); the ledger and checkpoints travel in the same dump."""
    import subprocess
    from pathlib import Path

    import pgserver

    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    log = _log(postgres_url, 4)
    dump = tmp_path / "labwright.dump"
    subprocess.run([bin_dir / "pg_dump", "-Fc", "-f", dump, "-d", postgres_url], check=True)
    base, _, query = postgres_url.partition("?")
    restored = f"{base}_restored?{query}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{base.rsplit("/", 1)[1]}_restored"')
    try:
        subprocess.run([bin_dir / "pg_restore", "-d", restored, dump], check=True)
        copy = AuditLog(restored)
        report = copy.verify()
        assert report.ok and report.rows == report.anchored_rows == 4, report.problems
        assert report.head_hash == log.verify().head_hash and copy.log_id == log.log_id
        copy.close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{base.rsplit("/", 1)[1]}_restored" WITH (FORCE)')
