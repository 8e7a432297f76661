"""LangGraph checkpointers for chat and workflow runs: ``SqliteSaver`` on the embedded file, or ``PostgresSaver``
(``langgraph-checkpoint-postgres``) in the ``checkpoints`` namespace of the database at ``LABWRIGHT_DATABASE_URL``,
so a run paused on one host (or killed there) resumes from any other that shares the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._postgres import EXTRA_HINT, connect, is_postgres_url, namespace_lock_id

__all__ = ["open_checkpointer", "close_checkpointer", "checkpointer", "stored_bytes", "compact", "disk_bytes"]

NAMESPACE = "checkpoints"


def _target(target: str | Path | None) -> str | Path:
    if target is not None:
        return target
    from ..settings import get_settings

    return get_settings().checkpoint_target


def open_checkpointer(target: str | Path | None = None) -> Any:
    """A checkpointer on ``target``: a SQLite file (WAL mode, shareable by threads) or a ``postgresql://`` URL;
    default ``settings.checkpoint_target``. Its tables are created (or migrated) on open."""
    target = _target(target)
    if is_postgres_url(target):
        return _open_postgres(str(target))
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def _open_postgres(url: str) -> Any:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError as err:
        from ..errors import InvalidInput

        raise InvalidInput("database_url", EXTRA_HINT) from err
    # The settings PostgresSaver documents: autocommit, no server-side prepared statements, rows as dicts.
    conn = connect(url, namespace=NAMESPACE, prepare_threshold=0, row_factory=dict_row)
    saver = PostgresSaver(conn)
    lock = namespace_lock_id(NAMESPACE)
    # setup() runs its migrations as separate statements: two processes opening a fresh database at once would race.
    conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
    try:
        saver.setup()
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
    return saver


def close_checkpointer(saver: Any) -> None:
    saver.conn.close()


@contextmanager
def checkpointer(target: str | Path | None = None) -> Iterator[Any]:
    """:func:`open_checkpointer`, closed on exit."""
    saver = open_checkpointer(target)
    try:
        yield saver
    finally:
        close_checkpointer(saver)


def _on_postgres(saver: Any) -> bool:
    return not isinstance(saver.conn, sqlite3.Connection)


def stored_bytes(saver: Any, run_id: str | None = None) -> int:
    """Bytes of checkpoints and pending writes stored (for one run, or all)."""
    if _on_postgres(saver):
        where, params = ("WHERE thread_id = %s", (run_id,)) if run_id else ("", ())
        queries = (
            f"SELECT COALESCE(SUM(pg_column_size(checkpoint) + pg_column_size(metadata)), 0) AS n FROM checkpoints "
            f"{where}",
            f"SELECT COALESCE(SUM(LENGTH(blob)), 0) AS n FROM checkpoint_blobs {where}",
            f"SELECT COALESCE(SUM(LENGTH(blob)), 0) AS n FROM checkpoint_writes {where}",
        )
        with saver.lock:
            return int(sum(saver.conn.execute(q, params).fetchone()["n"] for q in queries))
    where, params = ("WHERE thread_id = ?", (run_id,)) if run_id else ("", ())
    with saver.lock:
        cur = saver.conn.cursor()
        a = cur.execute(
            f"SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints {where}", params
        ).fetchone()[0]
        b = cur.execute(f"SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes {where}", params).fetchone()[0]
    return int(a + b)


def compact(saver: Any) -> None:
    """Give back the space of deleted checkpoints: SQLite's VACUUM and a truncated WAL. On PostgreSQL autovacuum
    makes it reusable; shrinking the tables (VACUUM FULL) would lock out every host's writers, so it is left to the
    database's administrator."""
    if _on_postgres(saver):
        return
    with saver.lock:
        saver.conn.commit()
        saver.conn.execute("VACUUM")
        # VACUUM goes through the write-ahead log; fold it back so the files on disk shrink too.
        saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def disk_bytes(saver: Any, path: str | Path) -> int:
    """Bytes on disk: the SQLite file at ``path`` and its WAL, or the checkpoint tables' size on PostgreSQL."""
    if _on_postgres(saver):
        sql = (
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c "
            "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = %s AND c.relkind = 'r'"
        )
        with saver.lock:
            return int(saver.conn.execute(sql, (NAMESPACE,)).fetchone()["n"])
    path = Path(path)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
