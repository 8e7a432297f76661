"""Turning text into events ``{source: [..], relation, target: [..]}``.

Two extractors:

- :func:`offline_extract` — deterministic, no LLM, labelled ``offline-cooccurrence`` in provenance. Per sentence it
  finds vocabulary terms (longest match, after normalisation) and a relation verb; terms before the verb become
  sources and terms after it targets. A sentence with ≥ 2 terms and no verb becomes an undirected co-occurrence
  event. Crude, but reproducible and good enough to build a navigable store from curated text.
- :func:`llm_extract` — one chat-completions call per chunk with a JSON schema for the events (as in the paper's
  pipeline), validated before use.

Both return :class:`ExtractedEvent` objects carrying the character span they came from, for provenance.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from ..errors import ExtractionFailed, InvalidInput
from ..settings import Settings
from ._llm import chat
from ._normalise import MOLECULE_SMILES, SYNONYMS, normalise_text

__all__ = [
    "ExtractedEvent",
    "OFFLINE_EXTRACTOR",
    "OFFLINE_VERSION",
    "LLM_VERSION",
    "EVENTS_SCHEMA",
    "default_vocabulary",
    "split_sentences",
    "chunk_text",
    "offline_extract",
    "llm_extract",
    "sha256_short",
]

OFFLINE_EXTRACTOR = "offline-cooccurrence"
OFFLINE_VERSION = "1"
LLM_VERSION = "1"
UNDIRECTED = "co-occurs with"

# Verb surface form → relation label. Checked token by token; the first verb with terms on both sides wins.
_VERBS: dict[str, str] = {}
for _rel, _forms in {
    "activates": "activate activates activated stimulates stimulate triggers trigger",
    "inhibits": "inhibit inhibits inhibited blocks block suppresses suppress inactivate inactivates",
    "phosphorylates": "phosphorylate phosphorylates phosphorylated",
    "dephosphorylates": "dephosphorylate dephosphorylates",
    "binds": "bind binds bound",
    "recruits": "recruit recruits recruited",
    "increases": "increase increases increased raises enhance enhances enhanced",
    "improves": "improve improves improved",
    "reduces": "reduce reduces reduced lowers lower decreases decrease",
    "scavenges": "scavenge scavenges scavenged",
    "decomposes": "decompose decomposes decomposed",
    "produces": "produce produces produced generates generate yields yield",
    "forms": "form forms formed build builds",
    "crosslinks": "crosslink crosslinks crosslinked",
    "promotes": "promote promotes promoted",
    "supports": "support supports supported",
    "protects": "protect protects protected passivates passivate",
    "stabilises": "stabilise stabilises stabilize stabilizes",
    "dissolves": "dissolve dissolves dissolved",
    "degrades": "degrade degrades degraded",
    "releases": "release releases released",
    "impairs": "impair impairs impaired poison poisons attacks attack corrodes",
    "induces": "induce induces induced",
    "converts": "convert converts",
    "mimics": "mimic mimics",
    "reacts with": "react reacts",
    "migrates to": "migrate migrates",
    "differentiates into": "differentiate differentiates",
    "accelerates": "accelerate accelerates",
    "prolongs": "prolong prolongs",
    "terminates": "terminate terminates",
    "encapsulates": "encapsulate encapsulates",
    "occupies": "occupy occupies occupying",
    "resists": "resist resists",
    "polymerises": "polymerise polymerises polymerize polymerizes",
    "exfoliates": "exfoliate exfoliates",
    "marks": "mark marks",
}.items():
    for _form in _forms.split():
        _VERBS[_form] = _rel

EVENTS_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "source": {"type": "array", "items": {"type": "string"}},
                    "relation": {"type": "string"},
                    "target": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["source", "relation", "target"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["events"],
    "additionalProperties": False,
}

_SYSTEM = (
    'You extract scientific relations from text as hyperedges. Return JSON {"events": [...]} where each event has '
    '"source" (list of entity names), "relation" (a short verb phrase) and "target" (list of entity names). '
    "Use the entity names as written; include every entity that takes part in a relation; no commentary."
)


@dataclass(frozen=True)
class ExtractedEvent:
    """One event found in a document, with where it was found.

    ``start``/``end`` are character offsets into the document text; ``chunk`` is the chunk (or sentence) index and
    ``sha256`` a short hash of that chunk's text.
    """

    source: tuple[str, ...]
    relation: str
    target: tuple[str, ...]
    start: int
    end: int
    chunk: int
    sha256: str
    directed: bool = True
    confidence: float = 1.0
    evidence: str = field(default="", compare=False)


def sha256_short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------- text splitting
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text`` (ends at ., ! or ? before a capital)."""
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def chunk_text(text: str, max_chars: int = 2000) -> list[tuple[int, int]]:
    """Spans of consecutive whole sentences, each at most ``max_chars`` long (a longer sentence is its own chunk)."""
    if max_chars < 1:
        raise InvalidInput("max_chars", f"chunk size must be ≥ 1 character, got {max_chars}")
    chunks: list[tuple[int, int]] = []
    for a, b in split_sentences(text):
        if chunks and b - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], b)
        else:
            chunks.append((a, b))
    return chunks


