"""Moving a knowledge store from its SQLite file into PostgreSQL (the hook of ``labwright db migrate``)."""

from __future__ import annotations

from pathlib import Path

from .._postgres import is_postgres_url, redact_url
from ..errors import InvalidInput
from ._postgres import POSTGRES
from ._store import KnowledgeStore

__all__ = ["migrate_store"]

# Tables in foreign-key order, each with the columns copied (ids included, so edge and node ids survive the move).
_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nodes", ("id", "key", "label", "kind", "smiles")),
    ("aliases", ("alias", "node_id")),
    ("edges", ("id", "key", "relation", "attrs", "confidence")),
    ("incidences", ("edge_id", "node_id", "role")),
    ("documents", ("id", "sha256", "title", "ingested_at")),
    ("provenance", ("id", "edge_id", "document_id", "locator", "extractor", "extractor_version", "created_at")),
    ("applied_calls", ("key", "tool", "outcome", "time")),
)


def migrate_store(src_sqlite_path: str | Path, dst_url: str, *, replace: bool = False) -> dict[str, int]:
    """Copy the SQLite knowledge store ``src_sqlite_path`` into the PostgreSQL store at ``dst_url``.

    Nodes, aliases, hyperedges, incidences, documents, provenance and the exactly-once records of governed calls
    (idempotency keys with their outcomes) are copied with their ids, and the store keeps its id; the copy is one
    transaction, so a failure leaves the target as it was. The source is only read.

    Parameters
    ----------
    src_sqlite_path
        The SQLite store file.
    dst_url
        ``postgresql://`` URL of the target (schema ``knowledge``, or the one named by ``options=-csearch_path=``).
    replace
        Empty a target that already holds a store's content first; without it a non-empty target is refused.

    Returns
    -------
    dict
        Rows copied per table.

    Raises
    ------
    InvalidInput
        ``src_sqlite_path``: no such file, or not a knowledge store; ``dst_url``: not a PostgreSQL URL, unreachable,
        or not empty (and ``replace`` not given).
    """
    src_path = Path(src_sqlite_path).expanduser()
    if not src_path.is_file():
        raise InvalidInput("src_sqlite_path", f"no knowledge store file at {src_path}")
    if not is_postgres_url(dst_url):
        raise InvalidInput("dst_url", f"expected a postgresql:// URL, got {redact_url(str(dst_url))!r}")
    try:
        src = KnowledgeStore(src_path, readonly=True)
    except InvalidInput as err:
        raise InvalidInput("src_sqlite_path", err.reason) from None
    try:
        try:
            dst = KnowledgeStore(dst_url)
        except InvalidInput as err:
            raise InvalidInput("dst_url", err.reason) from None
        with dst:
            try:
                return _copy(src, dst, replace)
            except dst.backend.open_errors as err:  # rolled back: a row the target's constraints refuse
                why = f"{src_path} is not a consistent knowledge store: {err}"
                raise InvalidInput("src_sqlite_path", why) from None
    finally:
        src.close()


def _copy(src: KnowledgeStore, dst: KnowledgeStore, replace: bool) -> dict[str, int]:
    q = dst.conn.execute
    copied: dict[str, int] = {}
    with dst.transaction():  # the store's write lock: no writer can interleave; the revision is bumped at commit
        held = q(f"SELECT {' + '.join(f'(SELECT count(*) FROM {t})' for t in ('nodes', 'documents', 'applied_calls'))}")
        if held.fetchone()[0] and not replace:
            raise InvalidInput("dst_url", f"the knowledge store at {dst.path} is not empty; replace=True overwrites it")
        q(f"TRUNCATE {', '.join(t for t, _ in reversed(_TABLES))}")
        source_tables = {r[0] for r in src.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, columns in _TABLES:
            if table not in source_tables:  # applied_calls appears with the first governed write
                copied[table] = 0
                continue
            rows = src.conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
            copied[table] = POSTGRES.insert_many(dst.conn, table, columns, rows)
        # the identity column continues after the copied ids
        q("SELECT setval(pg_get_serial_sequence('provenance', 'id'), coalesce(max(id), 0) + 1, false) FROM provenance")
        meta = dict(src.conn.execute("SELECT key, value FROM meta"))
        for key in ("store_id", "revision"):
            q("UPDATE meta SET value = ? WHERE key = ?", (meta[key], key))
        dst.store_id = meta["store_id"]
    return copied
