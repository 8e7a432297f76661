"""Turning text into events ``{source: [..], relation, target: [..]}``.

Two extractors:

- :func:`offline_extract` — deterministic, no LLM and no concept vocabulary, labelled ``offline-cooccurrence`` in
  provenance: noun phrases by general rules, chemicals (formulae, SMILES, OPSIN names), effect verbs with direction
  and sign (passive voice, negation, coordination), abbreviations from their in-document definition; a sentence with
  ≥ 2 key phrases (PositionRank) and no relation becomes an undirected co-occurrence event named by its top ones.
  Precision/recall on hand-written sentences: benchmarks/extraction.py.
- :func:`llm_extract` — the HyperGraphReasoning pipeline: 2,500-character chunks, a rewrite pass, two extraction
  passes with a JSON schema for the events (validated before use), node merging by embeddings.

Both return :class:`ExtractedEvent` objects carrying the character span they came from, for provenance.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import ExtractionFailed, InvalidInput
from ..settings import Settings, get_settings
from ..tools.chem import without_rdkit_log
from ._formula import parse_formula
from ._keyphrases import rank_phrases
from ._lexicon import (
    AUXILIARIES,
    CLAUSE_BREAKS,
    DETERMINERS,
    NEGATIONS,
    function_words,
    is_adverb,
    is_other_verb,
    verb_sense,
)
from ._llm import chat
from ._merge import MERGE_THRESHOLD, merge_names
from ._normalise import MOLECULE_SMILES, chemical_part, normalise_concept, normalise_text
from ._opsin import names_to_smiles
from ._query import edge_sign
from ._text import Token, abbreviations, cap_evidence, check_text, split_sentences, tokenise

__all__ = [
    "ExtractedEvent",
    "OFFLINE_EXTRACTOR",
    "OFFLINE_VERSION",
    "LLM_VERSION",
    "EVENTS_SCHEMA",
    "split_sentences",
    "chunk_text",
    "offline_extract",
    "keyphrases",
    "llm_extract",
    "sha256_short",
]

OFFLINE_EXTRACTOR = "offline-cooccurrence"
OFFLINE_VERSION = "3"  # 3: chemicals (formulae, OPSIN names) and PositionRank co-occurrences
LLM_VERSION = "2"
UNDIRECTED = "co-occurs with"
# A co-occurrence keeps the candidates scoring at least this fraction of its sentence's mean PositionRank score.
KEY_FRACTION = 0.5

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

# The pipeline of HyperGraphReasoning (lamm-mit), in our own words: a rewrite ("distill") pass that turns a chunk
# into self-contained prose, then subject-verb-object extraction in two passes (exact, then conservative completion).
_SYSTEM_REWRITE = (
    "You rewrite a chunk of a scientific text (delimited by ```) as self-contained, matter-of-fact prose: keep every "
    "scientific fact, quantity and named entity, spell out what the chunk leaves implicit, drop references, author "
    "names and citations. Return only the rewritten text."
)
_SYSTEM_EXTRACT = (
    "You extract scientific relations from text as hyperedges. Pass 1: for each sentence, every explicit "
    'subject-verb-object statement. Return JSON {"events": [...]} where each event has "source" (list of entity '
    'names), "relation" (the verb phrase as written, with any negation) and "target" (list of entity names). Use '
    "entity names as written; list every entity taking part; no commentary."
)
_SYSTEM_COMPLETE = (
    "You complete a relation extraction (pass 2). Given a text and the events already extracted from it, return only "
    "relations the text states clearly but that are missing from that list (nominalisations such as 'inhibition of "
    "X by Y', relations inside one clause); never relations across sentences, never ones already listed. Same JSON "
    'format {"events": [...]}; an empty list when nothing is missing.'
)


@dataclass(frozen=True)
class ExtractedEvent:
    """One event found in a document, with where it was found.

    ``start``/``end`` are character offsets into the document text; ``chunk`` is the chunk (or sentence) index and
    ``sha256`` a short hash of that chunk's text. ``sign`` is the effect of the sources on the targets: ``"+"``
    (more of it), ``"-"`` (less), ``"0"`` (neither stated, or negated). ``evidence`` is the chunk text, capped at
    :data:`~labwright.knowledge._text.MAX_EVIDENCE_CHARS` characters (the offsets always span the whole chunk).
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
    sign: str = "0"
    structures: tuple[tuple[str, str], ...] = ()  # (name, SMILES) of the participants RDKit or OPSIN recognised
    key_concepts: tuple[str, ...] = ()  # a co-occurrence's members that rank highest in the document (its name)


