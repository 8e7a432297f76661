"""Knowledge-store tools for the librarian role (registered when :mod:`labwright.knowledge` is imported).

Every tool opens the store in ``settings.database_url`` (``LABWRIGHT_DATABASE_URL``, PostgreSQL) when set, else at
``settings.knowledge_path`` (``LABWRIGHT_KNOWLEDGE_DB``, default ``$LABWRIGHT_HOME/knowledge.sqlite``), unless its
input gives ``store_path``: a file, a ``postgresql://`` URL, or ``run:RUN_ID`` for the store a workflow run built in
its folder (:mod:`labwright.tools._runstore`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from .._postgres import is_postgres_url
from ..errors import InvalidInput, LabwrightError
from ..metering import current_call
from ..tools._files import check_output_file, read_user_file, user_path, write_errors
from ..tools._runstore import resolve_store_ref
from ..tools.fields import MAX_LIST_ITEMS, Capped, Name, PathStr, Text, ToolModel
from ..tools.registry import Cost, tool
from ._hif import write_hif
from ._hypotheses import HypothesisSet, generate_hypotheses
from ._ingest import IngestReport, ingest_events, ingest_text
from ._once import exactly_once
from ._query import ComponentView, Neighbour, PathView, components, find_paths, neighbours
from ._stats import hypergraph_stats
from ._store import KnowledgeStore, open_store

# The registered tool names; the tool functions below carry the same names, so they are the module's exports too.
LIBRARIAN_TOOLS = (
    "kg_ingest_text",
    "kg_ingest_events",
    "kg_stats",
    "kg_neighbors",
    "kg_paths",
    "kg_hypotheses",
    "kg_export",
)

__all__ = [*LIBRARIAN_TOOLS, "LIBRARIAN_TOOLS"]

Concepts = Annotated[list[Name], Capped(MAX_LIST_ITEMS, "more concepts than any query names")]
_STORE_FIELD = Field(
    default=None,
    description="SQLite file or postgresql:// URL of the store, or 'run:RUN_ID' for the store a workflow run built; "
    "default: settings.database_url, else knowledge_path.",
)


def store_location(path: str | None) -> str | Path | None:
    """A tool's ``store_path`` checked: a PostgreSQL URL as given, 'run:RUN_ID' as that run's store file, else a file
    (no devices or folders, and no '~user' that does not exist); ``None`` (the settings' store) stays ``None``."""
    if not path or is_postgres_url(path):
        return path or None
    from ..settings import get_settings

    path = resolve_store_ref(path, get_settings().runs_dir)
    return check_output_file(user_path(path, field="store_path"), field="store_path")


@contextlib.contextmanager
def _open(path: str | None, *, readonly: bool = False) -> Iterator[KnowledgeStore]:
    """The store at ``path``, open for the ``with`` block and closed after it. An OS error while opening or using it
    (a folder, a device, an unwritable place, or a folder on the path renamed away meanwhile) is an error naming
    ``store_path``, never a bare ``FileNotFoundError``."""
    where = store_location(path)
    shown = where if where is not None else "the default knowledge store"
    try:
        store = open_store(where, readonly=readonly)
    except OSError as err:
        raise InvalidInput("store_path", f"cannot open a knowledge store at {shown}: {err}") from None
    with store:
        try:
            yield store
        except OSError as err:
            raise InvalidInput("store_path", f"the knowledge store at {shown} failed while in use: {err}") from None


def _within_edges(store: KnowledgeStore, s: int) -> int:
    # s-adjacency needs s shared nodes, so s above the largest hyperedge can never connect two edges; refusing it
    # also keeps s = 2**63 out of the subset enumeration (it once ran for minutes).
    largest = int(store.index().sizes.max(initial=0))
    if s > max(largest, 1):
        raise InvalidInput("s", f"s = {s} exceeds the largest hyperedge in the store ({largest} nodes)")
    return s


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be blank")
    return v


class _StoreInput(ToolModel):
    store_path: PathStr | None = _STORE_FIELD


class IngestTextInput(_StoreInput):
    text: Text = Field(min_length=1, description="Document text to extract hyperedges from.")
    document_id: Name = Field(min_length=1, description="Id that provenance will cite (passage id, DOI, file name).")
    title: Name | None = Field(default=None, description="Document title.")
    extractor: Literal["auto", "offline", "llm"] = Field(
        default="auto", description="'offline' (deterministic), 'llm' (configured endpoint) or 'auto'."
    )

    _blank = field_validator("text", "document_id")(_not_blank)


class IngestEventsInput(_StoreInput):
    events: Annotated[list[dict[str, Any]], Capped(MAX_LIST_ITEMS, "split larger batches")] = Field(
        min_length=1, description="Events {source: [..], relation, target: [..], confidence?, document?, locator?}."
    )
    document_id: str | None = Field(default=None, description="Document id for events that name none.")


class IngestOutput(ToolModel):
    store_path: str
    extractor: str
    documents: dict[str, str] = Field(description="Document id -> new | unchanged | changed | events.")
    events: int = Field(description="Events written.")
    edges_created: int
    provenance_added: int
    nodes_before: int
    nodes_after: int
    tokens: int = Field(default=0, description="LLM tokens used.")
    chemical_names: str = Field(
        default="",
        description="Offline extraction: 'opsin' when chemical names were resolved to structures, else 'off: why'.",
    )


def _ingest_out(store: KnowledgeStore, report: IngestReport) -> IngestOutput:
    return IngestOutput(store_path=str(store.path), **report.as_dict())


@tool(
    side_effect="writes_store",
    version="1",
    cost=lambda inp: Cost(
        seconds=0.05 + len(inp.text) / 2e5, tokens=0 if inp.extractor == "offline" else len(inp.text) // 3
    ),
)
def kg_ingest_text(inp: IngestTextInput) -> IngestOutput:
    """Extract n-ary relations from a text into the knowledge store, with per-chunk provenance (all or nothing)."""
    with _open(inp.store_path) as store:
        return exactly_once(
            store,
            IngestOutput,
            lambda: _ingest_out(
                store, ingest_text(store, inp.text, inp.document_id, title=inp.title, extractor=inp.extractor)
            ),
        )


@tool(side_effect="writes_store", version="1", cost=lambda inp: Cost(seconds=0.05 + len(inp.events) * 1e-4))
def kg_ingest_events(inp: IngestEventsInput) -> IngestOutput:
    """Store events {source, relation, target} as hyperedges with provenance (all or nothing)."""
    with _open(inp.store_path) as store:
        return exactly_once(
            store,
            IngestOutput,
            lambda: _ingest_out(store, ingest_events(store, inp.events, document_id=inp.document_id)),
        )


class StatsInput(_StoreInput):
    s: int = Field(default=1, ge=1, description="Also count s-connected components for this s (shared nodes).")
    fit: bool = Field(default=True, description="Fit a discrete power law to the node degrees.")


class PowerLaw(ToolModel):
    alpha: float = Field(description="Exponent of p(k) ∝ k^-alpha (dimensionless).")
    x_min: int = Field(description="Smallest degree in the fitted tail.")
    n_tail: int
    ks: float = Field(description="Kolmogorov–Smirnov distance of the fit.")
    sigma: float = Field(description="Standard error of alpha.")
    log_likelihood: float


class StatsOutput(ToolModel):
    store_path: str
    nodes: int
    edges: int
    incidences: int
    documents: int
    provenance: int
    mean_degree: float
    max_degree: int
    mean_edge_size: float
    max_edge_size: int
    degree_distribution: dict[int, int] = Field(description="Degree (hyperedges at a node) -> number of nodes.")
    edge_size_distribution: dict[int, int] = Field(description="Edge size (nodes) -> number of hyperedges.")
    power_law: PowerLaw | None = Field(description="Discrete power-law MLE of the degrees (None: too few nodes).")
    s: int
    components: int = Field(description="Number of s-connected components of the hyperedges.")
    largest_components: list[ComponentView]


@tool(version="1", cost=lambda inp: Cost(seconds=1.0))
def kg_stats(inp: StatsInput) -> StatsOutput:
    """Size, degree distribution with a power-law fit (Clauset–Shalizi–Newman) and s-components of the store."""
    with _open(inp.store_path, readonly=True) as store:
        counts = store.counts()
        st = hypergraph_stats(store.index(), fit=inp.fit)
        n, comps = components(store, s=_within_edges(store, inp.s), limit=5)
        return StatsOutput(
            store_path=str(store.path),
            documents=counts["documents"],
            provenance=counts["provenance"],
            **{
                k: st[k]
                for k in (
                    "nodes",
                    "edges",
                    "incidences",
                    "mean_degree",
                    "max_degree",
                    "mean_edge_size",
                    "max_edge_size",
                    "degree_distribution",
                    "edge_size_distribution",
                )
            },
            power_law=st["power_law"],
            s=inp.s,
            components=n,
            largest_components=comps,
        )


class NeighborsInput(_StoreInput):
    concept: Name = Field(min_length=1, description="Concept name (any known synonym).")
    # A reply lists every neighbour it returns: 1,000 is as many as a model can read in one reply.
    limit: int = Field(default=25, ge=1, le=1000, description="Most neighbours returned.")


class NeighborsOutput(ToolModel):
    concept: str
    neighbors: list[Neighbour]


@tool(version="1", cost=lambda inp: Cost(seconds=0.2))
def kg_neighbors(inp: NeighborsInput) -> NeighborsOutput:
    """Concepts sharing a hyperedge with the given concept, most shared edges first."""
    with _open(inp.store_path, readonly=True) as store:
        return NeighborsOutput(concept=inp.concept, neighbors=neighbours(store, inp.concept, limit=inp.limit))


class PathsInput(_StoreInput):
    a: Name = Field(min_length=1, description="Start concept.")
    b: Name = Field(min_length=1, description="End concept.")
    s: int = Field(default=1, ge=1, description="Consecutive hyperedges must share at least s nodes.")
    # Each further path is one more shortest-path search; 50 keeps a query to seconds on a large store.
    k: int = Field(default=3, ge=1, le=50, description="Number of shortest paths.")
    through: Concepts = Field(default_factory=list, description="Concepts the path must pass, in order.")


class PathsOutput(ToolModel):
    a: str
    b: str
    s: int
    paths: list[PathView]


@tool(version="1", cost=lambda inp: Cost(seconds=0.5))
def kg_paths(inp: PathsInput) -> PathsOutput:
    """k shortest s-paths of hyperedges between two concepts, with the shared nodes of each hop and citations."""
    with _open(inp.store_path, readonly=True) as store:
        paths = find_paths(store, inp.a, inp.b, s=_within_edges(store, inp.s), k=inp.k, through=inp.through)
        return PathsOutput(a=inp.a, b=inp.b, s=inp.s, paths=paths)


class HypothesesInput(PathsInput):
    use_llm: bool | None = Field(default=None, description="Write prose with the LLM (default: when configured).")
    # Ranked paths are searched like k: 50 keeps a query to seconds on a large store.
    pool: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Rank this many shortest paths (at least k) and keep the best k: lets a specific longer path "
        "replace a short one through hubs (default: exactly kg_paths' k paths).",
    )


