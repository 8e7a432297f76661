"""Append-only, hash-chained audit log in SQLite.

Every plan, delegation, tool request, policy decision (with its approver), tool result (as a sha256) and denial is one
row. Each row stores ``prev_hash`` (the hash of the row before it, ``""`` for the first) and
``hash = sha256(prev_hash + canonical JSON of the row's other fields)``, so editing any field, deleting a row in the
middle or reordering rows breaks the chain, and :meth:`AuditLog.verify` reports where. A one-row ``audit_head`` table
records the sequence number and hash of the last row, so deleting rows from the end is detected too.

Two layers of protection, for two threats:

* SQLite triggers refuse ``UPDATE`` and ``DELETE`` on the log, which stops accidents (a stray query, a buggy tool);
* the hash chain makes deliberate tampering *evident*: someone who drops the triggers and edits a row must also
  recompute every later hash and the head, and a copy of the head hash kept elsewhere (or printed by
  ``labwright audit verify``) then no longer matches.

Example
-------
>>> log = AuditLog(tmp_path / "audit.sqlite")                                      # doctest: +SKIP
>>> log.append(run_id="r1", actor="supervisor", role="supervisor", event="plan", detail={"tasks": 2})
>>> log.verify().ok
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ._sqlite import SqliteFile

__all__ = ["AuditLog", "AuditRow", "AuditReport", "canonical_json", "sha256_of"]

# Fields that enter the hash, in this order of columns (the order does not matter for the hash: keys are sorted).
_FIELDS = (
    "seq",
    "run_id",
    "actor",
    "role",
    "event",
    "tool",
    "args_sha256",
    "result_sha256",
    "decision",
    "approver",
    "detail",
    "time",
    "prev_hash",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    event TEXT NOT NULL,
    tool TEXT,
    args_sha256 TEXT,
    result_sha256 TEXT,
    decision TEXT,
    approver TEXT,
    detail TEXT NOT NULL,
    time TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    dedupe_key TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_run ON audit(run_id, seq);
CREATE TABLE IF NOT EXISTS audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and non-JSON values (paths, datetimes) as strings: one text per value."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_of(value: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def _row_hash(fields: Mapping[str, Any]) -> str:
    body = {k: fields[k] for k in _FIELDS if k != "prev_hash"}
    return hashlib.sha256((fields["prev_hash"] + canonical_json(body)).encode()).hexdigest()


class AuditRow(BaseModel):
    """One audit event as stored; ``detail`` is a JSON object."""

    seq: int
    run_id: str
    actor: str
    role: str | None = None
    event: str
    tool: str | None = None
    args_sha256: str | None = None
    result_sha256: str | None = None
    decision: str | None = None
    approver: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    time: str
    prev_hash: str
    hash: str


class AuditReport(BaseModel):
    """Result of :meth:`AuditLog.verify`: ``ok`` is False when any row was edited, deleted or reordered."""

    ok: bool
    rows: int
    head_hash: str = Field(description="hash of the last row ('' for an empty log); keep a copy to compare later")
    problems: list[str] = Field(default_factory=list)
    first_bad_seq: int | None = None

    def summary(self) -> str:
        if self.ok:
            return f"audit log OK: {self.rows} rows, head {self.head_hash[:16]}"
        return f"audit log BROKEN at seq {self.first_bad_seq}: " + "; ".join(self.problems[:5])


class AuditLog(SqliteFile):
    """The hash-chained audit log stored in the SQLite file at ``path``.

    Safe to share between threads of one process (one connection behind a lock) and between processes (each append
    is one ``BEGIN IMMEDIATE`` transaction that reads the head and inserts the next row).

    Parameters
    ----------
    path
        SQLite file; ``None`` means ``get_settings().audit_path``. Parent folders are created.
    """

    schema = _SCHEMA

    def __init__(self, path: str | Path | None = None):
        if path is None:
            from ..settings import get_settings

            path = get_settings().audit_path
        super().__init__(path)

    def append(
        self,
        *,
        run_id: str,
        actor: str,
        event: str,
        role: str | None = None,
        tool: str | None = None,
        args: Any = None,
        result: Any = None,
        args_sha256: str | None = None,
        result_sha256: str | None = None,
        decision: str | None = None,
        approver: str | None = None,
        detail: Mapping[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> AuditRow | None:
        """Append one event and return the stored row.

        ``args``/``result`` are hashed (canonical JSON) into ``args_sha256``/``result_sha256`` when the hashes are not
        given; the values themselves are not stored. With ``dedupe_key``, a second append under the same key is
        skipped and returns ``None``: a LangGraph node that re-runs on resume does not log its events twice.
        """
        if args_sha256 is None and args is not None:
            args_sha256 = sha256_of(args)
        if result_sha256 is None and result is not None:
            result_sha256 = sha256_of(result)
        detail_text = canonical_json(dict(detail or {}))
        with self._tx() as conn:
            if dedupe_key is not None:
                hit = conn.execute("SELECT 1 FROM audit WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
                if hit:
                    return None
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE one = 1").fetchone()
            seq, prev_hash = (head[0] + 1, head[1]) if head else (1, "")
            fields = {
                "seq": seq,
                "run_id": run_id,
                "actor": actor,
                "role": role,
                "event": event,
                "tool": tool,
                "args_sha256": args_sha256,
                "result_sha256": result_sha256,
                "decision": decision,
                "approver": approver,
                "detail": detail_text,
                "time": datetime.now(UTC).isoformat(timespec="microseconds"),
                "prev_hash": prev_hash,
            }
            digest = _row_hash(fields)
            conn.execute(
                f"INSERT INTO audit ({', '.join(_FIELDS)}, hash, dedupe_key) VALUES ({', '.join('?' * 15)})",
                (*[fields[k] for k in _FIELDS], digest, dedupe_key),
            )
            conn.execute(
                "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (seq, digest),
            )
        return _to_row({**fields, "hash": digest})

    def rows(self, run_id: str | None = None) -> list[AuditRow]:
        """Stored rows in order, optionally only those of one run."""
        cols = ", ".join((*_FIELDS, "hash"))
        if run_id is None:
            raw = self._all(f"SELECT {cols} FROM audit ORDER BY seq")
        else:
            raw = self._all(f"SELECT {cols} FROM audit WHERE run_id = ? ORDER BY seq", (run_id,))
        return [_to_row(dict(zip((*_FIELDS, "hash"), r))) for r in raw]

    def run_ids(self) -> list[str]:
        """Run ids in order of their first event."""
        return [r[0] for r in self._all("SELECT run_id FROM audit GROUP BY run_id ORDER BY MIN(seq)")]

    def verify(self) -> AuditReport:
        """Recompute the chain; report edited, deleted, inserted or reordered rows and a mismatched head."""
        cols = ", ".join((*_FIELDS, "hash"))
        with self._lock:  # one read transaction: rows and head from the same snapshot
            self._conn.execute("BEGIN")
            try:
                raw = self._conn.execute(f"SELECT {cols} FROM audit ORDER BY seq").fetchall()
                head = self._conn.execute("SELECT seq, hash FROM audit_head WHERE one = 1").fetchone()
            finally:
                self._conn.execute("COMMIT")
        problems: list[str] = []
        first_bad: int | None = None

        def bad(seq: int, msg: str) -> None:
            nonlocal first_bad
            problems.append(msg)
            if first_bad is None:
                first_bad = seq

        prev_hash, expected_seq = "", 1
        for r in raw:
            fields = dict(zip((*_FIELDS, "hash"), r))
            seq = fields["seq"]
            if seq != expected_seq:
                bad(expected_seq, f"rows {expected_seq}..{seq - 1} are missing (deleted)")
            if fields["prev_hash"] != prev_hash:
                bad(seq, f"row {seq}: prev_hash does not match the hash of the row before it")
            if _row_hash(fields) != fields["hash"]:
                bad(seq, f"row {seq}: content does not match its hash (edited)")
            prev_hash, expected_seq = fields["hash"], seq + 1
        last_seq = expected_seq - 1
        if head is None and raw:
            bad(1, "the head record is missing")
        elif head is not None and (head[0] != last_seq or head[1] != prev_hash):
            bad(
                last_seq + 1,
                f"the head says the log ends at row {head[0]} but it ends at row {last_seq} "
                "(rows deleted from the end, or the head edited)",
            )
        return AuditReport(
            ok=not problems, rows=len(raw), head_hash=prev_hash, problems=problems, first_bad_seq=first_bad
        )


def _to_row(fields: Mapping[str, Any]) -> AuditRow:
    data = dict(fields)
    try:
        data["detail"] = json.loads(data["detail"]) if isinstance(data["detail"], str) else data["detail"]
    except json.JSONDecodeError:  # an edited row may hold anything; show it rather than fail to list
        data["detail"] = {"unparsable": data["detail"]}
    if not isinstance(data["detail"], dict):
        data["detail"] = {"value": data["detail"]}
    return AuditRow(**data)
