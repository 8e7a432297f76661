"""Copy the embedded SQLite files (audit log, ledger, checkpoints) into a PostgreSQL database: ``labwright db migrate``.

The audit log is copied row for row, hashes and the log's id unchanged, so the anchor file that vouched for the
SQLite log vouches for the copy (it is copied beside the key when the PostgreSQL log's anchor lives elsewhere). The
chain is verified before (a broken log is not copied) and after. The ledger's rows are copied as they are; LangGraph
checkpoints are read with ``SqliteSaver`` and written with ``PostgresSaver`` (their tables differ), every checkpoint
of every run with its pending writes, so a run paused before the move resumes after it.

All rows go in one transaction: a failure leaves the database as it was (only the empty checkpoint tables, which
``PostgresSaver.setup`` must create outside a transaction, may remain). A target that already holds rows is refused
unless ``force``, which replaces what it holds.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .._postgres import is_postgres_url, namespace_lock_id, redact_url
from ..errors import InvalidInput, LabwrightError, MalformedFile
from . import _checkpoints
from .audit import _FIELDS, _PG_SCHEMA, AuditLog
from .ledger import Ledger

__all__ = ["MigrationReport", "migrate_to_postgres", "KNOWLEDGE_HOOK"]

# The knowledge store migrates itself (it owns its schema): labwright.knowledge.<KNOWLEDGE_HOOK>(sqlite_path, url,
# replace=...) -> rows copied per table, in its own transaction after the others.
KNOWLEDGE_HOOK = "migrate_store"

_LEDGER_TABLES = ("results", "asks", "ask_answerers", "budgets", "llm", "runs")
_AUDIT_COLUMNS = (*_FIELDS, "hash", "dedupe_key")


class MigrationReport(BaseModel):
    """What ``labwright db migrate`` copied."""

    target: str = Field(description="the database URL, without its password")
    audit_rows: int = 0
    audit_head: str = Field(default="", description="hash of the last audit row, the same before and after")
    ledger_rows: dict[str, int] = Field(default_factory=dict)
    checkpoints: int = 0
    checkpoint_writes: int = 0
    threads: int = 0
    anchor: str = Field(default="", description="the anchor file the PostgreSQL log is checked against")
    knowledge: str = ""


def migrate_to_postgres(url: str, *, settings: Any = None, force: bool = False) -> MigrationReport:
    """Copy the SQLite audit log, ledger and checkpoints under ``settings`` into the database at ``url``.

    Raises
    ------
    InvalidInput
        ``to``: not a PostgreSQL URL, or the target already holds rows (without ``force``); ``audit``: the SQLite
        audit log does not verify (nothing is copied).
    MalformedFile
        A SQLite file holds a value PostgreSQL's column types refuse (nothing is copied).
    """
    if settings is None:
        from ..settings import get_settings

        settings = get_settings()
    if not is_postgres_url(url):
        raise InvalidInput("to", f"expected a postgresql:// URL, got {redact_url(str(url))!r}")
    report = MigrationReport(target=redact_url(url))
    source = _verified_source(settings.audit_path) if settings.audit_path.exists() else None
    if source is not None:
        report.audit_rows, report.audit_head = source.rows, source.head_hash
    saver = _checkpoints.open_checkpointer(url)  # creates the (empty) checkpoint tables: not possible in a transaction
    conn = saver.conn
    try:
        _refuse_if_held(conn, force)
        staged = _stage_anchor(settings, url, force) if source is not None else None
        try:
            with conn.transaction():
                _clear(conn, force)
                if source is not None:
                    _copy_audit(conn, settings.audit_path, report)
                report.ledger_rows = _copy_ledger(conn, settings.ledger_path)
                if settings.checkpoint_path.exists():
                    _copy_checkpoints(saver, settings.checkpoint_path, report)
        except BaseException:
            if staged:
                staged[0].unlink(missing_ok=True)
                staged[2].unlink(missing_ok=True)
            raise
        if staged:
            _place_anchor(staged)
    finally:
        _checkpoints.close_checkpointer(saver)
    if source is not None:
        log = AuditLog(url)
        after, report.anchor = log.verify(), str(log.anchor.path)
        log.close()
        if not after.ok or after.head_hash != source.head_hash or after.rows != source.rows:
            raise LabwrightError(f"the migrated audit log does not verify on {report.target}: {after.summary()}")
    report.knowledge = _knowledge(settings, url, force)
    return report


def _verified_source(path: Path) -> Any:
    log = AuditLog(path)
    try:
        report = log.verify()
    finally:
        log.close()
    if not report.ok:
        raise InvalidInput("audit", f"the SQLite audit log {path} does not verify, not copied: {report.summary()}")
    return report


def _count(conn: Any, table: str) -> int:
    row = conn.execute(f"SELECT to_regclass('{table}') IS NOT NULL AS present").fetchone()
    if not row["present"]:
        return 0
    return int(conn.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone()["n"])


def _refuse_if_held(conn: Any, force: bool) -> None:
    tables = [f"audit.{t}" for t in ("audit", "audit_head")] + [f"ledger.{t}" for t in _LEDGER_TABLES]
    tables += ["checkpoints.checkpoints", "checkpoints.checkpoint_writes", "knowledge.nodes", "knowledge.documents"]
    held = {t: n for t in tables if (n := _count(conn, t))}
    if held and not force:
        listed = ", ".join(f"{t} ({n} rows)" for t, n in held.items())
        raise InvalidInput("to", f"the target database is not empty: {listed}; pass --force to replace it")


def _clear(conn: Any, force: bool) -> None:
    for namespace in ("audit", "ledger"):  # writers of other processes wait until the copy is committed
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (namespace_lock_id(namespace),))
    _refuse_if_held(conn, force)  # again, under the locks: a writer may have come in since the first look
    # The audit and ledger namespaces are recreated by the copy; the checkpoint tables are emptied (kept for setup()).
    conn.execute("DROP SCHEMA IF EXISTS audit CASCADE")
    conn.execute("DROP SCHEMA IF EXISTS ledger CASCADE")
    for table in ("checkpoint_writes", "checkpoint_blobs", "checkpoints"):
        conn.execute(f"DELETE FROM checkpoints.{table}")


def _create(conn: Any, namespace: str, ddl: str) -> None:
    conn.execute(f"CREATE SCHEMA {namespace}")
    conn.execute(f"SET LOCAL search_path TO {namespace}")
    conn.execute(ddl, prepare=False)  # several statements: never a prepared one (the saver prepares by default)


def _copy_rows(conn: Any, path: Path, src: sqlite3.Connection, table: str, columns: tuple[str, ...] = ()) -> int:
    import psycopg

    cur = src.execute(f"SELECT {', '.join(columns) if columns else '*'} FROM {table}")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if rows:
        marks = ", ".join(["%s"] * len(names))
        try:
            with conn.cursor() as pg:
                pg.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
        except (psycopg.DataError, psycopg.IntegrityError) as err:  # SQLite kept a value PostgreSQL's types refuse
            raise MalformedFile(str(path), f"table {table}: {err}; nothing was copied") from err
    return len(rows)


def _copy_audit(conn: Any, path: Path, report: MigrationReport) -> None:
    _create(conn, "audit", _PG_SCHEMA)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _copy_rows(conn, path, src, "audit", _AUDIT_COLUMNS)
        _copy_rows(conn, path, src, "audit_head")
        _copy_rows(conn, path, src, "audit_meta")  # the log's id: the anchor's lines name it
        want = src.execute(f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit ORDER BY seq").fetchall()
    finally:
        src.close()
    got = conn.execute(f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit ORDER BY seq").fetchall()
    if [tuple(r.values()) for r in got] != want:  # checked before COMMIT: a difference writes nothing
        raise LabwrightError("the audit rows read back from PostgreSQL differ from the SQLite rows; nothing copied")


def _copy_ledger(conn: Any, path: Path) -> dict[str, int]:
    _create(conn, "ledger", Ledger.pg_schema)
    if not path.exists():
        return {}
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        present = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t: _copy_rows(conn, path, src, t) for t in _LEDGER_TABLES if t in present}
    finally:
        src.close()


def _copy_checkpoints(saver: Any, path: Path, report: MigrationReport) -> None:
    saver.conn.execute("SET LOCAL search_path TO checkpoints")
    with _checkpoints.checkpointer(path) as source:
        tuples = sorted(source.list(None), key=lambda t: t.checkpoint["id"])  # ids are time-ordered (uuid6)
        threads = set()
        for t in tuples:
            conf = t.config["configurable"]
            parent = (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
            put_conf = {"configurable": {"thread_id": conf["thread_id"], "checkpoint_ns": conf["checkpoint_ns"]}}
            if parent:
                put_conf["configurable"]["checkpoint_id"] = parent
            stored = saver.put(put_conf, t.checkpoint, t.metadata, dict(t.checkpoint["channel_versions"]))
            by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
            for task_id, channel, value in t.pending_writes or ():
                by_task[task_id].append((channel, value))
            for task_id, writes in by_task.items():
                saver.put_writes(stored, writes, task_id)
                report.checkpoint_writes += len(writes)
            threads.add(conf["thread_id"])
        report.checkpoints, report.threads = len(tuples), len(threads)


def _stage_anchor(settings: Any, url: str, force: bool) -> tuple[Path, Path, Path, Path] | None:
    """Copy the SQLite log's anchor and key to temporary files beside where the PostgreSQL log looks for them;
    ``None`` when both logs use the same files."""
    src = AuditLog.anchor_files(settings.audit_path, settings)
    dst = AuditLog.anchor_files(url, settings)
    if src == dst:
        return None
    for path in dst:
        if path.exists() and path.stat().st_size and not force:
            raise InvalidInput("to", f"{path} exists (the anchor of a PostgreSQL audit log); pass --force to replace")
    staged = []
    for s, d in zip(src, dst):
        d.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d.parent, prefix=d.name + ".")
        os.close(fd)
        os.chmod(tmp, 0o600)
        if s.exists():
            shutil.copyfile(s, tmp)
        staged.append(Path(tmp))
    return staged[0], dst[0], staged[1], dst[1]


def _place_anchor(staged: tuple[Path, Path, Path, Path]) -> None:
    anchor_tmp, anchor, key_tmp, key = staged
    os.replace(key_tmp, key)
    os.replace(anchor_tmp, anchor)


def _knowledge(settings: Any, url: str, force: bool) -> str:
    from .. import knowledge

    hook = getattr(knowledge, KNOWLEDGE_HOOK, None)
    if hook is None:
        return f"not copied: labwright.knowledge has no {KNOWLEDGE_HOOK}() yet"
    if not settings.knowledge_path.exists():
        return "no SQLite knowledge store to copy"
    copied = hook(settings.knowledge_path, url, replace=force)
    return ", ".join(f"{n} {table}" for table, n in copied.items())