@tool(version="1", cost=lambda inp: Cost(seconds=0.5, tokens=0 if inp.use_llm is False else 1500 * inp.k))
def kg_hypotheses(inp: HypothesesInput) -> HypothesisSet:
    """Candidate mechanistic links between two concepts; every claim cites the provenance of its hyperedges."""
    with _open(inp.store_path, readonly=True) as store:
        s = _within_edges(store, inp.s)
        return generate_hypotheses(
            store, inp.a, inp.b, s=s, k=inp.k, through=inp.through, pool=inp.pool, use_llm=inp.use_llm
        )


class ExportInput(_StoreInput):
    path: PathStr = Field(min_length=1, description="Output HIF JSON file.")
    around: Concepts = Field(
        default_factory=list, description="Export only hyperedges containing these concepts (default: everything)."
    )


class ExportOutput(ToolModel):
    path: str
    sha256: str
    nodes: int
    edges: int
    incidences: int


def _exported(path: str, raw: bytes) -> ExportOutput:
    doc = json.loads(raw)
    return ExportOutput(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        nodes=len(doc["nodes"]),
        edges=len(doc["edges"]),
        incidences=len(doc["incidences"]),
    )


def _export_done(path: str, key: str) -> ExportOutput | None:
    """The outcome of governed call ``key`` if the file at ``path`` is the export it wrote (its metadata names the
    call), else ``None``: a resumed call finds its effect instead of exporting again (exactly once)."""
    try:
        raw = read_user_file(path)
        done = json.loads(raw).get("metadata", {}).get("labwright_call") == key
    except (LabwrightError, ValueError, AttributeError):  # absent, not a file, not an export: export as usual
        return None
    return _exported(path, raw) if done else None


@tool(side_effect="writes_store", version="1", cost=lambda inp: Cost(seconds=1.0))
def kg_export(inp: ExportInput) -> ExportOutput:
    """Export the store, or the hyperedges around given concepts, as a HIF v0.1.0 JSON file.

    In a governed call the export happens exactly once: the call's idempotency key is written into the file's
    metadata in the same atomic rename, and a resumed call that finds it returns that export's outcome.
    """
    scope = current_call()
    if scope is not None and (done := _export_done(inp.path, scope.key)) is not None:
        return done
    with _open(inp.store_path, readonly=True) as store:
        edge_ids = None
        if inp.around:
            ix = store.index()
            positions = {
                int(e)
                for i, c in enumerate(inp.around)
                for e in ix.edges_of(ix.node_pos(store.resolve(c, field=f"around.{i}")))
            }
            edge_ids = sorted(ix.edge_ids[e] for e in positions)
        with write_errors("path"):
            write_hif(store, check_output_file(inp.path), edge_ids, call_key=scope.key if scope else None)
    return _exported(inp.path, read_user_file(inp.path))
