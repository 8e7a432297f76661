"""Grounded hypotheses: candidate mechanistic links between two concepts, read off s-paths of hyperedges.

Every claim carries the provenance of every hyperedge it rests on. With an LLM configured, a short prose version is
also written; the model sees the path's edges as numbered sentences ``[E1]``, ``[E2]``… and each sentence it writes
must cite them. Sentences citing nothing (or citing an edge that is not on the path) are dropped, so there is never
a claim without a cited edge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field, model_validator

from ..settings import Settings, get_settings
from ..tools.fields import ToolModel
from ._llm import chat
from ._query import Citation, EdgeView, PathView, find_paths
from ._store import KnowledgeStore

__all__ = ["Claim", "Hypothesis", "HypothesisSet", "generate_hypotheses"]


class Claim(ToolModel):
    """A statement and the hyperedges (with provenance) that support it."""

    text: str
    edge_ids: list[int] = Field(min_length=1, description="Store ids of the supporting hyperedges.")
    citations: list[Citation] = Field(min_length=1, description="Provenance of every supporting hyperedge.")


class Hypothesis(ToolModel):
    """A candidate link from ``a`` to ``b`` along one s-path."""

    statement: str = Field(description="The hypothesis in one sentence (deterministic template).")
    via: list[str] = Field(description="Intermediate concepts: the nodes shared at each hop, in path order.")
    length: int = Field(description="Hops on the path (0: one hyperedge holds both concepts).")
    score: float = Field(ge=0, le=1, description="Mean edge confidence divided by (1 + hops).")
    claims: list[Claim] = Field(min_length=1)
    path: PathView
    prose: str | None = Field(default=None, description="LLM-written version; every sentence cites [E#] edges.")
    prose_claims: list[Claim] = Field(default_factory=list)
    dropped_sentences: int = Field(default=0, description="LLM sentences removed for citing no edge of the path.")

    @model_validator(mode="after")
    def _cited(self) -> Hypothesis:
        """Every claim rests on edges of its path, and carries every provenance record of each of those edges."""
        on_path = {e.id: e for e in self.path.edges}
        for c in [*self.claims, *self.prose_claims]:
            if not set(c.edge_ids) <= set(on_path):
                raise ValueError(f"claim cites edges outside its path: {sorted(set(c.edge_ids) - set(on_path))}")
            for eid in c.edge_ids:
                edge = on_path[eid]
                if not edge.citations or any(x not in c.citations for x in edge.citations):
                    raise ValueError(f"claim {c.text!r} uses edge {eid} without citing all of its provenance")
        return self


class HypothesisSet(ToolModel):
    a: str
    b: str
    s: int
    hypotheses: list[Hypothesis]
    llm_used: bool = False
    tokens: int = 0


def _citations(edges: Sequence[EdgeView]) -> list[Citation]:
    return [c for e in edges for c in e.citations]


def _claims(path: PathView) -> list[Claim]:
    claims = [Claim(text=e.sentence, edge_ids=[e.id], citations=list(e.citations)) for e in path.edges]
    for i, shared in enumerate(path.intersections):
        left, right = path.edges[i], path.edges[i + 1]
        claims.append(
            Claim(
                text=f"{', '.join(shared)} links '{left.sentence}' to '{right.sentence}'",
                edge_ids=[left.id, right.id],
                citations=_citations([left, right]),
            )
        )
    return claims


def _statement(a: str, b: str, path: PathView) -> str:
    if not path.intersections:
        return f"{a} and {b} are directly related: {path.edges[0].sentence}."
    via = " then ".join(", ".join(h) for h in path.intersections)
    chain = "; ".join(e.sentence for e in path.edges)
    return f"{a} may act on {b} through {via} ({chain})."


_CITE = re.compile(r"\[E(\d+)\]")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def _prose(a: str, b: str, path: PathView, settings: Settings) -> tuple[str | None, list[Claim], int, int]:
    lines = [
        f"[E{i + 1}] {e.sentence} (source: {', '.join(sorted({c.document_id for c in e.citations}))})"
        for i, e in enumerate(path.edges)
    ]
    messages = [
        {
            "role": "system",
            "content": (
                "You write short mechanistic hypotheses grounded only in the numbered evidence given. "
                "End every sentence with the labels of the evidence it uses, like [E1][E2]. "
                "Do not state anything the evidence lacks."
            ),
        },
        {"role": "user", "content": f"Propose how {a} could influence {b}.\nEvidence:\n" + "\n".join(lines)},
    ]
    text, tokens = chat(messages, settings=settings)
    kept, claims, dropped = [], [], 0
    for sentence in (s.strip() for s in _SENTENCES.split(text.strip())):
        if not sentence:
            continue
        labels = [int(m) for m in _CITE.findall(sentence)]
        edges = [path.edges[n - 1] for n in dict.fromkeys(labels) if 1 <= n <= len(path.edges)]
        if not edges or len(edges) != len(dict.fromkeys(labels)):
            dropped += 1
            continue
        kept.append(sentence)
        claims.append(Claim(text=sentence, edge_ids=[e.id for e in edges], citations=_citations(edges)))
    return (" ".join(kept) or None), claims, dropped, tokens


def generate_hypotheses(
    store: KnowledgeStore,
    a: str,
    b: str,
    *,
    s: int = 1,
    k: int = 3,
    through: Sequence[str] = (),
    use_llm: bool | None = None,
    settings: Settings | None = None,
) -> HypothesisSet:
    """Candidate mechanistic links from concept ``a`` to concept ``b``, best first.

    Parameters
    ----------
    store
        The knowledge store.
    a, b
        Concept names (any synonym or surface form the store knows).
    s
        Adjacency threshold: consecutive hyperedges on a path share at least ``s`` nodes.
    k
        At most this many hypotheses (one per path).
    through
        Concepts the path must pass, in order.
    use_llm
        Also write prose with the configured LLM; default: when one is configured.

    Raises
    ------
    NotFound
        A concept is not in the store.
    InvalidInput
        ``s < 1``, ``k < 1``, ``a`` equals ``b``.
    """
    settings = settings or get_settings()
    llm = settings.llm_configured if use_llm is None else use_llm
    paths = find_paths(store, a, b, s=s, k=k, through=through)
    out, tokens = [], 0
    for p in paths:
        confidence = sum(e.confidence for e in p.edges) / len(p.edges)
        hyp = dict(
            statement=_statement(a, b, p),
            via=[x for hop in p.intersections for x in hop],
            length=p.length,
            score=confidence / (1 + p.length),
            claims=_claims(p),
            path=p,
        )
        if llm:
            prose, claims, dropped, used = _prose(a, b, p, settings)
            tokens += used
            hyp.update(prose=prose, prose_claims=claims, dropped_sentences=dropped)
        out.append(Hypothesis(**hyp))
    out.sort(key=lambda h: (-h.score, h.length))
    return HypothesisSet(a=a, b=b, s=s, hypotheses=out, llm_used=bool(llm and paths), tokens=tokens)
