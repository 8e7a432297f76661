"""Grounded hypotheses: candidate mechanistic links between two concepts, read off s-paths of hyperedges.

Each hop of a path is read as a mechanism step ``from --relation--> to`` with the sign its edge states (``+`` raises,
``-`` lowers) and that edge's citations. A path is offered as a *causal chain* only when every hop runs along its
edge's direction (the concept entering the hop is a source, the one leaving it a target); its composed sign is the
product of the hop signs ("ceria lowers ROS, ROS lower differentiation" composes to +). Any other path (a hop
against an edge's direction, or through an undirected co-occurrence) is offered as an *association* and says so.
Scores penalise hubs: each shared node is weighted by ``1 / (1 + ln(1 + d / d_mean))`` with ``d`` its number of
hyperedges and ``d_mean`` the store's mean, so a path through a specific concept ranks above one through a concept
that half the store mentions.

Every claim carries the provenance of every hyperedge it rests on. With an LLM configured, a short prose version is
also written; the model sees the path's edges as numbered sentences ``[E1]``, ``[E2]``… and each sentence it writes
must cite them. Sentences citing nothing (or citing an edge that is not on the path) are dropped, so there is never
a claim without a cited edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from ..settings import Settings, get_settings
from ..tools.fields import ToolModel
from ._llm import chat
from ._query import Citation, EdgeView, PathView, find_paths
from ._store import KnowledgeStore

__all__ = ["Claim", "Hop", "Hypothesis", "HypothesisSet", "generate_hypotheses"]


class Claim(ToolModel):
    """A statement and the hyperedges (with provenance) that support it."""

    text: str
    edge_ids: list[int] = Field(min_length=1, description="Store ids of the supporting hyperedges.")
    citations: list[Citation] = Field(min_length=1, description="Provenance of every supporting hyperedge.")


class Hop(ToolModel):
    """One mechanism step of a hypothesis: what its hyperedge states, in which direction it is read, and where."""

    source: str = Field(description="Concept entering the step (the start concept or the previous shared node).")
    relation: str
    target: str = Field(description="Concept leaving the step (the next shared node or the end concept).")
    sign: Literal["+", "-", "0"] = Field(description="Sign the edge states (0: none, negated or undirected).")
    along: bool = Field(description="The step follows the edge's direction (source role in, target role out).")
    edge_id: int
    mechanism: str = Field(description="The step as a sentence, citing its edge's documents.")
    citations: list[Citation] = Field(min_length=1)


class Hypothesis(ToolModel):
    """A candidate link from ``a`` to ``b`` along one s-path."""

    statement: str = Field(description="The hypothesis in one sentence (deterministic template).")
    kind: Literal["causal", "association"] = Field(
        default="association", description="causal: every hop runs along a directed edge; else an association."
    )
    sign: Literal["+", "-", "0"] = Field(
        default="0", description="Composed sign of a causal chain (product of hop signs; 0 if any is unknown)."
    )
    hops: list[Hop] = Field(default_factory=list, description="The mechanism, one step per hyperedge.")
    hub_penalty: float = Field(default=1.0, ge=0, le=1, description="Product of the shared nodes' hub weights.")
    via: list[str] = Field(description="Intermediate concepts: the nodes shared at each hop, in path order.")
    length: int = Field(description="Hops on the path (0: one hyperedge holds both concepts).")
    score: float = Field(
        ge=0, le=1, description="Mean edge confidence / (1 + hops) × hub penalty × (1 causal, 0.5 association)."
    )
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
        for h in self.hops:
            edge = on_path.get(h.edge_id)
            if edge is None or any(x not in h.citations for x in edge.citations):
                raise ValueError(f"mechanism step {h.mechanism!r} does not cite all of edge {h.edge_id}'s provenance")
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


def _hops(a: str, b: str, path: PathView) -> list[Hop]:
    """The mechanism steps of ``path`` read from concept label ``a`` to concept label ``b``."""
    out = []
    last = len(path.edges) - 1
    for i, e in enumerate(path.edges):
        entering = [a] if i == 0 else path.intersections[i - 1]
        leaving = [b] if i == last else path.intersections[i]
        src = next((x for x in entering if x in e.sources), entering[0])
        tgt = next((x for x in leaving if x in e.targets), leaving[0])
        along = src in e.sources and tgt in e.targets
        docs = ", ".join(sorted({c.document_id for c in e.citations}))
        if along:
            text = f"{src} {e.relation} {tgt} (sign {e.sign}) [{docs}]"
        elif src in e.targets and tgt in e.sources:
            text = f"{tgt} {e.relation} {src}: read against its direction [{docs}]"
        else:
            text = f"{src} and {tgt} take part in '{e.sentence}' [{docs}]"
        out.append(
            Hop(
                source=src,
                relation=e.relation,
                target=tgt,
                sign=e.sign if along else "0",
                along=along,
                edge_id=e.id,
                mechanism=text,
                citations=list(e.citations),
            )
        )
    return out


def _compose(hops: Sequence[Hop]) -> Literal["+", "-", "0"]:
    if any(h.sign == "0" for h in hops):
        return "0"
    return "-" if sum(h.sign == "-" for h in hops) % 2 else "+"


def _hub_penalty(path: PathView, mean_degree: float) -> float:
    weights = [1 / (1 + math.log1p(path.degrees.get(x, 1) / mean_degree)) for hop in path.intersections for x in hop]
    return math.prod(weights) if weights else 1.0


_EFFECT = {"+": "raise", "-": "lower", "0": "affect"}


def _statement(a: str, b: str, path: PathView, hops: Sequence[Hop], causal: bool, sign: str) -> str:
    steps = "; ".join(h.mechanism for h in hops)
    if causal:
        return f"{a} may {_EFFECT[sign]} {b}: {steps}."
    if not path.intersections:
        return f"{a} and {b} are associated (no directed chain): {steps}."
    via = " then ".join(", ".join(h) for h in path.intersections)
    return f"{a} and {b} are associated through {via} (no directed chain): {steps}."


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
    pool: int = 0,
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
    pool
        Rank this many shortest paths (at least ``k``) and keep the best ``k``: a larger pool lets a longer path
        through specific concepts replace a short one through hubs. The default ranks exactly the paths
        :func:`find_paths` returns for ``k``.
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
    paths = find_paths(store, a, b, s=s, k=max(k, pool), through=through)
    la, lb = (store.nodes([store.resolve(x)])[store.resolve(x)].label for x in (a, b))
    counts = store.counts()
    mean_degree = counts["incidences"] / max(1, counts["nodes"])
    ranked = []
    for p in paths:
        hops = _hops(la, lb, p)
        causal = all(h.along for h in hops)
        sign = _compose(hops) if causal else "0"
        penalty = _hub_penalty(p, mean_degree)
        confidence = sum(e.confidence for e in p.edges) / len(p.edges)
        hyp = dict(
            statement=_statement(la, lb, p, hops, causal, sign),
            kind="causal" if causal else "association",
            sign=sign,
            hops=hops,
            hub_penalty=penalty,
            via=[x for hop in p.intersections for x in hop],
            length=p.length,
            score=confidence / (1 + p.length) * penalty * (1.0 if causal else 0.5),
            claims=_claims(p),
            path=p,
        )
        ranked.append(hyp)
    ranked.sort(key=lambda h: (-h["score"], h["length"]))
    out, tokens = [], 0
    for hyp in ranked[:k]:
        if llm:
            prose, claims, dropped, used = _prose(a, b, hyp["path"], settings)
            tokens += used
            hyp.update(prose=prose, prose_claims=claims, dropped_sentences=dropped)
        out.append(Hypothesis(**hyp))
    return HypothesisSet(a=a, b=b, s=s, hypotheses=out, llm_used=bool(llm and out), tokens=tokens)
