"""Queries on a :class:`KnowledgeStore` by concept name, returning labelled, citable results.

These wrap the position-based algorithms of :mod:`._traverse` with name resolution, labels and provenance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from ..errors import InvalidInput
from ..tools.fields import ToolModel
from ._lexicon import verb_sense
from ._store import EdgeRecord, KnowledgeStore
from ._traverse import EdgePath, k_shortest_s_paths, s_components

__all__ = [
    "Citation",
    "EdgeView",
    "PathView",
    "Neighbour",
    "ComponentView",
    "neighbours",
    "components",
    "find_paths",
    "edge_views",
]


class Citation(ToolModel):
    """Provenance of one assertion of a hyperedge."""

    document_id: str = Field(description="Source document id.")
    locator: dict[str, Any] = Field(description="Where in the document (chunk, character span start/end, hash...).")
    extractor: str = Field(description="Extractor name (offline-cooccurrence, llm:<model>, events-import...).")
    extractor_version: str
    created_at: str = Field(description="When the record was stored (ISO 8601, UTC).")


class EdgeView(ToolModel):
    """A hyperedge rendered for people and language models, with its citations."""

    id: int = Field(description="Store id of the hyperedge.")
    relation: str
    sources: list[str] = Field(default_factory=list, description="Labels of source nodes (directed edges).")
    targets: list[str] = Field(default_factory=list, description="Labels of target nodes (directed edges).")
    members: list[str] = Field(default_factory=list, description="Labels of members (undirected edges).")
    confidence: float = Field(ge=0, le=1)
    sign: Literal["+", "-", "0"] = Field(
        default="0", description="Effect of the sources on the targets: + raises, - lowers, 0 not stated/undirected."
    )
    sentence: str = Field(description="The edge as one sentence.")
    citations: list[Citation] = Field(min_length=1, description="Every provenance record of the edge (never empty).")


class PathView(ToolModel):
    """An s-path of hyperedges between two concepts."""

    length: int = Field(description="Number of hops (edges - 1).")
    edges: list[EdgeView]
    intersections: list[list[str]] = Field(description="Labels of the nodes shared by consecutive edges, per hop.")
    degrees: dict[str, int] = Field(
        default_factory=dict, description="Number of hyperedges of each shared node (hubs have many)."
    )


class Neighbour(ToolModel):
    node: str = Field(description="Label of a node sharing a hyperedge with the query node.")
    kind: str
    shared_edges: int = Field(description="Number of hyperedges containing both nodes.")


class ComponentView(ToolModel):
    size: int = Field(description="Number of hyperedges in the s-component.")
    edge_ids: list[int]
    top_nodes: list[str] = Field(description="Most frequent node labels in the component (at most 10).")


def edge_sign(relation: str, attrs: dict[str, Any]) -> Literal["+", "-", "0"]:
    """The sign an edge states: its ``sign`` attribute (offline extraction), else read off the relation's verb
    ("inhibits" -, "activates" +); negated or unknown relations give 0."""
    sign = attrs.get("sign") if isinstance(attrs, dict) else None
    if sign in ("+", "-", "0"):
        return sign
    words = relation.lower().split()
    if not words or any(w in ("not", "no", "never", "without") or w.endswith("n't") for w in words):
        return "0"
    sense = verb_sense(words[0])
    return sense.sign if sense is not None else "0"


def _sentence(e: EdgeRecord, label: dict[int, str]) -> str:
    names = lambda ids: ", ".join(label[i] for i in ids)  # noqa: E731
    if e.members:
        return f"{e.relation}: {names(e.members)}"
    return f"{names(e.sources)} {e.relation} {names(e.targets)}".strip()


def edge_views(store: KnowledgeStore, edge_ids: Sequence[int]) -> list[EdgeView]:
    """:class:`EdgeView` of each edge id, in order."""
    recs = store.edges(edge_ids)
    nodes = store.nodes(n for e in recs.values() for n in e.nodes)
    label = {i: n.label for i, n in nodes.items()}
    out = []
    for eid in edge_ids:
        e = recs[eid]
        out.append(
            EdgeView(
                id=e.id,
                relation=e.relation,
                sources=[label[i] for i in e.sources],
                targets=[label[i] for i in e.targets],
                members=[label[i] for i in e.members],
                confidence=e.confidence,
                sign=edge_sign(e.relation, e.attrs) if not e.members else "0",
                sentence=_sentence(e, label),
                citations=[Citation(**p) for p in e.provenance],
            )
        )
    return out


def neighbours(store: KnowledgeStore, concept: str, *, limit: int = 50) -> list[Neighbour]:
    """Nodes sharing at least one hyperedge with ``concept``, most shared edges first.

    Raises
    ------
    NotFound
        ``concept`` is not in the store.
    """
    if limit < 1:
        raise InvalidInput("limit", f"limit must be ≥ 1, got {limit}")
    nid = store.resolve(concept, field="concept")
    ix = store.index()
    v = ix.node_pos(nid)
    counts: Counter[int] = Counter()
    for e in ix.edges_of(v).tolist():
        counts.update(ix.nodes_of(e).tolist())
    counts.pop(v, None)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    recs = store.nodes(ix.node_ids[p] for p, _ in top)
    return [Neighbour(node=recs[ix.node_ids[p]].label, kind=recs[ix.node_ids[p]].kind, shared_edges=c) for p, c in top]


def components(store: KnowledgeStore, *, s: int = 1, limit: int = 20) -> tuple[int, list[ComponentView]]:
    """Number of s-components and the ``limit`` largest, with their most frequent nodes."""
    ix = store.index()
    comps = s_components(ix, s)
    views = []
    for comp in comps[:limit]:
        c: Counter[int] = Counter()
        for e in comp[:5000]:
            c.update(ix.nodes_of(e).tolist())
        top = [p for p, _ in c.most_common(10)]
        recs = store.nodes(ix.node_ids[p] for p in top)
        views.append(
            ComponentView(
                size=len(comp),
                edge_ids=[ix.edge_ids[e] for e in comp[:200]],
                top_nodes=[recs[ix.node_ids[p]].label for p in top],
            )
        )
    return len(comps), views


def find_paths(
    store: KnowledgeStore,
    a: str,
    b: str,
    *,
    s: int = 1,
    k: int = 3,
    through: Sequence[str] = (),
    max_extra_hops: int = 2,
) -> list[PathView]:
    """Up to ``k`` shortest s-paths between concepts ``a`` and ``b`` that pass ``through`` (in order).

    Raises
    ------
    InvalidInput
        ``s < 1``, ``k < 1`` or ``a == b``.
    NotFound
        A concept is not in the store.
    """
    ix = store.index()
    pa = ix.node_pos(store.resolve(a, field="a"))
    pb = ix.node_pos(store.resolve(b, field="b"))
    if pa == pb:
        raise InvalidInput("b", f"{a!r} and {b!r} are the same concept")
    mids = [ix.node_pos(store.resolve(m, field=f"through.{i}")) for i, m in enumerate(through)]
    paths: list[EdgePath] = k_shortest_s_paths(ix, pa, pb, s=s, k=k, through=mids, max_extra_hops=max_extra_hops)
    node_ids = {ix.node_ids[v] for p in paths for hop in p.hops for v in hop}
    labels = {i: r.label for i, r in store.nodes(node_ids).items()}
    out = []
    for p in paths:
        ids = [ix.edge_ids[e] for e in p.edges]
        out.append(
            PathView(
                length=p.length,
                edges=edge_views(store, ids),
                intersections=[[labels[ix.node_ids[v]] for v in hop] for hop in p.hops],
                degrees={labels[ix.node_ids[v]]: len(ix.edges_of(v)) for hop in p.hops for v in hop},
            )
        )
    return out
