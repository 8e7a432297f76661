"""PostgreSQL, the shared backend chosen by ``LABWRIGHT_DATABASE_URL``: connections and :class:`PostgresFile`.

SQLite files under ``LABWRIGHT_HOME`` are the embedded default. When several processes on several hosts run and
approve workflows at once, they point ``LABWRIGHT_DATABASE_URL`` (``postgresql://user@host/db``) at one PostgreSQL
database instead; the ledger, the audit log, the knowledge store and LangGraph's checkpoints then live there.

Each component keeps its tables in its own PostgreSQL schema (its *namespace*: ``ledger``, ``audit``,
``checkpoints``, ``knowledge``), so their table names never meet and one database serves them all.

:class:`PostgresFile` is the counterpart of :class:`labwright.agents._sqlite.SqliteFile`: the same ``_tx`` /
``_one`` / ``_all`` / ``_snapshot`` contract, SQL written with SQLite's ``?`` placeholders (translated here), and
write transactions that are serialised across processes *and hosts* by a transaction-level advisory lock
(``pg_advisory_xact_lock``) on the namespace, the way ``BEGIN IMMEDIATE`` serialises the writers of one SQLite file.

psycopg is imported only when a URL is used: ``import labwright`` and the SQLite path never need it
(``pip install 'labwright[postgres]'``).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from .errors import InvalidInput

__all__ = ["PostgresFile", "is_postgres_url", "connect", "redact_url", "namespace_lock_id", "database_url"]

_SCHEMES = ("postgresql://", "postgres://")
EXTRA_HINT = "PostgreSQL needs the optional extra: pip install 'labwright[postgres]'"


def is_postgres_url(target: object) -> bool:
    """True when ``target`` is a ``postgresql://`` (or ``postgres://``) URL rather than a file path."""
    return isinstance(target, str) and target.startswith(_SCHEMES)


def database_url() -> str | None:
    """``settings.database_url`` now (``None``: the embedded SQLite files)."""
    from .settings import get_settings

    return get_settings().database_url


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs."""
    head, sep, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{head}{sep}{userinfo.split(':', 1)[0]}:***@{hostpart}"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as err:  # the optional extra is missing
        raise InvalidInput("database_url", EXTRA_HINT) from err
    return psycopg


def connect(url: str, *, namespace: str | None = None, **kwargs: Any) -> Any:
    """An autocommit ``psycopg.Connection`` to ``url``; with ``namespace``, that schema is created (once, under its
    advisory lock) and made the connection's ``search_path``.

    Raises
    ------
    InvalidInput
        ``database_url``: not a PostgreSQL URL, psycopg missing, or the server cannot be reached (the message shows
        the URL without its password).
    """
    if not is_postgres_url(url):
        raise InvalidInput("database_url", f"expected a postgresql:// URL, got {redact_url(str(url))!r}")
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(url, autocommit=True, **kwargs)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as err:
        raise InvalidInput("database_url", f"cannot connect to {redact_url(url)}: {err}") from err
    if namespace is not None:
        ident = psycopg.sql.Identifier(namespace)
        with conn.transaction():
            # CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent creator; the lock makes it so.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (namespace_lock_id(namespace),))
            conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        conn.execute(psycopg.sql.SQL("SET search_path TO {}").format(ident))
    return conn


def namespace_lock_id(namespace: str) -> int:
    """The advisory-lock key (a signed 64-bit integer) that serialises the writers of ``namespace``."""
    digest = hashlib.sha256(f"labwright:{namespace}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Connection:
    """A psycopg connection that takes SQL written for SQLite's ``?`` placeholders, so the same statements serve both
    backends; ``raw`` is the psycopg connection."""

    def __init__(self, raw: Any):
        self.raw = raw

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        if params:
            return self.raw.execute(_pg_sql(sql), tuple(params))
        return self.raw.execute(sql)


class PostgresFile:
    """Tables of one component in the PostgreSQL schema ``namespace`` of the database at ``url``.

    One connection per instance behind a lock (threads), autocommit for single reads, and write transactions
    (``_tx``) that first take ``pg_advisory_xact_lock`` on the namespace: a read-then-insert (the audit chain's
    head, a budget check) is atomic across every process and host that writes to it. The lock is released at COMMIT
    or ROLLBACK, and by the server if the writer dies (``kill -9``, a lost host).

    A connection the server dropped (a restart, an idle timeout, a terminated backend) is opened again by the next
    call: a read is retried once, and a transaction is retried once if its first statement finds the connection
    gone (nothing of the caller's has run then). A transaction cut off later fails; its caller sees the error.

    Parameters
    ----------
    url
        ``postgresql://`` URL of the database.
    schema
        DDL run once when opened, inside a write transaction (default: the class attribute ``schema``).
    namespace
        PostgreSQL schema holding the tables (default: the class attribute ``namespace``).
    """

    schema = ""
    namespace = "labwright"

    def __init__(self, url: str, *, schema: str | None = None, namespace: str | None = None):
        self.url = url
        if namespace is not None:
            self.namespace = namespace
        self._lock = threading.Lock()
        self._lock_id = namespace_lock_id(self.namespace)
        self._conn = _Connection(connect(url, namespace=self.namespace))
        ddl = self.schema if schema is None else schema
        if ddl.strip():
            with self._tx() as conn:
                conn.execute(ddl)

    def close(self) -> None:
        with self._lock:
            self._conn.raw.close()

    def __del__(self) -> None:
        # Stores are often opened for one call (a listing, a page) and dropped: close the connection with them.
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.raw.close()

    def _live(self) -> _Connection:
        """The connection, opened again if it is closed or was found broken (call with the lock held)."""
        if self._conn.raw.closed or self._conn.raw.broken:
            self._conn = _Connection(connect(self.url, namespace=self.namespace))
        return self._conn

    def _retrying(self, first: Callable[[_Connection], Any]) -> tuple[_Connection, Any]:
        """``first(connection)`` on a live connection; once more on a new one if the server had dropped it."""
        error = _psycopg().OperationalError
        try:
            conn = self._live()
            return conn, first(conn)
        except error:
            if not self._conn.raw.broken:
                raise
        conn = self._live()
        return conn, first(conn)

    @contextmanager
    def _transaction(self, begin: str, *then: tuple[str, tuple]) -> Iterator[_Connection]:
        with self._lock:

            def start(conn: _Connection) -> None:
                conn.execute(begin)
                try:
                    for sql, params in then:
                        conn.execute(sql, params)
                except BaseException:  # e.g. a lock_timeout: leave no transaction open behind the error
                    if not conn.raw.broken:
                        conn.execute("ROLLBACK")
                    raise

            conn, _ = self._retrying(start)
            try:
                yield conn
            except BaseException:
                if not conn.raw.broken:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _tx(self) -> AbstractContextManager[_Connection]:
        """A write transaction holding the namespace's advisory lock; rolled back if the body raises."""
        return self._transaction("BEGIN", ("SELECT pg_advisory_xact_lock(?)", (self._lock_id,)))

    def _snapshot(self) -> AbstractContextManager[_Connection]:
        """A read-only transaction that sees one consistent snapshot (several SELECTs that must agree)."""
        return self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        with self._lock:
            return self._retrying(lambda conn: conn.execute(sql, params).fetchone())[1]

    def _all(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._retrying(lambda conn: conn.execute(sql, params).fetchall())[1]
