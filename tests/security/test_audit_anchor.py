"""Issue 12 item 8: the audit chain is anchored outside its database, so five tamperings a rewrite of the database
alone used to hide are all reported, each with what is wrong."""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest
from labwright.agents.audit import _FIELDS, AuditLog, _row_hash


def _log(tmp_path, n=5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.sqlite")
    for i in range(n):
        log.append(run_id="r1", actor="supervisor", event="plan", args={"i": i}, detail={"i": i})
    assert log.verify().ok and log.verify().anchored_rows == n
    return log


def _sql(path, *statements) -> None:
    """What an attacker with write access to the file does: drop the guards, run statements, commit."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for st in statements:
        conn.execute(*st) if isinstance(st, tuple) else conn.execute(st)
    conn.commit()
    conn.close()


def _rechain(path, start: int = 1) -> None:
    """Recompute every hash from ``start`` on and the head, as a careful attacker would."""
    conn = sqlite3.connect(path)
    rows = conn.execute(f"SELECT {', '.join(_FIELDS)} FROM audit ORDER BY seq").fetchall()
    prev = ""
    for r in rows:
        fields = dict(zip(_FIELDS, r))
        if fields["seq"] >= start:
            fields["prev_hash"] = prev
            digest = _row_hash(fields)
            conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, fields["seq"]))
        prev = conn.execute("SELECT hash FROM audit WHERE seq = ?", (fields["seq"],)).fetchone()[0]
    last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0] or 0
    conn.execute("DELETE FROM audit_head")
    if last:
        conn.execute("INSERT INTO audit_head VALUES (1, ?, ?)", (last, prev))
    conn.commit()
    conn.close()


def _verify(path):
    report = AuditLog(path).verify()
    assert not report.ok
    return report


def test_tail_deleted_and_head_rewritten(tmp_path):
    log = _log(tmp_path)
    h3 = log.rows()[2].hash
    _sql(log.path, "DELETE FROM audit WHERE seq > 3", ("UPDATE audit_head SET seq = 3, hash = ?", (h3,)))
    report = _verify(log.path)
    assert "rows 4..5 are anchored but missing from the log: rows deleted" in report.problems
    assert report.first_bad_seq == 4


def test_row_edited_and_chain_recomputed(tmp_path):
    log = _log(tmp_path)
    _sql(log.path, "UPDATE audit SET detail = '{\"i\":99}', approver = 'the-lab-director' WHERE seq = 2")
    _rechain(log.path, start=2)
    report = _verify(log.path)
    assert report.problems == [
        f"row {s} does not match its anchored hash: edited and the chain recomputed, or replaced" for s in (2, 3, 4, 5)
    ]
    assert report.first_bad_seq == 2


def test_forged_row_appended(tmp_path):
    log = _log(tmp_path)
    last = log.rows()[-1]
    forged = {**last.model_dump(), "seq": 6, "event": "decision", "approver": "human:director", "detail": "{}"}
    forged["prev_hash"] = last.hash
    cols = ", ".join((*_FIELDS, "hash"))
    values = [forged[k] for k in _FIELDS] + [_row_hash(forged)]
    _sql(
        log.path,
        (f"INSERT INTO audit ({cols}) VALUES ({', '.join('?' * len(values))})", values),
        ("UPDATE audit_head SET seq = 6, hash = ?", (values[-1],)),
    )
    report = _verify(log.path)
    assert report.problems == ["row 6 is not in the anchor: appended outside labwright (forged)"]


def test_log_emptied(tmp_path):
    log = _log(tmp_path)
    _sql(log.path, "DELETE FROM audit", "DELETE FROM audit_head")
    report = _verify(log.path)
    assert report.rows == 0
    assert "rows 1..5 are anchored but missing from the log: the log is empty (emptied or the file replaced)" in (
        report.problems
    )


def test_audit_file_deleted(tmp_path):
    log = _log(tmp_path)
    log.close()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"audit.sqlite{suffix}").unlink(missing_ok=True)
    report = _verify(tmp_path / "audit.sqlite")  # opening creates a fresh, empty database
    assert report.rows == 0
    assert any("rows of another audit log" in p and "deleted or replaced" in p for p in report.problems)


def test_anchor_file_edited_or_missing_is_reported(tmp_path):
    log = _log(tmp_path)
    lines = log.anchor.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["hash"] = "0" * 64
    log.anchor.path.write_text("\n".join([lines[0], json.dumps(rec), *lines[2:]]) + "\n")
    assert any("anchor line 2 (row 2) fails its HMAC" in p for p in _verify(log.path).problems)
    log.anchor.path.unlink()
    assert any("anchor file" in p and "is missing" in p for p in _verify(log.path).problems)


def test_key_is_owner_only_and_a_clean_log_verifies_across_reopen(tmp_path):
    log = _log(tmp_path)
    assert stat.S_IMODE(log.anchor.key_path.stat().st_mode) == 0o600
    again = AuditLog(log.path)
    again.append(run_id="r2", actor="x", event="e")
    report = again.verify()
    assert report.ok and report.rows == 6 and report.anchored_rows == 6


@pytest.mark.parametrize(
    "sql", ["UPDATE audit SET decision = 'allow' WHERE seq = 3", "DELETE FROM audit WHERE seq = 2"]
)
def test_unchained_edits_are_still_reported_by_the_chain(tmp_path, sql):
    log = _log(tmp_path)
    _sql(log.path, sql)
    assert _verify(log.path).first_bad_seq in (2, 3)


def test_cli_audit_verify_states_what_is_wrong(capsys):
    from labwright.cli import main
    from labwright.settings import get_settings

    log = AuditLog()
    for i in range(3):
        log.append(run_id="r", actor="a", event="e", detail={"i": i})
    assert main(["audit", "verify"]) == 0
    assert "3 rows, 3 anchored" in capsys.readouterr().out
    _sql(get_settings().audit_path, "DELETE FROM audit", "DELETE FROM audit_head")
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "audit log BROKEN: 1 problem(s)" in err
    assert "rows 1..3 are anchored but missing from the log: the log is empty" in err
