"""SQLite schema of the knowledge store (one file, WAL journal); :mod:`._schema_pg` is its PostgreSQL counterpart.

Tables
------
nodes        id, key (canonical: ``inchikey:…`` or ``text:…``), label, kind, smiles
aliases      normalised surface form → node (the node's synonyms)
edges        id, key (content hash of relation + roles, or an imported id), relation, attrs (JSON), confidence
incidences   (edge, node, role) with role ``source`` | ``target`` | ``member`` (undirected);
             primary key (edge, node) gives edge→nodes, index (node, edge) gives node→edges
documents    id, sha256 of the ingested text (re-ingesting identical text is a no-op), title, time
provenance   edge, document, locator (JSON: chunk, char span, chunk hash, …), extractor, extractor version, time
meta         key/value; ``revision`` increases with every committed write (invalidates in-memory indexes)
"""

from __future__ import annotations

__all__ = ["SCHEMA_VERSION", "DDL", "PRAGMAS"]

SCHEMA_VERSION = 1

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    # 64 MB page cache (default 2 MB): bulk imports insert into several indexes in random key order, and a store at
    # the paper's scale is ~130 MB; memory is only taken as pages are used
    "PRAGMA cache_size=-65536",
)

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    id     INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE,
    label  TEXT NOT NULL,
    kind   TEXT NOT NULL,
    smiles TEXT
);
CREATE TABLE IF NOT EXISTS aliases (
    alias   TEXT PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_node ON aliases(node_id);
CREATE TABLE IF NOT EXISTS edges (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    relation   TEXT NOT NULL,
    attrs      TEXT NOT NULL DEFAULT '{}',
    confidence REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1)
);
CREATE TABLE IF NOT EXISTS incidences (
    edge_id INTEGER NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL REFERENCES nodes(id),
    role    TEXT NOT NULL CHECK (role IN ('source', 'target', 'member')),
    PRIMARY KEY (edge_id, node_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incidences_node ON incidences(node_id, edge_id);
CREATE TABLE IF NOT EXISTS documents (
    id          TEXT PRIMARY KEY,
    sha256      TEXT,
    title       TEXT,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS provenance (
    id                INTEGER PRIMARY KEY,
    edge_id           INTEGER NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
    document_id       TEXT NOT NULL REFERENCES documents(id),
    locator           TEXT NOT NULL,
    extractor         TEXT NOT NULL,
    extractor_version TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    UNIQUE (edge_id, document_id, locator, extractor, extractor_version)
);
CREATE INDEX IF NOT EXISTS provenance_document ON provenance(document_id);
"""
