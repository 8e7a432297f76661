"""Append-only, hash-chained audit log in SQLite (or PostgreSQL when ``LABWRIGHT_DATABASE_URL`` is set).

Every plan, delegation, tool request, policy decision (with its approver), tool result (as a sha256) and denial is one
row. Each row stores ``prev_hash`` (the hash of the row before it, ``""`` for the first) and
``hash = sha256(prev_hash + canonical JSON of the row's other fields)``, so editing any field, deleting a row in the
middle or reordering rows breaks the chain, and :meth:`AuditLog.verify` reports where. A one-row ``audit_head`` table
records the sequence number and hash of the last row, so deleting rows from the end is detected too.

Three layers of protection, for three threats:

* triggers refuse ``UPDATE`` and ``DELETE`` on the log (and ``TRUNCATE`` on PostgreSQL), which stops accidents (a
  stray query, a buggy tool);
* the hash chain makes editing, deleting or reordering rows *inside* the chain evident;
* the chain is **anchored outside the database**: every append also appends ``(log id, seq, hash)`` to an
  append-only anchor file beside the database (``audit.sqlite.anchor``; ``LABWRIGHT_AUDIT_ANCHOR`` moves it, e.g. to
  an append-only mount), each line authenticated with HMAC-SHA256 under a key file readable by its owner only
  (``audit.sqlite.key``, mode 0600; ``LABWRIGHT_AUDIT_KEY``) and chained to the line before. Someone who edits the
  database alone, even recomputing every hash and the head, no longer matches the anchor: :meth:`AuditLog.verify`
  reports a truncated tail, a recomputed chain, a forged row, an emptied log and a deleted or replaced file, and
  says which rows.

What the anchor cannot do: someone who can read the key file can forge anchor lines, and someone who deletes the
database, the anchor *and* the key together leaves a fresh, empty log (keep the anchor on other storage against
that). See the README's "Security model".

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
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .._postgres import is_postgres_url
from ._anchor import Anchor
from ._tables import Tables

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

_TABLES = """
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
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_SCHEMA = (
    _TABLES
    + """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
)

# PostgreSQL's triggers call a function; TRUNCATE, which skips row triggers, gets a statement trigger of its own.
# Each is created only when missing, so opening the log needs no ownership of them.
_PG_SCHEMA = (
    _TABLES
    + """
DO $$ BEGIN
    IF to_regprocedure('audit_append_only()') IS NULL THEN  -- created once: hosts may connect as different roles
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $f$;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND tgname = 'audit_no_change') THEN
        CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND tgname = 'audit_no_truncate') THEN
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    END IF;
END $$;
"""
)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and non-JSON values (paths, datetimes) as strings: one text per value."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_of(value: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


_INSERT = f"INSERT INTO audit ({', '.join(_FIELDS)}, hash, dedupe_key) VALUES ({', '.join('?' * 15)})"


def _hashed(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's stored fields, except ``seq``, ``time`` and ``prev_hash`` (set inside the write transaction)."""
    args, result = event.get("args"), event.get("result")
    args_sha256, result_sha256 = event.get("args_sha256"), event.get("result_sha256")
    return {
        "run_id": event["run_id"],
        "actor": event["actor"],
        "role": event.get("role"),
        "event": event["event"],
        "tool": event.get("tool"),
        "args_sha256": sha256_of(args) if args_sha256 is None and args is not None else args_sha256,
        "result_sha256": sha256_of(result) if result_sha256 is None and result is not None else result_sha256,
        "decision": event.get("decision"),
        "approver": event.get("approver"),
        "detail": canonical_json(dict(event.get("detail") or {})),
    }


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
    """Result of :meth:`AuditLog.verify`: ``ok`` is False when any row was edited, deleted, reordered, forged, or
    the database no longer matches its anchor."""

    ok: bool
    rows: int
    head_hash: str = Field(description="hash of the last row ('' for an empty log); keep a copy to compare later")
    problems: list[str] = Field(default_factory=list)
    first_bad_seq: int | None = None
    anchored_rows: int = Field(default=0, description="rows whose hash the anchor file vouches for")
    notes: list[str] = Field(
        default_factory=list, description="facts that are not failures (e.g. rows before anchoring)"
    )

    def summary(self) -> str:
        if self.ok:
            return f"audit log OK: {self.rows} rows, {self.anchored_rows} anchored, head {self.head_hash[:16]}"
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"audit log BROKEN{where}: " + "; ".join(self.problems[:5])


