"""The knowledge store's PostgreSQL dialect (``labwright[postgres]``): a store is one schema of a database.

Connections come from the foundation (:mod:`labwright._postgres`). The store's SQL is written once with ``?``
placeholders (the sqlite3 style); :class:`PgConnection` gives a psycopg connection the sqlite3 calls the store makes
(``execute``, ``executemany``, ``close``). What differs in meaning lives in :class:`PostgresBackend`:

- a write transaction takes the transaction-scoped advisory lock of the store's schema, so writers from any
  process or host are serialised as SQLite's ``BEGIN IMMEDIATE`` serialises them (node and edge ids are chosen as
  max + 1 under that lock) while readers never wait (MVCC);
- a snapshot read is ``REPEATABLE READ``;
- ``INSERT OR IGNORE`` is ``ON CONFLICT DO NOTHING``, and bulk inserts are ``COPY``.

The schema is ``knowledge`` unless the URL names another with libpq's standard ``options=-csearch_path=NAME``, so
one database can hold several stores (and the audit log, ledger and checkpoints) side by side.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from .._postgres import _Connection, _pg_sql, connect, namespace_lock_id
from ..errors import InvalidInput
from ._schema import SCHEMA_VERSION
from ._schema_pg import PG_DDL
from ._sqlite import BUSY_TIMEOUT_S

__all__ = ["POSTGRES", "PostgresBackend", "PgConnection", "store_schema"]

DEFAULT_SCHEMA = "knowledge"
WRITE_WAIT_S = BUSY_TIMEOUT_S  # how long a writer waits for the store's write lock
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


def store_schema(url: str) -> str:
    """The schema holding the store at ``url``: the first of ``options=-csearch_path=…``, else ``knowledge``."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        options = str(conninfo_to_dict(url).get("options") or "")
    except Exception as err:  # psycopg.ProgrammingError: not a valid URL
        raise InvalidInput("store_path", f"not a PostgreSQL URL ({err})") from None
    found = _SEARCH_PATH.search(options)
    schema = found.group(1).strip("'\"") if found else DEFAULT_SCHEMA
    if not _IDENT.fullmatch(schema):
        raise InvalidInput("store_path", f"search_path {schema!r} is not a plain schema name")
    return schema


class PgConnection(_Connection):
    """The foundation's ``?``-placeholder psycopg connection with the rest of what the store calls on a sqlite3
    connection (``executemany``, ``close``) and the store's schema."""

    def __init__(self, raw: Any, schema: str):
        super().__init__(raw)
        self.schema = schema
        self.lock_id = namespace_lock_id(schema)

    def executemany(self, sql: str, rows: Any) -> Any:
        cur = self.raw.cursor()
        rows = list(rows)
        if rows:  # rowcount is then the sum over the rows, as sqlite3's
            cur.executemany(_pg_sql(sql), rows)
        return cur

    def close(self) -> None:
        self.raw.close()


class PostgresBackend:
    """The PostgreSQL dialect of the knowledge store (see the module docstring)."""

    name = "postgres"
    bump_revision = "UPDATE meta SET value = (CAST(value AS BIGINT) + 1)::text WHERE key = 'revision'"
    applied_calls_ddl = None  # created with the other tables (PG_DDL)

    @property
    def open_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)

    @staticmethod
    def insert_ignore(table: str, columns: tuple[str, ...]) -> str:
        """INSERT that skips rows whose key is already stored."""
        marks = ", ".join("?" * len(columns))
        return f"INSERT INTO {table}({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"

    @staticmethod
    def insert_many(conn: PgConnection, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        """Insert ``rows`` (new keys only) with one ``COPY``: several times faster than batched INSERTs, which
        bulk imports feel (a constraint violation fails the COPY, as it fails an INSERT); returns how many."""
        n = 0
        with conn.raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n

    @staticmethod
    def begin_write(conn: PgConnection) -> None:
        conn.execute("BEGIN")
        try:
            # as long as an SQLite writer waits for the file's lock (a large ingest elsewhere), then an error
            conn.execute(f"SET LOCAL lock_timeout = '{int(WRITE_WAIT_S * 1000)}ms'")
            # READ COMMITTED: every statement after the lock sees what the previous writer committed
            conn.execute("SELECT pg_advisory_xact_lock(?)", (conn.lock_id,))
        except BaseException:
            conn.execute("ROLLBACK")  # the connection stays usable for the next transaction
            raise

    @staticmethod
    def begin_read(conn: PgConnection) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    @staticmethod
    def is_missing_table(err: BaseException) -> bool:
        return False  # every table exists from the start (PG_DDL)

    @staticmethod
    def connect(url: str, readonly: bool) -> PgConnection | None:
        """Connect to the store at ``url`` (creating its schema and tables unless ``readonly``); ``None`` when
        ``readonly`` and there is no store there (the caller then reads an empty store)."""
        schema = store_schema(url)
        # no namespace: the foundation would take the store's lock to create the schema on every open, so opening a
        # store would wait for a writer; here only a missing store is created, under that lock
        raw = connect(url)
        try:
            if readonly:
                raw.execute("SET default_transaction_read_only = on")  # the session can never write
            if not _has_store(raw, schema):
                if readonly:
                    raw.close()
                    return None
                _create_store(raw, schema)
            sql = psycopg_sql()
            raw.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        except BaseException:
            raw.close()
            raise
        return PgConnection(raw, schema)


POSTGRES = PostgresBackend()


def psycopg_sql() -> Any:
    """psycopg's ``sql`` module (composing identifiers safely), imported when a URL is used."""
    from psycopg import sql

    return sql


def _has_store(raw: Any, schema: str) -> bool:
    if raw.execute("SELECT to_regclass(%s)", (f'"{schema}".meta',)).fetchone()[0] is None:
        return False
    query = psycopg_sql().SQL("SELECT count(*) FROM {}.meta WHERE key IN ('schema_version', 'revision', 'store_id')")
    return raw.execute(query.format(psycopg_sql().Identifier(schema))).fetchone()[0] == 3


def _create_store(raw: Any, schema: str) -> None:
    """Create the schema, its tables and meta rows in one transaction, under the store's write lock (two processes
    creating the same store at once would otherwise race on the catalog)."""
    sql = psycopg_sql()
    with raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (namespace_lock_id(schema),))
        raw.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        raw.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        raw.execute(PG_DDL)
        for key, value in (("schema_version", str(SCHEMA_VERSION)), ("revision", "0"), ("store_id", uuid.uuid4().hex)):
            raw.execute("INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT DO NOTHING", (key, value))
