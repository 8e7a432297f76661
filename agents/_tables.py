"""Where the ledger's and the audit log's tables live: one SQLite file (the embedded default) or one namespace of a
PostgreSQL database, chosen by the target they are opened on (a path, or a ``postgresql://`` URL)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from .._postgres import PostgresFile, is_postgres_url, redact_url
from ._sqlite import SqliteFile

__all__ = ["Tables"]


class Tables:
    """Base of :class:`~labwright.agents.ledger.Ledger` and :class:`~labwright.agents.audit.AuditLog`.

    Subclasses write their SQL once, for SQLite with ``?`` placeholders and portable clauses (``ON CONFLICT ... DO
    NOTHING`` rather than ``INSERT OR IGNORE``); :class:`~labwright._postgres.PostgresFile` runs the same text.

    Attributes
    ----------
    schema, pg_schema
        DDL for SQLite and for PostgreSQL (``pg_schema`` empty: the SQLite DDL serves both).
    namespace
        PostgreSQL schema holding the tables.
    target
        What the tables were opened on: the SQLite file's path or the database URL (hand it to another process).
    path
        The SQLite file, or ``None`` on PostgreSQL.
    """

    schema = ""
    pg_schema = ""
    namespace = ""

    def __init__(self, target: str | Path):
        if is_postgres_url(target):
            self._db: SqliteFile | PostgresFile = PostgresFile(
                str(target), schema=self.pg_schema or self.schema, namespace=self.namespace
            )
            self.path: Path | None = None
            self.target: str = str(target)
        else:
            self._db = SqliteFile(target, schema=self.schema)
            self.path = self._db.path
            self.target = str(self.path)

    @property
    def where(self) -> str:
        """The file, or the database URL without its password, for messages."""
        return redact_url(self.target)

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> AbstractContextManager[Any]:
        """A write transaction (serialised with every other writer of the file or namespace)."""
        return self._db._tx()

    def _snapshot(self) -> AbstractContextManager[Any]:
        """A read transaction whose SELECTs see one state."""
        return self._db._snapshot()

    def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        return self._db._one(sql, params)

    def _all(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._db._all(sql, params)
