"""The knowledge store: a hypergraph with provenance in one SQLite file.

Every write runs inside :meth:`KnowledgeStore.transaction`, so an ingestion either commits completely or leaves the
file as it was. Edges are keyed by a hash of their relation and role-tagged member keys, and provenance rows are
unique per (edge, document, locator, extractor), which makes re-ingestion idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import InvalidInput, NotFound
from ..settings import get_settings
from ._normalise import Concept, normalise_concept, normalise_text
from ._schema import DDL, PRAGMAS, SCHEMA_VERSION
from ._traverse import HyperIndex

__all__ = ["KnowledgeStore", "Provenance", "NodeRecord", "EdgeRecord", "open_store", "edge_key", "utc_now"]

Role = Literal["source", "target", "member"]

# Explicit process-wide cache of in-memory indexes: store id -> (revision, index); oldest entries evicted first.
_INDEX_CACHE: dict[str, tuple[int, HyperIndex]] = {}
_INDEX_CACHE_SIZE = 4


def utc_now() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Provenance:
    """Where a hyperedge came from.

    Attributes
    ----------
    document_id : str
        Id of the source document (a passage id, file name, DOI...).
    locator : dict
        Where inside the document: e.g. ``{"chunk": 0, "start": 120, "end": 245, "sha256": "…"}`` (character
        offsets) or ``{"page": 3}`` or ``{"line": 12}``.
    extractor : str
        Name of the extractor (``"offline-cooccurrence"``, ``"llm:<model>"``, ``"events-import"``...).
    extractor_version : str
        Its version.
    created_at : str | None
        ISO time; set to now when omitted.
    """

    document_id: str
    locator: dict[str, Any]
    extractor: str
    extractor_version: str
    created_at: str | None = None


@dataclass(frozen=True)
class NodeRecord:
    id: int
    key: str
    label: str
    kind: str
    smiles: str | None
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class EdgeRecord:
    id: int
    key: str
    relation: str
    confidence: float
    attrs: dict[str, Any]
    sources: tuple[int, ...]
    targets: tuple[int, ...]
    members: tuple[int, ...]
    provenance: tuple[dict[str, Any], ...] = field(default=())

    @property
    def nodes(self) -> tuple[int, ...]:
        return self.sources + self.targets + self.members


def edge_key(relation: str, roles: Sequence[tuple[str, Role]]) -> str:
    """Content hash identifying an edge: relation plus the sorted node keys of each role (24 hex characters)."""
    by_role: dict[str, list[str]] = {"source": [], "target": [], "member": []}
    for key, role in roles:
        by_role[role].append(key)
    # unit/record separators cannot occur in normalised keys, so the joined text is unambiguous
    blob = "\x1e".join([relation, *("\x1f".join(sorted(by_role[r])) for r in ("source", "target", "member"))])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class KnowledgeStore:
    """A hypergraph knowledge store in one SQLite file (WAL mode).

    Parameters
    ----------
    path
        The SQLite file; created (with parent folders) when missing.

    Examples
    --------
    >>> with KnowledgeStore(":memory:") as store:
    ...     store.counts()["edges"]
    0
    """

    def __init__(self, path: str | Path):
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            self.conn.execute(pragma)
        self.conn.executescript(DDL)
        self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', '0')")
        self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,))
        self.store_id = self.conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0]
        self._node_cache: dict[str, int] = {}
        self._pending: list[tuple[int, int, str]] = []  # incidences not yet written (flushed within the transaction)
        self._known_docs: set[str] = set()
        self._now = utc_now()
        self._in_tx = False

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> KnowledgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[KnowledgeStore]:
        """All-or-nothing write block: commits on success, rolls back on any exception (then re-raises)."""
        if self._in_tx:
            yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        self._now = utc_now()  # one timestamp per transaction
        try:
            yield self
            self._flush()
            self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._node_cache.clear()
            raise
        finally:
            self._pending.clear()
            self._known_docs.clear()
            self._in_tx = False

    def _require_tx(self) -> None:
        if not self._in_tx:
            raise RuntimeError("writes to the knowledge store must run inside store.transaction()")

    def revision(self) -> int:
        """Counter that increases with every committed write."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    # ------------------------------------------------------------------ writes
    def ensure_document(self, document_id: str, *, sha256: str | None = None, title: str | None = None
                        ) -> Literal["new", "unchanged", "changed"]:
        """Register a document; if it exists with different content, drop what was extracted from it before.

        Returns ``"unchanged"`` when the document exists with the same ``sha256`` (callers then skip extraction).
        """
        self._require_tx()
        if not isinstance(document_id, str) or not document_id.strip():
            raise InvalidInput("document_id", "a non-empty document id is required for provenance")
        row = self.conn.execute("SELECT sha256 FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            self.conn.execute("INSERT INTO documents(id, sha256, title, ingested_at) VALUES (?, ?, ?, ?)",
                              (document_id, sha256, title, utc_now()))
            return "new"
        if sha256 is None or row[0] == sha256:
            return "unchanged"
        self._forget_document(document_id)
        self.conn.execute("UPDATE documents SET sha256 = ?, title = ?, ingested_at = ? WHERE id = ?",
                          (sha256, title, utc_now(), document_id))
        return "changed"

    def _forget_document(self, document_id: str) -> None:
        self._flush()
        touched = "SELECT node_id FROM incidences WHERE edge_id IN (SELECT edge_id FROM provenance WHERE document_id=?)"
        nodes = [r[0] for r in self.conn.execute(touched, (document_id,))]
        self.conn.execute("DELETE FROM provenance WHERE document_id = ?", (document_id,))
        self.conn.execute("DELETE FROM edges WHERE id NOT IN (SELECT edge_id FROM provenance)")
        self.conn.executemany("DELETE FROM nodes WHERE id = ? AND id NOT IN (SELECT node_id FROM incidences)",
                              [(n,) for n in set(nodes)])
        self._node_cache.clear()

    def node_id(self, concept: Concept) -> int:
        """Id of the node for ``concept``, created (with its surface form as alias) when new."""
        self._require_tx()
        nid = self._node_cache.get(concept.key)
        if nid is not None:
            return nid
        row = self.conn.execute("SELECT id FROM nodes WHERE key = ?", (concept.key,)).fetchone()
        if row is None:
            cur = self.conn.execute("INSERT INTO nodes(key, label, kind, smiles) VALUES (?, ?, ?, ?)",
                                    (concept.key, concept.label, concept.kind, concept.smiles))
            nid = int(cur.lastrowid)
        else:
            nid = int(row[0])
        if concept.surface:
            self.conn.execute("INSERT OR IGNORE INTO aliases(alias, node_id) VALUES (?, ?)", (concept.surface, nid))
        self._node_cache[concept.key] = nid
        return nid

    def add_edge(self, relation: str, roles: Sequence[tuple[Concept, Role]], provenance: Provenance, *,
                 attrs: dict[str, Any] | None = None, confidence: float = 1.0, key: str | None = None
                 ) -> tuple[int, bool, bool]:
        """Add (or find) a hyperedge and attach one provenance record to it.

        Parameters
        ----------
        relation
            Relation label (normalised text).
        roles
            ``(concept, role)`` pairs; a concept listed twice keeps its first role.
        provenance
            Where this assertion came from; identical records are stored once.
        attrs
            JSON-serialisable attributes (kept from the first assertion of the edge).
        confidence
            In [0, 1]; an edge asserted again keeps the highest confidence seen.
        key
            Explicit edge key (imports); default :func:`edge_key` of the content.

        Returns
        -------
        (edge id, whether the edge is new, whether the provenance record is new)
        """
        self._require_tx()
        if not relation:
            raise InvalidInput("relation", "relation must be a non-empty string")
        if not (0.0 <= confidence <= 1.0):
            raise InvalidInput("confidence", f"confidence must lie in [0, 1], got {confidence}")
        seen: dict[str, tuple[Concept, Role]] = {}
        for concept, role in roles:
            seen.setdefault(concept.key, (concept, role))
        if not seen:
            raise InvalidInput("roles", "a hyperedge needs at least one node")
        key = key or edge_key(relation, [(c.key, r) for c, r in seen.values()])
        attrs_json = json.dumps(attrs, sort_keys=True, ensure_ascii=False) if attrs else "{}"
        cur = self.conn.execute(
            "INSERT INTO edges(key, relation, attrs, confidence) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
            (key, relation, attrs_json, float(confidence)))
        created = cur.rowcount == 1
        if created:
            eid = int(cur.lastrowid)
            # incidences are written in batches (see _flush) — far fewer statements for bulk imports
            self._pending.extend((eid, self.node_id(c), r) for c, r in seen.values())
            if len(self._pending) >= 50_000:
                self._flush()
        else:
            eid, old = self.conn.execute("SELECT id, confidence FROM edges WHERE key = ?", (key,)).fetchone()
            if confidence > old:
                self.conn.execute("UPDATE edges SET confidence = ? WHERE id = ?", (float(confidence), eid))
        return int(eid), created, self._add_provenance(eid, provenance)

    def _flush(self) -> None:
        if self._pending:
            self.conn.executemany("INSERT INTO incidences(edge_id, node_id, role) VALUES (?, ?, ?)", self._pending)
            self._pending.clear()

    def _add_provenance(self, edge_id: int, prov: Provenance) -> bool:
        locator = json.dumps(prov.locator, sort_keys=True, ensure_ascii=False)
        if prov.document_id not in self._known_docs:
            self.conn.execute(
                "INSERT OR IGNORE INTO documents(id, sha256, title, ingested_at) VALUES (?, NULL, NULL, ?)",
                (prov.document_id, self._now))
            self._known_docs.add(prov.document_id)
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO provenance(edge_id, document_id, locator, extractor, extractor_version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (edge_id, prov.document_id, locator, prov.extractor, prov.extractor_version, prov.created_at or self._now))
        return cur.rowcount == 1

    # ------------------------------------------------------------------ reads
    def counts(self) -> dict[str, int]:
        """Numbers of nodes, edges, incidences, documents and provenance records."""
        q = self.conn.execute
        return {t: int(q(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in ("nodes", "edges", "incidences", "documents", "provenance")}

    def resolve(self, name: str, *, field: str = "node") -> int:
        """Node id of a concept given by name, synonym, SMILES-free molecule name or canonical key.

        Raises
        ------
        InvalidInput
            ``name`` is empty.
        NotFound
            No such node; the message lists close labels.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(field, "a concept name is required")
        row = self.conn.execute("SELECT id FROM nodes WHERE key = ?", (name.strip(),)).fetchone()
        if row is None:
            concept = normalise_concept(name, field=field)
            row = self.conn.execute("SELECT id FROM nodes WHERE key = ?", (concept.key,)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT node_id FROM aliases WHERE alias = ?", (normalise_text(name),)).fetchone()
        if row is None:
            raise NotFound(f"no node named {name!r} in the knowledge store{self._suggest(name)}")
        return int(row[0])

    def _suggest(self, name: str) -> str:
        text = normalise_text(name)
        words = [w for w in text.split() if len(w) > 2] or [text]
        like = self.conn.execute(
            "SELECT alias FROM aliases WHERE " + " OR ".join("alias LIKE ?" for _ in words) + " LIMIT 200",
            [f"%{w[:4]}%" for w in words]).fetchall()  # word stems: tolerate typos past the 4th letter
        close = difflib.get_close_matches(text, [r[0] for r in like], n=3, cutoff=0.3)
        return f"; close: {', '.join(close)}" if close else ""

    def nodes(self, ids: Iterable[int]) -> dict[int, NodeRecord]:
        """Node records by id (unknown ids are omitted)."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        out: dict[int, NodeRecord] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT id, key, label, kind, smiles FROM nodes WHERE id IN ({marks})", chunk)
            syn: dict[int, list[str]] = {}
            for nid, alias in self.conn.execute(f"SELECT node_id, alias FROM aliases WHERE node_id IN ({marks}) "
                                                "ORDER BY alias", chunk):
                syn.setdefault(nid, []).append(alias)
            for nid, key, label, kind, smiles in rows:
                out[nid] = NodeRecord(nid, key, label, kind, smiles, tuple(syn.get(nid, ())))
        return out

    def edges(self, ids: Iterable[int], *, with_provenance: bool = True) -> dict[int, EdgeRecord]:
        """Edge records (roles and, by default, provenance) by id (unknown ids are omitted)."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        out: dict[int, EdgeRecord] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            roles: dict[int, dict[str, list[int]]] = {}
            for eid, nid, role in self.conn.execute(
                    f"SELECT edge_id, node_id, role FROM incidences WHERE edge_id IN ({marks}) ORDER BY edge_id, "
                    "node_id", chunk):
                roles.setdefault(eid, {"source": [], "target": [], "member": []})[role].append(nid)
            provs: dict[int, list[dict[str, Any]]] = {}
            if with_provenance:
                for row in self.conn.execute(
                        "SELECT edge_id, document_id, locator, extractor, extractor_version, created_at FROM "
                        f"provenance WHERE edge_id IN ({marks}) ORDER BY id", chunk):
                    provs.setdefault(row[0], []).append({
                        "document_id": row[1], "locator": json.loads(row[2]), "extractor": row[3],
                        "extractor_version": row[4], "created_at": row[5]})
            for eid, key, relation, attrs, conf in self.conn.execute(
                    f"SELECT id, key, relation, attrs, confidence FROM edges WHERE id IN ({marks})", chunk):
                r = roles.get(eid, {"source": [], "target": [], "member": []})
                out[eid] = EdgeRecord(eid, key, relation, conf, json.loads(attrs), tuple(r["source"]),
                                      tuple(r["target"]), tuple(r["member"]), tuple(provs.get(eid, ())))
        return out

    def all_edge_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM edges ORDER BY id")]

    def all_node_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM nodes ORDER BY id")]

    def documents(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT id, sha256, title, ingested_at FROM documents ORDER BY id")
        return [{"id": r[0], "sha256": r[1], "title": r[2], "ingested_at": r[3]} for r in rows]

    def index(self) -> HyperIndex:
        """In-memory incidence index (dense positions ↔ store ids), rebuilt only after a write.

        Indexes are kept in a small explicit cache keyed by (store id, revision), shared by every
        :class:`KnowledgeStore` opened on the same file in this process, so tool calls that reopen the store do not
        reload it.
        """
        rev = self.revision()
        cached = _INDEX_CACHE.get(self.store_id)
        if cached is not None and cached[0] == rev:
            return cached[1]
        edge_ids = np.array(self.all_edge_ids(), dtype=np.int64)
        node_ids = np.array(self.all_node_ids(), dtype=np.int64)
        inc = np.array(self.conn.execute("SELECT edge_id, node_id FROM incidences").fetchall(), dtype=np.int64)
        inc = inc.reshape(-1, 2)
        ix = HyperIndex.from_incidences(np.searchsorted(edge_ids, inc[:, 0]), np.searchsorted(node_ids, inc[:, 1]),
                                        edge_ids.tolist(), node_ids.tolist())
        _INDEX_CACHE[self.store_id] = (rev, ix)
        while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
        return ix


def _chunks(ids: list[int], size: int = 900) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def open_store(path: str | Path | None = None) -> KnowledgeStore:
    """Open the store at ``path``, or at ``settings.knowledge_path`` (``LABWRIGHT_KNOWLEDGE_DB``) by default."""
    return KnowledgeStore(path if path is not None else get_settings().knowledge_path)