# ---------------------------------------------------------------------------- vocabulary
@functools.lru_cache(maxsize=1)
def default_vocabulary() -> frozenset[str]:
    """Normalised terms the offline extractor recognises (shipped vocabulary + molecule names + synonyms)."""
    lines = resources.files(__package__).joinpath("vocabulary.txt").read_text(encoding="utf-8").splitlines()
    terms = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    terms += list(MOLECULE_SMILES) + list(SYNONYMS) + list(SYNONYMS.values())
    return frozenset(t for t in (normalise_text(x) for x in terms) if t)


_TOKEN = re.compile(r"[\w(][\w/+()]*(?:[-‐][\w/+()]+)*")


def _tokens(sentence: str) -> list[tuple[str, int, int]]:
    """Word tokens with spans; parentheses around a token are dropped, those inside a name are kept."""
    out = []
    for m in _TOKEN.finditer(sentence):
        tok, a, b = m.group(), m.start(), m.end()
        if tok.startswith("(") and (tok.endswith(")") or tok.count("(") > tok.count(")")):
            tok, a = tok[1:], a + 1
        while tok.endswith(")") and tok.count(")") > tok.count("("):
            tok, b = tok[:-1], b - 1
        if tok:
            out.append((tok, a, b))
    return out


def _find_terms(
    tokens: list[tuple[str, int, int]], vocab: frozenset[str], max_words: int = 6
) -> list[tuple[str, int, int]]:
    """Greedy longest-match of vocabulary terms over tokens: (normalised term, first token, last token + 1)."""
    found, i = [], 0
    while i < len(tokens):
        for n in range(min(max_words, len(tokens) - i), 0, -1):
            term = normalise_text(" ".join(t[0] for t in tokens[i : i + n]))
            if term in vocab:
                found.append((term, i, i + n))
                i += n
                break
        else:
            i += 1
    return found


def offline_extract(text: str, *, vocabulary: Iterable[str] | None = None) -> list[ExtractedEvent]:
    """Deterministic sentence-level events from ``text`` (see the module docstring).

    Parameters
    ----------
    text
        Document text.
    vocabulary
        Terms to recognise (any surface form); default :func:`default_vocabulary`.
    """
    vocab = default_vocabulary() if vocabulary is None else frozenset(normalise_text(v) for v in vocabulary) - {""}
    events: list[ExtractedEvent] = []
    for idx, (a, b) in enumerate(split_sentences(text)):
        sentence = text[a:b]
        toks = _tokens(sentence)
        terms = _find_terms(toks, vocab)
        names = list(dict.fromkeys(t[0] for t in terms))
        if len(names) < 2:
            continue
        covered = {j for _, i0, i1 in terms for j in range(i0, i1)}
        verb = None
        for j, (tok, _, _) in enumerate(toks):
            rel = _VERBS.get(tok.lower())
            if rel and j not in covered and any(t[2] <= j for t in terms) and any(t[1] > j for t in terms):
                verb = (j, rel)
                break
        digest = sha256_short(sentence)
        if verb is not None:
            j, rel = verb
            src = tuple(dict.fromkeys(t[0] for t in terms if t[2] <= j))
            tgt = tuple(n for n in dict.fromkeys(t[0] for t in terms if t[1] > j) if n not in src)
            if tgt:
                events.append(ExtractedEvent(src, rel, tgt, a, b, idx, digest, True, 0.6, sentence))
                continue
        events.append(ExtractedEvent(tuple(names), UNDIRECTED, (), a, b, idx, digest, False, 0.3, sentence))
    return events


# ---------------------------------------------------------------------------- LLM extraction
def _parse_events(content: str) -> list[dict]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as err:
        raise ExtractionFailed(f"LLM reply is not JSON: {err.msg}") from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise ExtractionFailed("LLM reply lacks an 'events' list")
    good = []
    for k, ev in enumerate(events):
        ok = (
            isinstance(ev, dict)
            and isinstance(ev.get("relation"), str)
            and ev["relation"].strip()
            and all(
                isinstance(ev.get(r), list) and all(isinstance(x, str) for x in ev[r]) for r in ("source", "target")
            )
        )
        if not ok:
            raise ExtractionFailed(f"LLM event {k} does not match the events schema: {json.dumps(ev)[:200]}")
        good.append(ev)
    return good


def llm_extract(
    text: str, *, settings: Settings | None = None, max_chars: int = 2000
) -> tuple[list[ExtractedEvent], int]:
    """Events from ``text`` via the configured OpenAI-compatible endpoint, one request per chunk.

    Returns the events and the tokens used. A reply that is not JSON matching :data:`EVENTS_SCHEMA` is asked for
    once more; a second bad reply raises :class:`~labwright.errors.ExtractionFailed`.
    """
    fmt = {"type": "json_schema", "json_schema": {"name": "events", "schema": EVENTS_SCHEMA, "strict": True}}
    out: list[ExtractedEvent] = []
    tokens = 0
    for idx, (a, b) in enumerate(chunk_text(text, max_chars)):
        chunk = text[a:b]
        messages = [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": chunk}]
        for attempt in (1, 2):
            content, used = chat(messages, settings=settings, response_format=fmt)
            tokens += used
            try:
                raw = _parse_events(content)
                break
            except ExtractionFailed:
                if attempt == 2:
                    raise
        digest = sha256_short(chunk)
        for ev in raw:
            src = tuple(s for s in ev["source"] if s.strip())
            tgt = tuple(t for t in ev["target"] if t.strip())
            if not src and not tgt:
                continue
            out.append(
                ExtractedEvent(src, ev["relation"].strip(), tgt, a, b, idx, digest, bool(src and tgt), 0.8, chunk)
            )
    return out, tokens