class AuditLog(Tables):
    """The hash-chained audit log stored in the SQLite file at ``path``, or in a PostgreSQL database.

    Safe to share between threads of one process (one connection behind a lock) and between processes (each append
    is one write transaction that reads the head and inserts the next row: ``BEGIN IMMEDIATE`` on SQLite, the
    ``audit`` namespace's advisory lock on PostgreSQL, which also serialises writers on other hosts).

    Parameters
    ----------
    path
        SQLite file, or a ``postgresql://`` URL; ``None`` means ``settings.audit_target`` (the URL when
        ``LABWRIGHT_DATABASE_URL`` is set, else ``settings.audit_path``). Parent folders are created.
    anchor, key
        The anchor file and its HMAC key file (see :mod:`labwright.agents._anchor`); default
        ``settings.audit_anchor`` / ``settings.audit_key`` when set, else ``<path>.anchor`` / ``<path>.key``, and on
        PostgreSQL ``LABWRIGHT_HOME/audit.postgres.anchor`` / ``.key``. Writers on several hosts must share one
        anchor and key (point both settings at shared storage): each host's own file would vouch for its rows only.
    """

    schema = _SCHEMA
    pg_schema = _PG_SCHEMA
    namespace = "audit"

    def __init__(
        self, path: str | Path | None = None, *, anchor: str | Path | None = None, key: str | Path | None = None
    ):
        from ..settings import get_settings

        settings = get_settings()
        super().__init__(path if path is not None else settings.audit_target)
        default_anchor, default_key = self.anchor_files(self.target, settings)
        self.anchor = Anchor(Path(anchor or default_anchor).expanduser(), Path(key or default_key).expanduser())
        # A random id per database (a deleted and recreated file gets a new one); written once, then only read.
        row = self._one("SELECT value FROM audit_meta WHERE key = 'log_id'")
        if row is None:
            with self._tx() as conn:
                conn.execute(
                    "INSERT INTO audit_meta VALUES ('log_id', ?) ON CONFLICT DO NOTHING", (secrets.token_hex(16),)
                )
            row = self._one("SELECT value FROM audit_meta WHERE key = 'log_id'")
        self.log_id = row[0]
        self._anchored_from_set = False

    @staticmethod
    def anchor_files(target: str | Path, settings: Any) -> tuple[Path, Path]:
        """The anchor and key files of the log at ``target`` (a SQLite path or a database URL) when none are given."""
        base = settings.home_dir / "audit.postgres" if is_postgres_url(target) else Path(target)
        anchor = settings.audit_anchor or base.with_name(base.name + ".anchor")
        key = settings.audit_key or base.with_name(base.name + ".key")
        return Path(anchor).expanduser(), Path(key).expanduser()

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
        event_kw = {
            "run_id": run_id,
            "actor": actor,
            "event": event,
            "role": role,
            "tool": tool,
            "args": args,
            "result": result,
            "args_sha256": args_sha256,
            "result_sha256": result_sha256,
            "decision": decision,
            "approver": approver,
            "detail": detail,
            "dedupe_key": dedupe_key,
        }
        fields = self.append_many([event_kw])[0]
        return None if fields is None else _to_row(fields)

    def append_many(self, events: list[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        """Append several events (each with :meth:`append`'s keyword arguments) in one transaction, in order.

        One transaction and one anchor write for all of them: a governed call's request and decision cost one commit,
        not two. Returns each stored row's fields (with ``hash``), or ``None`` for an event skipped by its
        ``dedupe_key``. All or none of the events are stored.
        """
        prepared = [(_hashed(ev), ev.get("dedupe_key")) for ev in events]
        stored: list[dict[str, Any] | None] = []
        lines: list[tuple[int, str]] = []
        with self._tx() as conn:
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE one = 1").fetchone()
            seq, prev_hash = head if head else (0, "")
            for fields, dedupe_key in prepared:
                if (
                    dedupe_key is not None
                    and conn.execute("SELECT 1 FROM audit WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
                ):
                    stored.append(None)
                    continue
                seq += 1
                now = datetime.now(UTC).isoformat(timespec="microseconds")  # under the write lock: times ascend
                fields = {**fields, "seq": seq, "time": now, "prev_hash": prev_hash}
                fields["hash"] = prev_hash = _row_hash(fields)
                conn.execute(_INSERT, (*[fields[k] for k in _FIELDS], fields["hash"], dedupe_key))
                stored.append(fields)
                lines.append((seq, prev_hash))
            if not lines:
                return stored
            conn.execute(
                "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (seq, prev_hash),
            )
            if not self._anchored_from_set:
                conn.execute(
                    "INSERT INTO audit_meta VALUES ('anchored_from', ?) ON CONFLICT DO NOTHING", (str(lines[0][0]),)
                )
            # Inside the write transaction: anchor lines of several processes follow row order. A crash between this
            # write and COMMIT leaves anchored rows the log lacks until the next append re-anchors those seqs.
            self.anchor.append_many(self.log_id, lines)
        self._anchored_from_set = True  # committed: later appends need not insert it again
        return stored

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
        with self._snapshot() as conn:  # rows and head from the same state
            raw = conn.execute(f"SELECT {cols} FROM audit ORDER BY seq").fetchall()
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE one = 1").fetchone()
            meta = dict(conn.execute("SELECT key, value FROM audit_meta").fetchall())
        problems: list[str] = []
        first_bad: int | None = None

        def bad(seq: int | None, msg: str) -> None:
            nonlocal first_bad
            problems.append(msg)
            if first_bad is None and seq is not None:
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
        hashes = {r[0]: r[-1] for r in raw}
        anchored, notes = self._check_anchor(hashes, meta, bad)
        return AuditReport(
            ok=not problems,
            rows=len(raw),
            head_hash=prev_hash,
            problems=problems,
            first_bad_seq=first_bad,
            anchored_rows=anchored,
            notes=notes,
        )

    def _check_anchor(
        self, hashes: dict[int, str], meta: dict[str, str], bad: Callable[[int | None, str], None]
    ) -> tuple[int, list[str]]:
        """Compare the rows (seq -> hash) with the anchor; report through ``bad``; return (anchored rows, notes)."""
        state = self.anchor.read()
        for problem in self.anchor.key_problems() + state.problems:
            bad(None, problem)
        if not state.usable:
            return 0, []
        log_id = meta.get("log_id", "")
        mine = state.rows.get(log_id, {})
        others = sum(len(v) for k, v in state.rows.items() if k != log_id)
        if others:
            bad(
                1,
                f"the anchor vouches for {others} rows of another audit log than this database (id {log_id[:8]}): "
                "the audit file was deleted or replaced",
            )
        if not self.anchor.exists and (self.anchor.key_path.exists() or "anchored_from" in meta):
            bad(
                1 if hashes else None, f"the anchor file {self.anchor.path} is missing: {len(hashes)} rows unverifiable"
            )
            return 0, []
        missing = sorted(set(mine) - set(hashes))
        if missing:
            what = "the log is empty (emptied or the file replaced)" if not hashes else "rows deleted"
            bad(missing[0], f"rows {_ranges(missing)} are anchored but missing from the log: {what}")
        first = min(mine) if mine else None
        notes: list[str] = []
        legacy = [s for s in hashes if first is None or s < first]
        if legacy and "anchored_from" in meta:
            start = int(meta["anchored_from"])
            forged = [s for s in legacy if s >= start]
            if forged:
                bad(forged[0], f"rows {_ranges(forged)} are not in the anchor: appended outside labwright (forged)")
            legacy = [s for s in legacy if s < start]
        if legacy:
            notes.append(f"rows {_ranges(legacy)} were written before the log was anchored (chain-checked only)")
        for seq, digest in sorted(hashes.items()):
            if first is None or seq < first:
                continue
            if seq not in mine:
                bad(seq, f"row {seq} is not in the anchor: appended outside labwright (forged)")
            elif mine[seq] != digest:
                bad(seq, f"row {seq} does not match its anchored hash: edited and the chain recomputed, or replaced")
        return sum(1 for s in hashes if mine.get(s) == hashes[s]), notes


def _ranges(seqs: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1..3, 7"``."""
    out, start, prev = [], None, None
    for s in sorted(seqs):
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            out.append(f"{start}..{prev}" if prev != start else f"{start}")
            start = prev = s
    if start is not None:
        out.append(f"{start}..{prev}" if prev != start else f"{start}")
    return ", ".join(out)


def _to_row(fields: Mapping[str, Any]) -> AuditRow:
    data = dict(fields)
    try:
        data["detail"] = json.loads(data["detail"]) if isinstance(data["detail"], str) else data["detail"]
    except json.JSONDecodeError:  # an edited row may hold anything; show it rather than fail to list
        data["detail"] = {"unparsable": data["detail"]}
    if not isinstance(data["detail"], dict):
        data["detail"] = {"value": data["detail"]}
    return AuditRow(**data)