def sha256_short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def chunk_text(text: str, max_chars: int = 2500) -> list[tuple[int, int]]:
    """Spans of consecutive whole sentences, each at most ``max_chars`` long (a longer sentence is its own chunk)."""
    if max_chars < 1:
        raise InvalidInput("max_chars", f"chunk size must be ≥ 1 character, got {max_chars}")
    check_text(text)
    chunks: list[tuple[int, int]] = []
    for a, b in split_sentences(text):
        if chunks and b - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], b)
        else:
            chunks.append((a, b))
    return chunks


# ---------------------------------------------------------------------------- offline: words to items
_BE = frozenset("is are was were be been being am".split())
_MONTHS = re.compile(r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d", re.I)
_SMILES_CHUNK = re.compile(r"(?<!\S)[A-Za-z0-9@+\-\[\]()=#/\\%]{4,}(?!\S)")
_SMILES_MARK = re.compile(r"[=#@\[\]()]|[a-z]1")  # bonds, brackets, branches or aromatic rings: not a plain word
# a formula the tokeniser would cut: a caret, square brackets or a charge ("Fe(CN)6^3-", "[Ru(NH3)6]3+", "Ce3+")
_FORMULA_CHUNK = re.compile(
    r"(?<!\S)[A-Z\[][A-Za-z0-9()\[\]^+\-−·⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹₀-₉]*[\]^+\-−⁺⁻][0-9+\-−⁺⁻]*(?=[\s.,;:]|$)"
)


@dataclass
class _Item:
    """One unit of a sentence: a noun phrase (``NP``), an effect verb (``VERB``) or a function token."""

    kind: str  # NP VERB AUX NEG BY TO OF CONJ COMMA CLAUSE ADV OTHER
    text: str
    words: tuple[str, ...] = ()
    sense: tuple[str, str] | None = None
    smiles: str | None = None


def _chemical_spans(sentence: str) -> dict[int, tuple[int, str | None]]:
    """Start → (end, canonical SMILES) of whitespace-delimited words that RDKit parses as a structure, and start →
    (end, None) of formulae written with characters the tokeniser splits on (kept as one word)."""
    from rdkit import Chem

    out: dict[int, tuple[int, str | None]] = {}
    for m in _FORMULA_CHUNK.finditer(sentence):
        word = m.group().rstrip(".,;:")
        if parse_formula(word) is not None:
            out[m.start()] = (m.start() + len(word), None)
    for m in _SMILES_CHUNK.finditer(sentence):
        word = m.group().rstrip(".,;:")
        if not _SMILES_MARK.search(word):
            continue
        with without_rdkit_log():
            mol = Chem.MolFromSmiles(word)
        if mol is not None and mol.GetNumAtoms() > 1:
            out[m.start()] = (m.start() + len(word), Chem.MolToSmiles(mol))
    return out


def _is_content(tok: str, after_content: bool = False) -> bool:
    """A word that can be part of a concept's name (a capital letter after a name counts: "vitamin K", "kinase A")."""
    if len(tok) == 1 and tok.isupper() and after_content:
        return True
    low = tok.lower()
    return any(ch.isalnum() for ch in tok) and low not in function_words() and low not in AUXILIARIES


def _verb_here(toks: list[Token], j: int, sense) -> bool:
    """Whether the effect-verb form at ``j`` is used as a verb (POS-free: by its form and its neighbours)."""
    low = toks[j].lower
    prev = toks[j - 1].text if j else ""  # as written: a capital "A" after a name is a name ("kinase A")
    nxt = toks[j + 1].lower if j + 1 < len(toks) else ""
    if prev in DETERMINERS or prev == "of" or nxt == "of":
        return False  # "the release of", "a decrease of": a noun
    prev = prev.lower()
    after_aux = prev in AUXILIARIES or prev in NEGATIONS or prev.endswith("n't") or is_adverb(prev)
    if low.endswith("ing"):
        return prev in ("by", "to") or after_aux or not j
    if low.endswith("ed") and not after_aux:
        # "elevated temperature", "reduced graphene oxide": a participle before a noun is an adjective
        return not (nxt and _is_content(toks[j + 1].text) and verb_sense(nxt) is None) and prev not in ("into", "to")
    return True


def _bare_verb(toks: list[Token], j: int) -> bool:
    """A verb that states no effect ("found", "characterised", "Adding", "resists"), unless it reads as an adjective:
    an "-ing" form after an article ("the pitting corrosion"), a participle before a noun ("cultured cells")."""
    low = toks[j].lower
    if low in function_words() or not is_other_verb(low):  # "becomes", "seems": copulas relate nothing
        return False
    prev = toks[j - 1].lower if j else ""
    nxt = toks[j + 1].text if j + 1 < len(toks) else ""
    if low.endswith("ing"):
        return prev not in DETERMINERS
    if low.endswith("ed"):
        return not (nxt and _is_content(nxt) and prev not in AUXILIARIES)
    # a base form agrees with a plural subject ("metals migrate"); after a singular noun it is a compound noun
    # ("capacity fade")
    return low.endswith("s") or not (j and _is_content(toks[j - 1].text) and not prev.endswith("s"))


def _bare_sense(low: str) -> tuple[str, str]:
    from lemminflect import getAllLemmas

    return (getAllLemmas(low).get("VERB", (low,))[0], "0")


def _items(sentence: str, abbrev: dict[str, str]) -> list[_Item]:
    """The sentence as noun phrases, effect verbs and function tokens (abbreviations defined in the document
    expanded, parenthetical asides of at most three tokens — "(HA)", "(Fig. 2)" — dropped)."""
    chemicals = _chemical_spans(sentence)
    toks = tokenise(sentence)
    items: list[_Item] = []
    words: list[str] = []
    mol: list[str | None] = [None]

    def close() -> None:
        if words:
            items.append(_Item("NP", " ".join(words), tuple(words), smiles=mol[0]))
            words.clear()
            mol[0] = None

    j = 0
    while j < len(toks):
        tok = toks[j]
        low = tok.lower
        if tok.start in chemicals:
            end, smi = chemicals[tok.start]
            if smi is None:  # a formula: one word of a phrase ("[Ru(NH3)6]3+ ions")
                words.append(sentence[tok.start : end])
            else:  # a SMILES is a phrase of its own
                close()
                words.append(sentence[tok.start : end])
                mol[0] = smi
                close()
            while j < len(toks) and toks[j].start < end:
                j += 1
            continue
        if tok.text == "(":
            k = next((k for k in range(j + 1, min(j + 5, len(toks))) if toks[k].text == ")"), None)
            if k is not None:
                j = k + 1
                continue
        sense = verb_sense(low)
        if low == "of" and words and j + 1 < len(toks):
            words.append("of")  # "hydrolysis of polylactide" stays one phrase; a dangling "of" is trimmed below
        elif low in DETERMINERS and not (tok.text == "A" and words):
            if not (words and words[-1] == "of"):  # "the corrosion of the steel" stays one phrase
                close()
        elif sense is not None and _verb_here(toks, j, sense):
            close()
            items.append(_Item("VERB", low, sense=sense))
        elif _is_content(tok.text, bool(words)) and not is_adverb(low) and not _bare_verb(toks, j):
            long = abbrev.get(tok.text) or (abbrev.get(tok.text[:-1]) if tok.text.endswith("s") else None)
            words.extend(long.split() if long else [tok.text])
        else:
            while words and words[-1] == "of":
                words.pop()
            close()
            if _bare_verb(toks, j):
                items.append(_Item("VERBX", low, sense=_bare_sense(low)))
            else:
                items.append(_Item(_kind(low), low))
        j += 1
    while words and words[-1] == "of":
        words.pop()
    close()
    return [it for it in items if it.kind != "NP" or _keep_phrase(it.text)]


def _kind(low: str) -> str:
    if low in NEGATIONS or low.endswith("n't"):
        return "NEG"
    if low in ("by", "to", "of"):
        return low.upper()
    if low in ("and", "or"):
        return "CONJ"
    if low == ",":
        return "COMMA"
    if low in CLAUSE_BREAKS or low in (";", ":"):
        return "CLAUSE"
    if low in AUXILIARIES:
        return "AUX"
    if low in function_words():
        return "OTHER"
    if is_adverb(low):
        return "ADV"
    return "OTHER"


def _keep_phrase(text: str) -> bool:
    """A noun phrase worth a node: has a letter, is not a date ("Dec 5"), not a lone letter or unit."""
    return any(ch.isalpha() for ch in text) and sum(ch.isalnum() for ch in text) >= 2 and not _MONTHS.match(text)


# ---------------------------------------------------------------------------- offline: items to relations
@dataclass
class _Relation:
    sources: list[_Item]
    lemma: str
    sign: str
    negated: bool
    targets: list[_Item]


def _group(items: list[_Item], i: int, *, stop_at_subject: bool = False) -> tuple[list[_Item], int]:
    """The coordinated noun phrases starting at ``items[i]`` ("A, B and C") and the index after them.

    With ``stop_at_subject`` (an object group), a phrase directly followed by a verb starts a new clause ("X
    inhibits A, and B stabilises C") and is left out.
    """
    group: list[_Item] = []
    while i < len(items) and items[i].kind == "NP":
        group.append(items[i])
        k = i + 1
        while k < len(items) and items[k].kind in ("COMMA", "CONJ"):
            k += 1
        verb_next = k + 1 < len(items) and items[k + 1].kind in ("VERB", "AUX", "NEG", "ADV")
        if k > i + 1 and k < len(items) and items[k].kind == "NP" and not (stop_at_subject and verb_next):
            i = k
        else:
            return group, i + 1
    return group, i


def _clauses(items: list[_Item]) -> list[tuple[list[_Item], list[_Item]]]:
    """Clauses of a sentence, each with its antecedent (the noun phrases just before a relative pronoun)."""
    out, current, antecedent = [], [], []
    for it in items:
        if it.kind == "CLAUSE":
            out.append((current, antecedent))
            back = [x for x in current if x.kind != "COMMA"]
            antecedent = [back[-1]] if back and back[-1].kind == "NP" and it.text in ("which", "who", "that") else []
            current = []
        else:
            current.append(it)
    out.append((current, antecedent))
    return out


def _clause_relations(items: list[_Item], antecedent: list[_Item]) -> list[_Relation]:
    rels: list[_Relation] = []
    subject: list[_Item] = list(antecedent)
    fresh: list[_Item] | None = None  # first noun-phrase group since the last relation
    i = 0
    while i < len(items):
        it = items[i]
        if it.kind == "NP":
            # a subject starts the clause or follows punctuation, a conjunction or the last relation's object;
            # a phrase after a preposition ("to the polymer matrix", "at neutral pH") is not one
            after_prep = i > 0 and items[i - 1].kind in ("OTHER", "TO", "OF")
            group, i = _group(items, i)
            if fresh is None and not after_prep:
                fresh = group
            elif fresh is not None and after_prep:
                fresh = fresh + group  # "chitosan layers on PCL fibres lower ...": the phrase is part of the agent
            continue
        if it.kind not in ("VERB", "VERBX"):
            i += 1
            continue
        lead = items[max(0, i - 4) : i]
        negated = any(x.kind == "NEG" for x in lead if x.kind in ("NEG", "AUX", "ADV"))
        passive = it.text.endswith(("ed", "en")) and any(x.text in _BE for x in lead[-3:])
        if it.kind == "VERBX" and (passive or it.text.endswith("ing")):
            # a verb that states no effect, in the passive or as a gerund: the instrument after "by" ("were
            # characterised by X-ray diffraction") is no agent; the clause's subject is used up all the same
            fresh = None
            i += 1
            continue
        if fresh:
            subject = fresh
        j = i + 1
        while j < len(items) and items[j].kind in ("ADV", "NEG"):
            j += 1
        if passive:
            by = next((k for k in range(j, len(items)) if items[k].kind in ("BY", "VERB")), None)
            if by is not None and items[by].kind == "BY":
                agents, j = _group(items, by + 1)
                if agents and subject:
                    rels.append(_Relation(agents, it.sense[0], it.sense[1], negated, subject))
        else:
            objects, j = _group(items, j, stop_at_subject=True)
            if objects and subject:
                rels.append(_Relation(subject, it.sense[0], it.sense[1], negated, objects))
        fresh = None
        i = max(j, i + 1)
    return rels


def _relations(items: list[_Item]) -> list[_Relation]:
    return [r for clause, ante in _clauses(items) for r in _clause_relations(clause, ante)]


def _third_person(lemma: str) -> str:
    from lemminflect import getInflection

    forms = getInflection(lemma, tag="VBZ")
    return forms[0] if forms else lemma + "s"


def offline_extract(
    text: str, *, vocabulary: Iterable[str] | None = None, settings: Settings | None = None
) -> list[ExtractedEvent]:
    """Deterministic sentence-level events from ``text``, with no concept vocabulary.

    Per sentence (pysbd): noun phrases found by POS-free rules (runs of content words between function words,
    effect verbs and punctuation; "X of Y" kept whole; SMILES recognised by RDKit; abbreviations expanded where this
    same ``text`` defines them), then for each effect verb its subject and object groups: active "A lowers B and
    improves C" gives A→B (−) and A→C (+); passive "B is lowered by A" gives A→B; "does not inhibit" keeps the
    direction with sign 0 and relation "does not inhibit". A sentence with ≥ 2 phrases and no relation becomes an
    undirected co-occurrence event whose members are the sentence's phrases that PositionRank (over the whole
    document, :mod:`~labwright.knowledge._keyphrases`) scores at least :data:`KEY_FRACTION` of the sentence's mean, or
    that are chemicals, in rank order; its ``key_concepts`` (the first three) name it.

    Chemicals: formulae checked against RDKit's periodic table stay one word ("[Ru(NH3)6]3+"); SMILES are parsed
    by RDKit; other phrases are given to OPSIN when it is available (``settings.opsin``, a java runtime, the
    py2opsin jar) and the structures it parses travel in ``structures``. Two names of one group that are the same
    substance ("potassium ferricyanide, K3[Fe(CN)6]") count once.

    Parameters
    ----------
    text
        Document text.
    vocabulary
        Optional concept names: when given, only noun phrases whose normalised form contains one of them (as whole
        words) are kept.
    settings
        Settings (default: read from the environment); only ``opsin`` is used.

    Raises
    ------
    InvalidInput
        ``text`` is binary or has no sentence break in :data:`~labwright.knowledge._text.MAX_SENTENCE_CHARS`.
    """
    check_text(text)
    settings = settings or get_settings()
    keep = None
    if vocabulary is not None:
        keep = frozenset(normalise_text(v) for v in vocabulary) - {""}
    parsed = _parse(text, keep)
    ranks = _rank(parsed)
    events: list[ExtractedEvent] = []
    for idx, a, b, items in parsed:
        sentence = text[a:b]
        digest, evidence = sha256_short(sentence), cap_evidence(sentence)
        structures = tuple(dict.fromkeys((it.text, it.smiles) for it in items if it.smiles)) + _named_structures(
            items, settings
        )
        same = _same_substance(structures)
        found = 0
        for rel in _relations(items):
            src = same(dict.fromkeys(n for x in rel.sources for n in _names(x)))
            tgt = tuple(t for t in same(dict.fromkeys(n for x in rel.targets for n in _names(x))) if t not in src)
            if not src or not tgt:
                continue
            label = f"does not {rel.lemma}" if rel.negated else _third_person(rel.lemma)
            sign = "0" if rel.negated else rel.sign
            events.append(ExtractedEvent(src, label, tgt, a, b, idx, digest, True, 0.6, evidence, sign, structures))
            found += 1
        names = same(dict.fromkeys(n for it in items if it.kind == "NP" for n in _names(it)))
        # members of a co-occurrence: the sentence's candidates that rank as key concepts of the document (or are
        # chemicals), most important first; the hyperedge is named by the first three. The bar is relative to the
        # sentence, since PositionRank favours early words and would otherwise empty a long document's last pages.
        floor = KEY_FRACTION * sum(ranks.get(n, 0.0) for n in names) / max(len(names), 1)
        members = sorted(
            (n for n in names if ranks.get(n, 0.0) >= floor or n in dict(structures) or _is_chemical(n)),
            key=lambda n: -ranks.get(n, 0.0),
        )
        if not found and len(members) >= 2:
            events.append(
                ExtractedEvent(
                    tuple(members),
                    UNDIRECTED,
                    (),
                    a,
                    b,
                    idx,
                    digest,
                    False,
                    0.3,
                    evidence,
                    "0",
                    structures,
                    tuple(members[:3]),
                )
            )
    return events


def _parse(text: str, keep: frozenset[str] | None = None) -> list[tuple[int, int, int, list[_Item]]]:
    """(index, start, end, items) of each sentence."""
    abbrev = abbreviations(text)
    parsed = []
    for idx, (a, b) in enumerate(split_sentences(text)):
        items = _items(text[a:b], abbrev)
        if keep is not None:
            items = [it for it in items if it.kind != "NP" or _mentions(normalise_text(it.text), keep)]
        parsed.append((idx, a, b, items))
    return parsed


def _rank(parsed: list[tuple[int, int, int, list[_Item]]]) -> dict[str, float]:
    return rank_phrases([[n for it in items if it.kind == "NP" for n in _names(it)] for *_, items in parsed])


def keyphrases(text: str) -> list[tuple[str, float]]:
    """The candidate concepts of ``text`` (the noun phrases :func:`offline_extract` finds) with their PositionRank
    scores, best first (ties in reading order).

    Raises
    ------
    InvalidInput
        ``text`` is binary or has no sentence break in :data:`~labwright.knowledge._text.MAX_SENTENCE_CHARS`.
    """
    check_text(text)
    best: dict[str, tuple[str, float]] = {}
    for phrase, score in _rank(_parse(text)).items():
        best.setdefault(normalise_text(phrase), (phrase, score))  # "Lead loss" and "lead loss" are one
    return sorted(best.values(), key=lambda kv: -kv[1])


def _is_chemical(name: str) -> bool:
    """A formula, or a name of the built-in table (a trailing form word aside)."""
    part = chemical_part(name)
    return parse_formula(part) is not None or normalise_text(part) in MOLECULE_SMILES


def _same_substance(structures: tuple[tuple[str, str], ...]):
    """A function that drops the names of a group that spell a chemical already named before them ("potassium
    ferricyanide, K3[Fe(CN)6]"), judged by composition or structure (see :func:`normalise_concept`)."""
    smiles = dict(structures)

    def dedupe(names) -> tuple[str, ...]:
        seen, out = set(), []
        for name in names:
            try:
                concept = normalise_concept(name, smiles=smiles.get(name))
            except InvalidInput:
                concept = None
            key = concept.key if concept is not None and concept.kind == "molecule" else name
            if key not in seen:
                seen.add(key)
                out.append(name)
        return tuple(out)

    return dedupe


def _named_structures(items: list[_Item], settings: Settings | None) -> tuple[tuple[str, str], ...]:
    """(name, SMILES) of the noun phrases OPSIN parses as chemical names, a trailing form word aside ("cerium(IV)
    oxide nanoparticles"); formulae and names of the built-in table are resolved when the concept is made."""
    asked: dict[str, str] = {}
    for it in items:
        if it.kind != "NP" or it.smiles:
            continue
        for name in _names(it):
            part = chemical_part(name)
            if parse_formula(part) is None and normalise_text(part) not in MOLECULE_SMILES:
                asked[name] = part
    found = names_to_smiles(list(set(asked.values())), settings)
    return tuple((name, found[part]) for name, part in asked.items() if part in found)


def _names(np: _Item) -> list[str]:
    """The concepts a noun phrase names: "X of Y" is two ("hydrophilicity", "PCL scaffolds"), both taking part in
    the event, so that the property and its bearer are nodes other events can share."""
    if "of" not in np.words or np.smiles:
        return [np.text]
    k = np.words.index("of")
    return [" ".join(part) for part in (np.words[:k], np.words[k + 1 :]) if part and _keep_phrase(" ".join(part))]


def _mentions(term: str, keep: frozenset[str]) -> bool:
    padded = f" {term} "
    return any(f" {k} " in padded for k in keep)


# ---------------------------------------------------------------------------- LLM extraction
@functools.lru_cache(maxsize=1)
def _events_validator():
    import jsonschema

    return jsonschema.Draft202012Validator(EVENTS_SCHEMA)


def _parse_events(content: str) -> list[dict]:
    """The events of an LLM reply, validated against :data:`EVENTS_SCHEMA` (jsonschema) and with a non-blank
    relation each."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as err:
        raise ExtractionFailed(f"LLM reply is not JSON: {err.msg}") from None
    error = next(iter(sorted(_events_validator().iter_errors(data), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "reply"
        raise ExtractionFailed(f"LLM reply does not match the events schema at {where}: {error.message[:200]}")
    for k, ev in enumerate(data["events"]):
        if not ev["relation"].strip():
            raise ExtractionFailed(f"LLM event {k} does not match the events schema: blank relation")
    return data["events"]


def _events_call(messages: list[dict], settings: Settings | None) -> tuple[list[dict], int]:
    """One extraction request whose reply must match :data:`EVENTS_SCHEMA`; asked once more when it does not."""
    fmt = {"type": "json_schema", "json_schema": {"name": "events", "schema": EVENTS_SCHEMA, "strict": True}}
    tokens = 0
    for attempt in (1, 2):
        content, used = chat(messages, settings=settings, response_format=fmt)
        tokens += used
        try:
            return _parse_events(content), tokens
        except ExtractionFailed:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def llm_extract(
    text: str,
    *,
    settings: Settings | None = None,
    max_chars: int = 2500,
    rewrite: bool = True,
    merge_threshold: float = MERGE_THRESHOLD,
) -> tuple[list[ExtractedEvent], int]:
    """Events from ``text`` via the configured OpenAI-compatible endpoint, following the HyperGraphReasoning pipeline.

    Per chunk of whole sentences (at most ``max_chars``, 2,500 as in the paper): a rewrite pass into self-contained
    prose (``rewrite``), extraction pass 1 (explicit subject-verb-object events) and pass 2 (relations pass 1
    missed), each reply validated against :data:`EVENTS_SCHEMA`. Then entity names of the whole text are merged by
    embedding similarity at ``merge_threshold`` (``/v1/embeddings``; character n-gram TF-IDF when the endpoint has
    no embeddings), see :func:`~labwright.knowledge._merge.merge_names`. Provenance cites the original chunk.

    Returns the events and the tokens used. A reply that is not JSON matching the schema is asked for once more; a
    second bad reply raises :class:`~labwright.errors.ExtractionFailed`.
    """
    check_text(text)
    settings = settings or get_settings()
    raw_events: list[tuple[dict, int, int, int, str]] = []
    tokens = 0
    for idx, (a, b) in enumerate(chunk_text(text, max_chars)):
        chunk = text[a:b]
        context = chunk
        if rewrite:
            context, used = chat(
                [{"role": "system", "content": _SYSTEM_REWRITE}, {"role": "user", "content": f"```{chunk}```"}],
                settings=settings,
            )
            tokens += used
            context = context.strip() or chunk
        first, used = _events_call(
            [{"role": "system", "content": _SYSTEM_EXTRACT}, {"role": "user", "content": context}], settings
        )
        tokens += used
        listed = json.dumps({"events": first}, ensure_ascii=False)
        second, used = _events_call(
            [
                {"role": "system", "content": _SYSTEM_COMPLETE},
                {"role": "user", "content": f"Text:\n{context}\n\nEvents already extracted:\n{listed}"},
            ],
            settings,
        )
        tokens += used
        raw_events += [(ev, a, b, idx, chunk) for ev in (*first, *second)]
    names = [n.strip() for ev, *_ in raw_events for r in ("source", "target") for n in ev[r] if n.strip()]
    canonical, _ = merge_names(names, threshold=merge_threshold, settings=settings)
    out: list[ExtractedEvent] = []
    seen: set[tuple] = set()
    for ev, a, b, idx, chunk in raw_events:
        src = tuple(dict.fromkeys(canonical[s.strip()] for s in ev["source"] if s.strip()))
        tgt = tuple(t for t in dict.fromkeys(canonical[t.strip()] for t in ev["target"] if t.strip()) if t not in src)
        relation = ev["relation"].strip()
        if not src and not tgt or (src, relation, tgt, idx) in seen:
            continue
        seen.add((src, relation, tgt, idx))
        directed = bool(src and tgt)
        sign = edge_sign(relation, {}) if directed else "0"
        digest = sha256_short(chunk)
        out.append(
            ExtractedEvent(
                src or tgt, relation, tgt if src else (), a, b, idx, digest, directed, 0.8, cap_evidence(chunk), sign
            )
        )
    return out, tokens
