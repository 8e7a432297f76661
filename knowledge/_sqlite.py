"""The knowledge store's SQLite dialect: one file in WAL mode, the embedded default.

Everything the two backends say differently lives in a backend object (this one and :mod:`._postgres`): how a store
is opened, how a write transaction takes the store's write lock, how a snapshot read starts, and the few statements
whose syntax differs. The store's other SQL is written once, with ``?`` placeholders.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from ..tools._confined import is_confined, open_sqlite
from ._schema import DDL, PRAGMAS, SCHEMA_VERSION

__all__ = ["SQLITE", "SqliteBackend", "BUSY_TIMEOUT_S"]

# A writer waits this long for another writer's transaction (a large ingest in another process) before giving up.
BUSY_TIMEOUT_S = 600.0


class SqliteBackend:
    """The SQLite dialect of the knowledge store (see the module docstring)."""

    name = "sqlite"
    #: errors that mean "this location holds no knowledge store"
    open_errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)
    bump_revision = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'"
    # Created by the first governed call that writes, so stores made before exactly-once records keep their schema.
    applied_calls_ddl = (
        "CREATE TABLE IF NOT EXISTS applied_calls "
        "(key TEXT PRIMARY KEY, tool TEXT NOT NULL, outcome TEXT NOT NULL, time TEXT NOT NULL)"
    )

    @staticmethod
    def insert_ignore(table: str, columns: tuple[str, ...]) -> str:
        """INSERT that skips rows whose key is already stored."""
        return f"INSERT OR IGNORE INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

    @staticmethod
    def insert_many(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> int:
        """Insert ``rows`` (new keys only) in one batched statement; returns how many."""
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table}({', '.join(columns)}) VALUES ({marks})", rows)
        return len(rows)

    @staticmethod
    def begin_write(conn: sqlite3.Connection) -> None:
        # IMMEDIATE: take the file's write lock now, so the max(id) + 1 ids chosen inside cannot collide
        conn.execute("BEGIN IMMEDIATE")

    @staticmethod
    def begin_read(conn: sqlite3.Connection) -> None:
        # a read transaction is one WAL snapshot: no writer can commit between its statements
        conn.execute("BEGIN")

    @staticmethod
    def is_missing_table(err: BaseException) -> bool:
        return isinstance(err, sqlite3.OperationalError) and "no such table" in str(err)

    @staticmethod
    def connect(path: str | Path, readonly: bool) -> sqlite3.Connection:
        """Open (and, unless ``readonly``, create) the store file; a missing file read-only is an empty store.

        In a governed call a confined ``path`` is opened through :func:`~labwright.tools._confined.open_sqlite`: a
        symlink swapped onto it after the policy check is refused instead of followed."""
        if readonly:
            raw = None
            if isinstance(path, Path) and path.is_file():
                # mode=ro: the open cannot write (no schema, no meta rows), so it never waits for a long ingest.
                target = f"{path.absolute().as_uri()}?mode=ro"
                raw = open_sqlite(path, lambda: _open(target, uri=True), readonly=True)
            if raw is not None:
                return _configure(raw, uri=True)
            # A store that does not exist is empty: read an empty one in memory rather than create the file.
            conn = _connect(":memory:")
        elif isinstance(path, Path):
            if not is_confined(path):  # a confined path's folders are made by open_sqlite, following no symlink
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = _configure(open_sqlite(path, lambda: _open(str(path)), readonly=False))
        else:
            conn = _connect(str(path))
        try:
            _create_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn


SQLITE = SqliteBackend()


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    """A connection with the store's pragmas (WAL, foreign keys) and a busy timeout fit for long ingests."""
    return _configure(_open(target, uri=uri), uri=uri)


def _open(target: str, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)


def _configure(conn: sqlite3.Connection, *, uri: bool = False) -> sqlite3.Connection:
    try:
        for pragma in PRAGMAS:
            if uri and pragma.startswith("PRAGMA journal_mode"):
                continue  # set by the writer that created the file; a read-only connection cannot change it
            conn.execute(pragma)
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    except BaseException:
        conn.close()  # e.g. not a database: nothing is left open
        raise
    return conn


def _create_schema(conn: sqlite3.Connection) -> None:
    """Create missing tables and the meta rows; writes (and takes the write lock) only for a new or older store."""
    conn.executescript(DDL)  # CREATE ... IF NOT EXISTS of existing tables takes no lock
    if (
        conn.execute("SELECT count(*) FROM meta WHERE key IN ('schema_version', 'revision', 'store_id')").fetchone()[0]
        == 3
    ):
        return
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', '0')")
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,))
    conn.execute("COMMIT")
