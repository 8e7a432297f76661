"""Literature hypotheses: a corpus into the hypergraph store, bridging paths between two concepts, grounded
hypotheses, and a reviewer's verdict on each.

The ``literature_hypotheses`` workflow chains these skills::

    ingest (kg_ingest_text per passage, offline extractor; writes a store: checkpoint) -> paths (kg_paths)
        -> hypotheses (kg_hypotheses, deterministic templates) -> review (claims vs cited passages)

Every count and score comes from the knowledge tools (``kg_ingest_text``, ``kg_stats``, ``kg_paths``,
``kg_hypotheses``). The reviewer is deterministic and uses no model: for each claim it checks that every cited
hyperedge carries provenance (document, extractor, character span), that the cited document is a passage of the
corpus, and that the cited span mentions every entity of the hyperedge (matching surface forms through the store's
own normaliser, so "ceria" counts as a mention of "cerium oxide"), and that every concept of the path the claim's
text names is mentioned by a passage it cites (so an LLM sentence cannot borrow a concept from an edge it does not
cite). It also checks that each hypothesis rests on one of the bridging paths ``kg_paths`` found independently.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from ..errors import InvalidInput
from ..knowledge import (  # also registers the kg_* tools
    Hypothesis,
    PathView,
    abbreviations,
    normalise_concept,
    normalise_text,
    read_corpus,
)
from ..tools.fields import ToolModel
from ..tools.registry import Cost, get_tool
from ._skill import SkillContext, skill

__all__ = [
    "CorpusStore",
    "BridgingPaths",
    "HypothesisList",
    "ClaimVerdict",
    "HypothesisVerdict",
    "Review",
    "ingest_corpus",
    "bridging_paths",
    "hypotheses",
    "review_hypotheses",
    "review_hypothesis",
    "mentions",
]

# ----------------------------------------------------------------------------------------------------- ingest ----


class IngestInput(ToolModel):
    corpus: Path = Field(description="Passages as JSONL ({id, text, title?} per line) or a folder of .txt/.md files.")
    store_path: Path | None = Field(
        default=None, description="Knowledge store (SQLite) to write; default: a new store in this step's folder."
    )
    extractor: Literal["offline", "llm", "auto"] = Field(
        default="offline", description="'offline': deterministic co-occurrence + verb patterns; 'llm': the endpoint."
    )


class CorpusStore(ToolModel):
    store_path: str = Field(description="The knowledge store the corpus was ingested into.")
    corpus: str = Field(description="The corpus file (absolute path).")
    passage_ids: list[str] = Field(min_length=1, description="Ids of the ingested passages (what provenance cites).")
    nodes: int = Field(description="Nodes in the store (kg_stats).")
    edges: int = Field(description="Hyperedges in the store (kg_stats).")
    provenance: int = Field(description="Provenance records (kg_stats): one per assertion of an edge.")


def _ingest_args(doc, extractor: str, store: str | None) -> dict:
    return {"text": doc.text, "document_id": doc.id, "title": doc.title, "extractor": extractor, "store_path": store}


def _ingest_cost(inp: IngestInput) -> Cost:
    """The step's cost: the tools' own estimates of one kg_ingest_text call per passage plus kg_stats.

    This is what a person approves at the checkpoint; the approval then covers exactly those calls. An unreadable
    corpus estimates as nothing (the step itself reports the error by field).
    """
    try:
        docs = read_corpus(Path(inp.corpus))
    except (OSError, ValueError):
        return Cost()
    ingest, stats = get_tool("kg_ingest_text"), get_tool("kg_stats")
    total = stats.estimate_cost({"store_path": None, "s": 2, "fit": False})
    for d in docs:
        total = total + ingest.estimate_cost(_ingest_args(d, inp.extractor, None))
    return total


@skill("lit.ingest_corpus", version="1", role="librarian", tools=("kg_ingest_text", "kg_stats"), estimate=_ingest_cost)
def ingest_corpus(ctx: SkillContext, inp: IngestInput) -> CorpusStore:
    """Ingest a passage corpus into a hypergraph knowledge store, one document per passage, with provenance."""
    docs = read_corpus(ctx.input_file(inp.corpus))
    if not docs:
        raise InvalidInput("corpus", f"{inp.corpus} holds no passages")
    store = str(Path(inp.store_path) if inp.store_path is not None else ctx.step_dir / "knowledge.sqlite")
    status = {}
    for d in docs:
        out = ctx.call("kg_ingest_text", _ingest_args(d, inp.extractor, store))
        status[d.id] = {"status": out.documents.get(d.id), "events": out.events, "edges_created": out.edges_created}
    stats = ctx.call("kg_stats", {"store_path": store, "s": 2, "fit": False})
    art = ctx.save_json(
        "ingest.json",
        {"store_path": store, "extractor": inp.extractor, "documents": status, "stats": stats.model_dump(mode="json")},
        kind="data",
        title="Ingested passages and store statistics",
    )
    ctx.claim("passages in the knowledge store", value=stats.documents, artifacts=[art])
    ctx.claim("hypergraph nodes (normalised concepts)", value=stats.nodes, artifacts=[art])
    ctx.claim("hyperedges (n-ary relations)", value=stats.edges, artifacts=[art])
    ctx.claim("s = 2 connected components of the hyperedges", value=stats.components, artifacts=[art])
    return CorpusStore(
        store_path=store,
        corpus=str(Path(inp.corpus).resolve()),
        passage_ids=[d.id for d in docs],
        nodes=stats.nodes,
        edges=stats.edges,
        provenance=stats.provenance,
    )


# ------------------------------------------------------------------------------------------------------ paths ----


class PathsInput(ToolModel):
    store_path: str = Field(description="Knowledge store to query.")
    a: str = Field(min_length=1, description="Start concept (any synonym the store knows).")
    b: str = Field(min_length=1, description="End concept.")
    s: int = Field(default=1, ge=1, description="Consecutive hyperedges share at least s nodes.")
    # Each further path is one more shortest-path search; 50 keeps a query to seconds on a large store.
    k: int = Field(default=3, ge=1, le=50, description="Number of shortest paths.")


class BridgingPaths(ToolModel):
    a: str
    b: str
    s: int
    k: int
    paths: list[PathView] = Field(description="kg_paths: shortest s-paths of hyperedges, with citations.")


@skill("lit.bridging_paths", version="1", role="librarian", tools=("kg_paths",))
def bridging_paths(ctx: SkillContext, inp: PathsInput) -> BridgingPaths:
    """Find the shortest s-paths of hyperedges that bridge two concepts, with the shared nodes of each hop."""
    out = ctx.call("kg_paths", {"store_path": inp.store_path, "a": inp.a, "b": inp.b, "s": inp.s, "k": inp.k})
    art = ctx.save_json("paths.json", out, kind="data", title=f"Bridging paths {inp.a} -> {inp.b} (s = {inp.s})")
    ctx.claim(f"bridging s = {inp.s} paths from {inp.a} to {inp.b}", value=len(out.paths), artifacts=[art])
    if out.paths:
        hops = ", ".join(" / ".join(h) for h in out.paths[0].intersections) or "one shared hyperedge"
        ctx.claim(f"shortest path: hops (via {hops})", value=out.paths[0].length, artifacts=[art])
    return BridgingPaths(a=inp.a, b=inp.b, s=inp.s, k=inp.k, paths=list(out.paths))


# ------------------------------------------------------------------------------------------------- hypotheses ----


class HypothesesInput(PathsInput):
    use_llm: bool = Field(
        default=False, description="Also write LLM prose (needs an endpoint); the default keeps the run deterministic."
    )


class HypothesisList(ToolModel):
    hypotheses: list[Hypothesis] = Field(description="kg_hypotheses, best first; every claim cites its hyperedges.")
    llm_used: bool


@skill("lit.hypotheses", version="1", role="librarian", tools=("kg_hypotheses",))
def hypotheses(ctx: SkillContext, inp: HypothesesInput) -> HypothesisList:
    """Turn the bridging paths into candidate mechanistic hypotheses whose every claim cites its sources."""
    out = ctx.call(
        "kg_hypotheses",
        {"store_path": inp.store_path, "a": inp.a, "b": inp.b, "s": inp.s, "k": inp.k, "use_llm": inp.use_llm},
    )
    art = ctx.save_json("hypotheses.json", out, kind="hypothesis", title=f"Hypotheses linking {inp.a} to {inp.b}")
    for i, h in enumerate(out.hypotheses, start=1):
        docs = sorted({c.document_id for cl in h.claims for c in cl.citations})
        ctx.claim(f"H{i}: {h.statement} [sources: {', '.join(docs)}]; score", value=h.score, artifacts=[art])
    if not out.hypotheses:
        ctx.claim(f"no hypothesis links {inp.a} to {inp.b} at s = {inp.s}", artifacts=[art])
    return HypothesisList(hypotheses=list(out.hypotheses), llm_used=out.llm_used)


# ----------------------------------------------------------------------------------------------------- review ----


class ReviewInput(ToolModel):
    corpus: str = Field(description="The corpus the store was built from (the reviewer reads the cited passages).")
    paths: list[PathView] = Field(description="Bridging paths found by kg_paths.")
    hypotheses: list[Hypothesis]


class ClaimVerdict(ToolModel):
    text: str
    edge_ids: list[int]
    documents: list[str] = Field(description="Passage ids the claim cites.")
    supported: bool = Field(description="Provenance complete, passages exist and mention every entity.")
    problems: list[str] = Field(default_factory=list, description="Why the claim is not supported.")


class HypothesisVerdict(ToolModel):
    rank: int = Field(ge=1, description="Position in kg_hypotheses' order (1 = best).")
    statement: str
    score: float = Field(description="kg_hypotheses score.")
    verdict: Literal["accept", "reject"]
    on_bridging_path: bool = Field(description="Its hyperedges form one of the paths kg_paths found.")
    claims: list[ClaimVerdict]


class Review(ToolModel):
    verdicts: list[HypothesisVerdict]
    accepted: int = Field(description="Hypotheses whose every claim is supported.")


_TOKEN = re.compile(r"[\w()/+'\-]+")


def _clean(phrase: str) -> str:
    """A phrase without enclosing or unbalanced parentheses at its ends ("(PCL)" -> "PCL", "acid)" -> "acid");
    balanced inner ones stay ("poly(lactic co glycolic acid)")."""
    while phrase.startswith("(") and phrase.endswith(")") and len(phrase) > 1:
        phrase = phrase[1:-1]
    while phrase.startswith("(") and phrase.count("(") > phrase.count(")"):
        phrase = phrase[1:]
    while phrase.endswith(")") and phrase.count(")") > phrase.count("("):
        phrase = phrase[:-1]
    return phrase


def _expand(words: list[str], abbrev: Mapping[str, str]) -> list[str]:
    """Words with each abbreviation the passage defined replaced by its long form (a plural "MSCs" too)."""
    out: list[str] = []
    for w in words:
        bare = _clean(w)
        long = abbrev.get(bare) or (abbrev.get(bare[:-1]) if bare.endswith("s") else None)
        out.extend(long.split() if long else [w])
    return out


def _mention_forms(text: str, max_words: int = 6, abbrev: Mapping[str, str] | None = None) -> set[str]:
    """Normalised forms of every run of 1..max_words words of ``text`` (the store's own normaliser), abbreviations
    defined in ``abbrev`` expanded first."""
    words = _expand(_TOKEN.findall(text), abbrev or {})
    forms = set()
    for i in range(len(words)):
        for n in range(1, min(max_words, len(words) - i) + 1):
            form = normalise_text(_clean(" ".join(words[i : i + n])))
            if form:
                forms.add(form)
    return forms


def _chemical_key(name: str) -> str | None:
    """The store's key of a chemical name or formula (``formula:CeO2``), or None for any other phrase."""
    try:
        concept = normalise_concept(name)
    except InvalidInput:
        return None
    return concept.key if concept.kind == "molecule" else None


def mentions(text: str, entity: str, defined: Mapping[str, str] | None = None) -> bool:
    """True when ``text`` mentions ``entity`` under any surface form the store normalises to the same concept.

    ``defined`` (abbreviation → long form) holds the abbreviations the document of ``text`` defines: an abbreviation
    counts as a mention only where its own document says what it stands for, as in extraction. A chemical is also
    mentioned by a run of up to three words that is the same substance ("CeO2 nanoparticles" for "cerium oxide"),
    as the store merges them through their composition.
    """
    target = normalise_text(entity)
    if not target:
        return False
    if target in _mention_forms(text, max(6, len(entity.split()) + 2), defined):
        return True
    key = _chemical_key(entity)
    if key is None:
        return False
    words = [_clean(w) for w in _expand(_TOKEN.findall(text), defined or {})]
    runs = (" ".join(words[i : i + n]) for i in range(len(words)) for n in (1, 2, 3))
    return any(_chemical_key(run) == key for run in runs)


@functools.lru_cache(maxsize=256)
def _defined(passage: str) -> dict[str, str]:
    """Abbreviations a passage defines (cached: the reviewer asks once per citation)."""
    return abbreviations(passage)


def _span(text: str, locator: Mapping[str, object]) -> str | None:
    """The cited character span of a passage, or None if the locator does not give a valid one."""
    start, end = locator.get("start"), locator.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return None
    return text[start:end]


def _check_edge(edge, passages: Mapping[str, str]) -> list[str]:
    """Problems with one cited hyperedge: missing provenance, unknown passage, entities the span does not mention."""
    problems = []
    if not edge.citations:
        return [f"edge {edge.id} has no provenance"]
    entities = [*edge.sources, *edge.targets, *edge.members]
    for c in edge.citations:
        if not c.document_id or not c.extractor:
            problems.append(f"edge {edge.id}: a citation lacks its document or extractor")
            continue
        if c.document_id not in passages:
            problems.append(f"edge {edge.id} cites {c.document_id!r}, which is not a passage of the corpus")
            continue
        span = _span(passages[c.document_id], c.locator)
        if span is None:
            problems.append(f"edge {edge.id}: citation of {c.document_id} has no valid character span")
            continue
        abbrev = _defined(passages[c.document_id])
        absent = [e for e in entities if not mentions(span, e, abbrev)]
        if absent:
            where = f"{c.document_id}[{c.locator['start']}:{c.locator['end']}]"
            problems.append(f"{where} does not mention {', '.join(repr(e) for e in absent)}")
    return problems


def _named_concepts(text: str, vocabulary: Sequence[str]) -> list[str]:
    """Concepts of ``vocabulary`` that ``text`` names, read left to right taking the longest match at each word, so
    that "solid electrolyte interphase" names that concept and not also "electrolyte"."""
    by_form = {normalise_text(v): v for v in vocabulary}
    by_form.pop("", None)
    words = _TOKEN.findall(text)
    longest = max([len(v.split()) for v in vocabulary] + [4]) + 2  # abbreviations expand ("SEI" -> 3 words)
    found: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            hit = by_form.get(normalise_text(_clean(" ".join(words[i : i + n]))))
            if hit is not None:
                if hit not in found:
                    found.append(hit)
                i += n
                break
        else:
            i += 1
    return found


def _named_entity_problems(
    text: str, vocabulary: Sequence[str], citations, passages: Mapping[str, str], defined: Mapping[str, str]
) -> list[str]:
    """Concepts of ``vocabulary`` that the claim ``text`` names but none of its cited passage spans mentions.

    ``defined`` holds the abbreviations the passages of the hypothesis' path define: the claim is read with them
    ("PCL scaffolds" names polycaprolactone scaffold where a passage on the path says "polycaprolactone (PCL)").

    This catches a sentence that cites one hyperedge but borrows a concept from another (or from nowhere in the
    path), which matters for LLM prose; template claims are built from their edges' labels and pass by construction.
    """
    named = _named_concepts(" ".join(_expand(_TOKEN.findall(text), defined)), vocabulary)
    spans = []
    for c in citations:
        span = _span(passages.get(c.document_id, ""), c.locator)
        if span is not None:
            spans.append((span, _defined(passages[c.document_id])))
    return [
        f"the claim names {v!r}, which none of its cited passages mentions"
        for v in named
        if not any(mentions(sp, v, abbrev) for sp, abbrev in spans)
    ]


def review_hypothesis(
    hyp: Hypothesis, rank: int, passages: Mapping[str, str], bridging: Sequence[Sequence[int]]
) -> HypothesisVerdict:
    """The reviewer's verdict on one hypothesis (pure, deterministic).

    Parameters
    ----------
    hyp
        A hypothesis from ``kg_hypotheses``.
    rank
        Its 1-based position in the tool's order.
    passages
        Passage id -> full text of the corpus.
    bridging
        Edge-id sequences of the paths ``kg_paths`` found.
    """
    edges = {e.id: e for e in hyp.path.edges}
    vocabulary = sorted({x for e in hyp.path.edges for x in (*e.sources, *e.targets, *e.members)})
    defined: dict[str, str] = {}
    for doc in sorted({c.document_id for e in hyp.path.edges for c in e.citations}):
        defined.update(_defined(passages.get(doc, "")))
    claims = []
    for cl in [*hyp.claims, *hyp.prose_claims]:  # LLM prose sentences (if any) are held to the same standard
        problems = []
        if not cl.edge_ids:
            problems.append("cites no hyperedge")
        for eid in cl.edge_ids:
            if eid not in edges:
                problems.append(f"cites edge {eid}, which is not on the hypothesis' path")
            else:
                problems += _check_edge(edges[eid], passages)
        problems += _named_entity_problems(cl.text, vocabulary, cl.citations, passages, defined)
        docs = sorted({c.document_id for c in cl.citations})
        claims.append(
            ClaimVerdict(
                text=cl.text, edge_ids=list(cl.edge_ids), documents=docs, supported=not problems, problems=problems
            )
        )
    on_path = [e.id for e in hyp.path.edges] in [list(p) for p in bridging]
    ok = on_path and all(c.supported for c in claims)
    return HypothesisVerdict(
        rank=rank,
        statement=hyp.statement,
        score=hyp.score,
        verdict="accept" if ok else "reject",
        on_bridging_path=on_path,
        claims=claims,
    )


def _verdict_figure(ctx: SkillContext, verdicts: list[HypothesisVerdict]):
    """Bars of the hypotheses' kg_hypotheses scores, coloured by the reviewer's verdict."""
    fig = ctx.figure(figsize=(6.5, 0.6 + 0.5 * max(1, len(verdicts))))
    ax = fig.subplots()
    colours = ["tab:green" if v.verdict == "accept" else "tab:red" for v in verdicts]
    labels = [f"H{v.rank} ({sum(c.supported for c in v.claims)}/{len(v.claims)} claims)" for v in verdicts]
    ax.barh(range(len(verdicts)), [v.score for v in verdicts], color=colours)
    ax.set_yticks(range(len(verdicts)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("kg_hypotheses score (mean edge confidence / (1 + hops))")
    ax.set_title("Hypotheses: green = accepted by the reviewer, red = rejected")
    return fig


@skill("lit.review", version="1", role="reviewer")
def review_hypotheses(ctx: SkillContext, inp: ReviewInput) -> Review:
    """Review each hypothesis: every claim must cite hyperedges with provenance whose passages mention its entities."""
    passages = {d.id: d.text for d in read_corpus(ctx.input_file(inp.corpus))}
    bridging = [[e.id for e in p.edges] for p in inp.paths]
    verdicts = [review_hypothesis(h, i, passages, bridging) for i, h in enumerate(inp.hypotheses, start=1)]
    out = Review(verdicts=verdicts, accepted=sum(v.verdict == "accept" for v in verdicts))
    art = ctx.save_json("verdicts.json", out, kind="hypothesis", title="Reviewer verdicts per hypothesis and claim")
    figs = [ctx.save_figure("verdicts.png", _verdict_figure(ctx, verdicts), title="Hypothesis scores and verdicts")]
    for v in verdicts:
        n_ok = sum(c.supported for c in v.claims)
        first = next((p for c in v.claims for p in c.problems), None)
        text = f"H{v.rank} {v.verdict}ed by the reviewer: claims supported by their cited passages"
        if first:
            text += f" (first problem: {first})"
        ctx.claim(text, value=f"{n_ok}/{len(v.claims)}", artifacts=[art, *figs])
    ctx.claim("hypotheses accepted by the reviewer", value=f"{out.accepted}/{len(verdicts)}", artifacts=[art])
    return out
