"""The knowledge store: a hypergraph with provenance in one SQLite file or one schema of a PostgreSQL database.

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .._postgres import is_postgres_url, redact_url
from ..errors import InvalidInput, NotFound
from ..settings import get_settings
from ._gc import gc_paused
from ._normalise import Concept, normalise_concept, normalise_text
from ._opsin import names_to_smiles
from ._postgres import POSTGRES
from ._sqlite import SQLITE
from ._traverse import HyperIndex

__all__ = [
    "KnowledgeStore",
    "Provenance",
    "EdgeSpec",
    "NodeRecord",
    "EdgeRecord",
    "open_store",
    "default_location",
    "edge_key",
    "utc_now",
]

Role = Literal["source", "target", "member"]

# Explicit process-wide cache of in-memory indexes: (store id, file) -> (revision, index); oldest evicted first. The
# file is part of the key because a copied file keeps the store id and may then diverge at an equal revision.
_INDEX_CACHE: dict[tuple[str, str], tuple[int, HyperIndex]] = {}
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

    @property
    def formula(self) -> str | None:
        """Hill formula with charge of a chemical keyed by its formula (``CeO2``), else None."""
        return self.key.removeprefix("formula:") if self.key.startswith("formula:") else None


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
    blob = "\x1e".join(
        (
            relation,
            "\x1f".join(sorted(by_role["source"])),
            "\x1f".join(sorted(by_role["target"])),
            "\x1f".join(sorted(by_role["member"])),
        )
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


# One encoder for every attrs/locator text: canonical (sorted keys) so equal records compare equal as text, and
# built once (json.dumps with options constructs a new encoder per call, a large share of bulk-import time).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


@dataclass(frozen=True)
class EdgeSpec:
    """One assertion of a hyperedge, for :meth:`KnowledgeStore.add_edges` (fields as in ``add_edge``)."""

    relation: str
    roles: Sequence[tuple[Concept, Role]]
    provenance: Provenance
    attrs: dict[str, Any] | None = None
    confidence: float = 1.0
    key: str | None = None


_PROVENANCE_COLUMNS = ("edge_id", "document_id", "locator", "extractor", "extractor_version", "created_at")


def _prepare(i: int, sp: EdgeSpec, batch: bool) -> tuple[str, dict[str, tuple[Concept, Role]], str, str]:
    """Check one spec; return (edge key, members by node key, attrs JSON, locator JSON)."""
    where = f"specs.{i}." if batch else ""
    if not sp.relation:
        raise InvalidInput(f"{where}relation", "relation must be a non-empty string")
    if not (0.0 <= sp.confidence <= 1.0):
        raise InvalidInput(f"{where}confidence", f"confidence must lie in [0, 1], got {sp.confidence}")
    members: dict[str, tuple[Concept, Role]] = {}
    for concept, role in sp.roles:
        members.setdefault(concept.key, (concept, role))
    if not members:
        raise InvalidInput(f"{where}roles", "a hyperedge needs at least one node")
    key = sp.key or edge_key(sp.relation, [(k, r) for k, (_, r) in members.items()])
    attrs_json = _CANONICAL_JSON(sp.attrs) if sp.attrs else "{}"
    return key, members, attrs_json, _CANONICAL_JSON(sp.provenance.locator)


class KnowledgeStore:
    """A hypergraph knowledge store in one SQLite file (WAL mode) or one schema of a PostgreSQL database.

    Parameters
    ----------
    path
        The SQLite file, created (with parent folders) when missing unless ``readonly``; or a PostgreSQL URL
        (``postgresql://user@host/db``, optionally ``?options=-csearch_path=NAME`` to choose the schema, default
        ``knowledge``), whose schema and tables are created when missing unless ``readonly``
        (``labwright[postgres]``).
    readonly
        Only read: the SQLite file is opened with ``mode=ro``, a PostgreSQL session is read-only (nothing is
        written, so the open never waits for a writer; readers see the last committed state during a long ingest);
        a missing store reads as an empty store and is not created.

    Attributes
    ----------
    path
        Where the store is: the file, or the URL with any password shown as ``***``.
    backend
        The dialect object (:mod:`._sqlite` or :mod:`._postgres`) holding the SQL the two backends say differently.

    Examples
    --------
    >>> with KnowledgeStore(":memory:") as store:
    ...     store.counts()["edges"]
    0
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.readonly = readonly
        postgres = is_postgres_url(path)
        self.backend = POSTGRES if postgres else SQLITE
        self.path: str | Path = redact_url(str(path)) if postgres else Path(path) if str(path) != ":memory:" else path
        shown = self.path
        try:
            self.conn = self.backend.connect(path if postgres else self.path, readonly)
        except self.backend.open_errors as err:  # not an SQLite file, not a store's database
            raise InvalidInput("store_path", f"{shown} is not a knowledge store ({err})") from None
        except InvalidInput as err:  # no such server, refused login, psycopg missing: the location is at fault
            raise InvalidInput("store_path", err.reason) from None
        if self.conn is None:  # read-only and no store at that URL: an empty store, as for a missing file
            self.backend, self.conn = SQLITE, SQLITE.connect(":memory:", True)
        try:
            self.store_id = self.conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0]
        except (*self.backend.open_errors, TypeError) as err:  # a database without a store in it
            self.conn.close()
            raise InvalidInput("store_path", f"{shown} is not a knowledge store ({err})") from None
        self._node_cache: dict[str, int] = {}  # node key -> id (committed or in the open transaction)
        self._alias_seen: set[str] = set()  # aliases known to be stored
        self._cache_revision = -1  # store revision the two caches above are valid for
        self._pending: list[tuple[int, int, str]] = []  # incidences not yet written (flushed within the transaction)
        self._known_docs: set[str] = set()
        self._now = utc_now()
        self._in_tx = False

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.conn.close()

    def __del__(self) -> None:
        # a store opened for one call and dropped closes its connection (no idle PostgreSQL backend until collection)
        conn = getattr(self, "conn", None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

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
        if self.readonly:
            raise InvalidInput("readonly", f"the knowledge store {self.path} was opened readonly; nothing is written")
        self.backend.begin_write(self.conn)
        self._in_tx = True
        self._now = utc_now()  # one timestamp per transaction
        try:
            if self.revision() != self._cache_revision:  # another connection wrote: cached node ids may be stale
                self._reset_caches()
            yield self
            self._flush()
            self.conn.execute(self.backend.bump_revision)
            self._cache_revision = self.revision()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._reset_caches()
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
    def ensure_document(
        self, document_id: str, *, sha256: str | None = None, title: str | None = None
    ) -> Literal["new", "unchanged", "changed"]:
        """Register a document; if it exists with different content, drop what was extracted from it before.

        Returns ``"unchanged"`` when the document exists with the same ``sha256`` (callers then skip extraction).
        """
        self._require_tx()
        if not isinstance(document_id, str) or not document_id.strip():
            raise InvalidInput("document_id", "a non-empty document id is required for provenance")
        row = self.conn.execute("SELECT sha256 FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            self.conn.execute(
                "INSERT INTO documents(id, sha256, title, ingested_at) VALUES (?, ?, ?, ?)",
                (document_id, sha256, title, utc_now()),
            )
            return "new"
        if sha256 is None or row[0] == sha256:
            return "unchanged"
        self._forget_document(document_id)
        self.conn.execute(
            "UPDATE documents SET sha256 = ?, title = ?, ingested_at = ? WHERE id = ?",
            (sha256, title, utc_now(), document_id),
        )
        return "changed"

    def _forget_document(self, document_id: str) -> None:
        self._flush()
        touched = "SELECT node_id FROM incidences WHERE edge_id IN (SELECT edge_id FROM provenance WHERE document_id=?)"
        nodes = [r[0] for r in self.conn.execute(touched, (document_id,))]
        self.conn.execute("DELETE FROM provenance WHERE document_id = ?", (document_id,))
        self.conn.execute("DELETE FROM edges WHERE id NOT IN (SELECT edge_id FROM provenance)")
        self.conn.executemany(
            "DELETE FROM nodes WHERE id = ? AND id NOT IN (SELECT node_id FROM incidences)", [(n,) for n in set(nodes)]
        )
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._node_cache.clear()
        self._alias_seen.clear()

    def _next_id(self, table: str) -> int:
        # explicit ids equal SQLite's own choice (max + 1) and are safe: the transaction holds the store's write lock
        return int(self.conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])

    def _ensure_nodes(self, concepts: Iterable[Concept]) -> None:
        """Create missing nodes (and record each surface form as an alias) with a few batched statements."""
        concepts = list(concepts)
        missing: dict[str, Concept] = {}
        for c in concepts:
            if c.key not in self._node_cache:
                missing.setdefault(c.key, c)
        if missing:
            for chunk in _chunks(list(missing)):
                marks = ",".join("?" * len(chunk))
                for nid, key in self.conn.execute(f"SELECT id, key FROM nodes WHERE key IN ({marks})", chunk):
                    self._node_cache[key] = nid
            new = [c for k, c in missing.items() if k not in self._node_cache]
            if new:
                first = self._next_id("nodes")
                rows = [(first + i, c.key, c.label, c.kind, c.smiles) for i, c in enumerate(new)]
                self.backend.insert_many(self.conn, "nodes", ("id", "key", "label", "kind", "smiles"), rows)
                self._node_cache.update((c.key, first + i) for i, c in enumerate(new))
        aliases = []
        for c in concepts:
            if c.surface and c.surface not in self._alias_seen:
                self._alias_seen.add(c.surface)
                aliases.append((c.surface, self._node_cache[c.key]))
        if aliases:  # an alias already naming another node keeps that node (first come)
            self.put_aliases(aliases)

    def add_aliases(self, aliases: dict[str, Concept]) -> int:
        """Record extra surface forms (normalised text → an existing node's concept); returns how many were new.

        Used for abbreviations a document defined ("PCL" for polycaprolactone); a form that already names a node, or
        whose concept has no node, is left alone.
        """
        self._require_tx()
        rows = []
        for alias, concept in aliases.items():
            row = self.conn.execute("SELECT id FROM nodes WHERE key = ?", (concept.key,)).fetchone()
            if alias and row is not None:
                rows.append((alias, row[0]))
            # phrases built on the long form too: "pcl scaffold" for the node "polycaprolactone scaffold"
            like = self.conn.execute(
                "SELECT alias, node_id FROM aliases WHERE alias LIKE ? OR alias LIKE ?",
                (f"{concept.surface} %", f"% {concept.surface} %"),
            )
            for form, nid in like.fetchall():
                rows.append((f" {form} ".replace(f" {concept.surface} ", f" {alias} ").strip(), nid))
        return self.put_aliases(rows)

    def put_aliases(self, rows: Iterable[tuple[str, int]]) -> int:
        """Store ``(alias, node id)`` rows, skipping aliases that already name a node; returns how many were new."""
        self._require_tx()
        sql = self.backend.insert_ignore("aliases", ("alias", "node_id"))
        return max(self.conn.executemany(sql, rows).rowcount, 0)

    def node_id(self, concept: Concept) -> int:
        """Id of the node for ``concept``, created (with its surface form as alias) when new."""
        return self.node_ids([concept])[0]

    def node_ids(self, concepts: Sequence[Concept]) -> list[int]:
        """Ids of the nodes for ``concepts`` (in order), creating the missing ones in one batch."""
        self._require_tx()
        self._ensure_nodes(concepts)
        return [self._node_cache[c.key] for c in concepts]

    def add_edge(
        self,
        relation: str,
        roles: Sequence[tuple[Concept, Role]],
        provenance: Provenance,
        *,
        attrs: dict[str, Any] | None = None,
        confidence: float = 1.0,
        key: str | None = None,
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
        return self.add_edges([EdgeSpec(relation, roles, provenance, attrs, confidence, key)])[0]

    def add_edges(self, specs: Sequence[EdgeSpec]) -> list[tuple[int, bool, bool]]:
        """Add many edge assertions at once (same rules as :meth:`add_edge`, in order, with batched statements).

        Returns one ``(edge id, edge is new, provenance record is new)`` per spec. An edge asserted twice in the
        batch is created by the first assertion.

        Raises
        ------
        InvalidInput
            A relation is empty, a confidence lies outside [0, 1], an edge has no node (field ``specs.<i>.…``), or an
            explicit key names a stored edge with other content (field ``edge``).
        """
        self._require_tx()
        prepared = [_prepare(i, sp, len(specs) > 1) for i, sp in enumerate(specs)]
        self._ensure_nodes(c for _, members, *_ in prepared for c, _ in members.values())
        state = self._edges_by_key(list(dict.fromkeys(p[0] for p in prepared)))  # key -> [id, confidence, relation]
        stored_before = {row[0] for row in state.values()}
        known_prov = self._provenance_of(stored_before)
        new_keys: dict[str, tuple[str, dict[str, tuple[Concept, Role]], str]] = {}
        next_id, prov_rows, out = -1, [], []
        for sp, (key, members, attrs_json, locator) in zip(specs, prepared):
            row = state.get(key)
            created = row is None
            if created:
                next_id = self._next_id("edges") if next_id < 0 else next_id
                row = state[key] = [next_id, float(sp.confidence), sp.relation]
                new_keys[key] = (sp.relation, members, attrs_json)
                next_id += 1
            elif sp.key is not None:  # an imported id may name a different edge already stored under that id
                self._check_same_edge(row[0], key, row[2], sp.relation, members, new_keys.get(key))
            row[1] = max(row[1], float(sp.confidence))
            prov = sp.provenance
            record = (row[0], prov.document_id, locator, prov.extractor, prov.extractor_version)
            new_prov = record not in known_prov
            if new_prov:
                known_prov.add(record)
                prov_rows.append((*record, prov.created_at or self._now))
            out.append((row[0], created, new_prov))
        self.backend.insert_many(
            self.conn,
            "edges",
            ("id", "key", "relation", "attrs", "confidence"),
            [(state[k][0], k, rel, aj, state[k][1]) for k, (rel, _, aj) in new_keys.items()],
        )
        self.conn.executemany(
            "UPDATE edges SET confidence = ? WHERE id = ? AND confidence < ?",
            [(row[1], row[0], row[1]) for row in state.values() if row[0] in stored_before],
        )
        # incidences are written in large batches (see _flush): far fewer statements for bulk imports
        self._pending.extend(
            (state[k][0], self._node_cache[ck], r)
            for k, (_, members, _) in new_keys.items()
            for ck, (_, r) in members.items()
        )
        if len(self._pending) >= 50_000:
            self._flush()
        docs = [(d, self._now) for d in dict.fromkeys(r[1] for r in prov_rows) if d not in self._known_docs]
        self.conn.executemany(self.backend.insert_ignore("documents", ("id", "ingested_at")), docs)
        self._known_docs.update(d for d, _ in docs)
        self.backend.insert_many(self.conn, "provenance", _PROVENANCE_COLUMNS, prov_rows)
        return out

    def _edges_by_key(self, keys: list[str]) -> dict[str, list]:
        out: dict[str, list] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for eid, key, conf, rel in self.conn.execute(
                f"SELECT id, key, confidence, relation FROM edges WHERE key IN ({marks})", chunk
            ):
                out[key] = [eid, conf, rel]
        return out

    def _provenance_of(self, edge_ids: Iterable[int]) -> set[tuple]:
        out: set[tuple] = set()
        for chunk in _chunks(list(edge_ids)):
            marks = ",".join("?" * len(chunk))
            out.update(
                self.conn.execute(
                    "SELECT edge_id, document_id, locator, extractor, extractor_version FROM provenance "
                    f"WHERE edge_id IN ({marks})",
                    chunk,
                )
            )
        return out

    def _check_same_edge(
        self,
        eid: int,
        key: str,
        old_relation: str,
        relation: str,
        members: dict[str, tuple[Concept, Role]],
        in_batch: tuple[str, dict[str, tuple[Concept, Role]], str] | None,
    ) -> None:
        """Refuse to attach an assertion to an existing edge of the same explicit key but other content."""
        if in_batch is not None:
            stored = {(k, r) for k, (_, r) in in_batch[1].items()}
        else:
            self._flush()
            stored = {
                (k, r)
                for k, r in self.conn.execute(
                    "SELECT n.key, i.role FROM incidences i JOIN nodes n ON n.id = i.node_id WHERE i.edge_id = ?",
                    (eid,),
                )
            }
        given = {(k, r) for k, (_, r) in members.items()}
        if stored != given or old_relation != relation:
            raise InvalidInput(
                "edge",
                f"edge id {key!r} is already in the store with other nodes or relation "
                f"({old_relation!r}); import under another document id",
            )

    def _flush(self) -> None:
        if self._pending:
            self.backend.insert_many(self.conn, "incidences", ("edge_id", "node_id", "role"), self._pending)
            self._pending.clear()

    # ------------------------------------------------------------------ exactly-once governed calls
    def applied_call(self, key: str) -> dict[str, Any] | None:
        """The outcome that governed call ``key`` committed together with its writes, or ``None`` if it never did."""
        try:
            row = self.conn.execute("SELECT outcome FROM applied_calls WHERE key = ?", (key,)).fetchone()
        except Exception as err:
            if self.backend.is_missing_table(err):  # no governed call has written to this store yet
                return None
            raise
        return json.loads(row[0]) if row else None

    def record_call(self, key: str, tool: str, outcome: dict[str, Any]) -> None:
        """Record in the open transaction that governed call ``key`` of ``tool`` made its writes and returned
        ``outcome``: effect and record commit together, so a resumed call finds one exactly when the other exists."""
        self._require_tx()
        if self.backend.applied_calls_ddl:
            self.conn.execute(self.backend.applied_calls_ddl)
        self.conn.execute(
            "INSERT INTO applied_calls VALUES (?, ?, ?, ?)", (key, tool, json.dumps(outcome, sort_keys=True), self._now)
        )

    # ------------------------------------------------------------------ reads
    def counts(self) -> dict[str, int]:
        """Numbers of nodes, edges, incidences, documents and provenance records."""
        q = self.conn.execute
        return {
            t: int(q(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("nodes", "edges", "incidences", "documents", "provenance")
        }

    def resolve(self, name: str, *, field: str = "node") -> int:
        """Node id of a concept given by name, synonym, SMILES-free molecule name or canonical key.

        Raises
        ------
        InvalidInput
            ``name`` is empty.
        NotFound
            No such node; the message names ``field`` and lists close labels (also ``err.field``).
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
            row = self._by_structure(name)
        if row is None:
            row = self._phrase_containing(name, field)
        if row is None:
            err = NotFound(f"no node named {name!r} in the knowledge store (field '{field}'){self._suggest(name)}")
            err.field = field  # same attribute as InvalidInput, for callers that report fields
            raise err
        return int(row[0])

    def _by_structure(self, name: str) -> tuple[int] | None:
        """The node of the chemical OPSIN reads ``name`` as ("cerium(IV) oxide" finds the node of CeO2)."""
        smiles = names_to_smiles([name]).get(" ".join(name.split()))
        if smiles is None:
            return None
        concept = normalise_concept(name, smiles=smiles)
        return self.conn.execute("SELECT id FROM nodes WHERE key = ?", (concept.key,)).fetchone()

    def _phrase_containing(self, name: str, field: str) -> tuple[int] | None:
        """The one stored concept whose name has ``name`` as a whole-word modifier or head ("PCL" -> "pcl scaffold").

        Extraction keeps whole noun phrases, so a person's short name for a concept is often part of one. Only a
        whole-word match at either end of the names of exactly one node counts; several are refused by name, never
        guessed.
        """
        text = normalise_text(name)
        if not text:
            return None
        rows = self.conn.execute(
            "SELECT DISTINCT node_id FROM aliases WHERE alias LIKE ? ESCAPE '\\' OR alias LIKE ? ESCAPE '\\' LIMIT 6",
            (_like_literal(text) + " %", "% " + _like_literal(text)),
        ).fetchall()
        if len(rows) > 1:
            names = ", ".join(sorted(n.key.removeprefix("text:") for n in self.nodes(r[0] for r in rows).values()))
            err = NotFound(f"{name!r} is part of several concepts in the knowledge store ({names}); name one")
            err.field = field
            raise err
        return (rows[0][0],) if rows else None

    def _suggest(self, name: str) -> str:
        text = normalise_text(name)
        words = [w for w in text.split() if len(w) > 2] or [text]
        like = self.conn.execute(
            "SELECT alias FROM aliases WHERE " + " OR ".join("alias LIKE ?" for _ in words) + " LIMIT 200",
            [f"%{w[:4]}%" for w in words],
        ).fetchall()  # word stems: tolerate typos past the 4th letter
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
            for nid, alias in self.conn.execute(
                f"SELECT node_id, alias FROM aliases WHERE node_id IN ({marks}) ORDER BY alias", chunk
            ):
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
                f"SELECT edge_id, node_id, role FROM incidences WHERE edge_id IN ({marks}) ORDER BY edge_id, node_id",
                chunk,
            ):
                roles.setdefault(eid, {"source": [], "target": [], "member": []})[role].append(nid)
            provs: dict[int, list[dict[str, Any]]] = {}
            if with_provenance:
                for row in self.conn.execute(
                    "SELECT edge_id, document_id, locator, extractor, extractor_version, created_at FROM "
                    f"provenance WHERE edge_id IN ({marks}) ORDER BY id",
                    chunk,
                ):
                    provs.setdefault(row[0], []).append(
                        {
                            "document_id": row[1],
                            "locator": json.loads(row[2]),
                            "extractor": row[3],
                            "extractor_version": row[4],
                            "created_at": row[5],
                        }
                    )
            for eid, key, relation, attrs, conf in self.conn.execute(
                f"SELECT id, key, relation, attrs, confidence FROM edges WHERE id IN ({marks})", chunk
            ):
                r = roles.get(eid, {"source": [], "target": [], "member": []})
                out[eid] = EdgeRecord(
                    eid,
                    key,
                    relation,
                    conf,
                    json.loads(attrs),
                    tuple(r["source"]),
                    tuple(r["target"]),
                    tuple(r["member"]),
                    tuple(provs.get(eid, ())),
                )
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

        Indexes are kept in a small explicit cache keyed by (store id, file) and checked against the revision, shared
        by every :class:`KnowledgeStore` opened on the same file in this process, so tool calls that reopen the store
        do not reload it.
        """
        if self._in_tx:  # uncommitted writes: build from them, but never cache what may still roll back
            self._flush()
            return self._load_index()
        rev = self.revision()
        cache_key = (self.store_id, self._where())
        cached = _INDEX_CACHE.get(cache_key)
        if cached is not None and cached[0] == rev:
            return cached[1]
        # one read transaction: a writer in another connection cannot commit between these reads (one snapshot)
        self.backend.begin_read(self.conn)
        try:
            rev = self.revision()
            ix = self._load_index()
        finally:
            self.conn.execute("COMMIT")
        _INDEX_CACHE[cache_key] = (rev, ix)
        while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
        return ix

    def _where(self) -> str:
        """Where the store is, as a cache key: the resolved file, the URL, or this object for an in-memory store."""
        if isinstance(self.path, Path):
            return str(self.path.resolve())
        return str(self.path) if self.backend is POSTGRES else str(id(self))

    def _load_index(self) -> HyperIndex:
        with gc_paused():  # a million row tuples: no collector passes while they are alive
            edge_ids = np.array(self.all_edge_ids(), dtype=np.int64)
            node_ids = np.array(self.all_node_ids(), dtype=np.int64)
            inc = np.array(self.conn.execute("SELECT edge_id, node_id FROM incidences").fetchall(), dtype=np.int64)
        inc = inc.reshape(-1, 2)
        return HyperIndex.from_incidences(
            np.searchsorted(edge_ids, inc[:, 0]),
            np.searchsorted(node_ids, inc[:, 1]),
            edge_ids.tolist(),
            node_ids.tolist(),
        )


def _chunks(ids: list[int], size: int = 900) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def open_store(path: str | Path | None = None, *, readonly: bool = False) -> KnowledgeStore:
    """Open the store at ``path`` (a file or a PostgreSQL URL); by default in the PostgreSQL database of
    ``settings.database_url`` (``LABWRIGHT_DATABASE_URL``) when set, else in the file ``settings.knowledge_path``
    (``LABWRIGHT_KNOWLEDGE_DB``); ``readonly``: see :class:`KnowledgeStore`."""
    return KnowledgeStore(path if path is not None else default_location(), readonly=readonly)


def default_location() -> str | Path:
    """The store the settings choose: ``settings.database_url`` when set, else ``settings.knowledge_path``."""
    settings = get_settings()
    return settings.database_url or settings.knowledge_path


def _like_literal(text: str) -> str:
    """``text`` with SQL LIKE wildcards escaped (``ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
