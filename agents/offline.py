"""The offline planner: deterministic rules in place of a language model, labelled as such in everything it writes.

When no LLM endpoint is configured, :class:`OfflinePlanner` plays the supervisor and the workers:

1. **Explicit calls** written in the request (``tool_name(key=value, ...)`` or ``tool_name {json}``) are taken as
   they are.
2. **Intent rules** over the registry pick the tool for the rest of the request: tools whose *name* shares the most
   words with the request's prose win, ties broken by words shared with the tool's *description*; if no name matches,
   the description decides, but only for a tool that takes an argument from the request.
3. **Arguments** come from what the request contains (:class:`Entities`), matched to the tool's JSON schema:
   ``key=value`` pairs (also into nested models and into dict fields whose description names the key, e.g.
   ``area=7e-6`` into ``fit_cv``'s ``fixed``), reaction equations (``A <-> B; kf=1, kr=2``) into ``reactions`` and
   species pairs (``A=1``) into ``initial``, SMILES into SMILES fields, file paths into path fields (and into
   ``{"path": ...}`` of nested sources such as mechanisms), concepts ("linking X and Y", "neighbours of X",
   "through Z") into concept fields, and "for 10 s" into ``t_end``. Paths and SMILES of earlier user messages in
   the conversation fill in when the request refers back ("score this mechanism").
4. A tool whose required arguments the request does not supply is **not called**: the plan says which tool and role
   would do it and what to add. The rules never invent values, with one declared exception: the conventional
   window of a simulation a person would assume too (``_CONVENTIONS``: a ±0.5 V CV around E0 at 0.1 V/s, a 1 s
   potential step), which the plan and the worker's summary state as assumed.

Each task goes to a role that may call its tool (``roles.py``); the reviewer only when the request asks for a
review. Every plan goal, worker summary and answer starts with ``[offline planner]``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..tools.registry import get_tool, list_tools
from .audit import canonical_json
from .roles import ROLES, WORKER_ROLES, get_role

__all__ = ["OfflinePlanner", "OFFLINE_LABEL", "Entities", "extract_entities", "fill_args"]

OFFLINE_LABEL = "offline planner"
TAG = f"[{OFFLINE_LABEL}]"

Reply = dict[str, Any]
_Earlier = Callable[[], "Entities | None"]

_STOP = frozenset(
    "a an and are as at be by for from in into is it of on or that the this to with what which how run use using "
    "please me my our then also give show find get make do does tell about can could would want need these those "
    "its their via".split()
)
_ROLE_PREFERENCE = ("mechanist", "electrochemist", "kineticist", "librarian", "reviewer")
_REVIEW_WORDS = frozenset({"review", "verify", "audit"})
_MAX_CALLS = 3


# -- words and matching --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)  # an explicit cache of a pure function: every step scores the same descriptions
def _words(text: str) -> frozenset[str]:
    """Content words of ``text``, lower case, a plural ``s`` removed (``tool_name`` splits on ``_``)."""
    out = set()
    for w in re.findall(r"[a-z][a-z0-9]*", text.lower().replace("_", " ")):
        if w in _STOP or len(w) < 2:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") else w)
    return frozenset(out)


def _match(a: str, b: str) -> bool:
    # Same word, a shared 5-letter stem ("voltammogram"/"voltammetry"), or a 4+ letter prefix ("stat"/"statistics").
    short, long_ = sorted((a, b), key=len)
    return a == b or (len(short) >= 5 and a[:5] == b[:5]) or (len(short) >= 4 and long_.startswith(short))


def _overlap(request_words: Set[str], words: Set[str]) -> int:
    return sum(1 for w in words if any(_match(w, r) for r in request_words))


# -- pieces of a request -------------------------------------------------------------------------------------------
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TERM = r"(?:[1-9]\d*\s*)?[A-Za-z][A-Za-z0-9_]*(?:\([a-z]+\))?|[0∅]"
_SIDE = rf"(?:{_TERM})(?:\s*\+\s*(?:{_TERM}))*"
_REACTION = re.compile(
    rf"(?<![\w<=>-])({_SIDE})\s*(<->|<=>|⇌|->|=>|→)\s*({_SIDE})"
    rf"(\s*;\s*k[a-z]*\s*=\s*{_NUM}(?:\s*,\s*k[a-z]*\s*=\s*{_NUM})*)?"
)
_CONCEPT = r"[A-Za-z0-9][\w\-+()'/.]*(?:\s+[A-Za-z0-9][\w\-+()'/.]*){0,4}?"
_END = (
    r"(?=\s+(?:through|via|passing|using|with|in|on|from|at|are|is|was|were|exists?|do|does|has|have|s\s*=|k\s*=)\b"
    r"|\s*[,;:?!]|\s*\.(?:\s|$)|\s*$)"
)
_PAIR_OF_CONCEPTS = re.compile(
    rf"\b(?:(?:links?|connections?|relations?(?:hips?)?|paths?)\s+(?:between|from)|linking|links?|between|"
    rf"connecting|connects?|relating|relate|from)\s+"
    rf"(?:the\s+)?({_CONCEPT})\s+(?:and|to|with)\s+(?:the\s+)?({_CONCEPT}){_END}",
    re.IGNORECASE,
)
_ONE_CONCEPT = re.compile(
    rf"\b(?:neighbou?rs\s+of|neighbou?rhood\s+of|around|related\s+to|connected\s+to|linked\s+to)\s+(?:the\s+)?"
    rf"({_CONCEPT}){_END}",
    re.IGNORECASE,
)
_THROUGH = re.compile(
    rf"\b(?:passing\s+through|through|via)\s+((?:{_CONCEPT})(?:\s*(?:,|\band\b)\s*(?:{_CONCEPT}))*){_END}",
    re.IGNORECASE,
)
_AGAINST = r"\b(?:against|versus|vs\.?|relative\s+to|compared\s+(?:to|with)|reference|gold)"
# "in run RUN_ID", "from the store of workflow run RUN_ID": the knowledge store that run built (store_path="run:ID").
_RUN_STORE = re.compile(
    r"\b(?:in|from|of|using)\s+(?:the\s+)?(?:(?:knowledge\s+)?store\s+(?:of|from)\s+)?(?:the\s+)?(?:workflow\s+)?"
    r"run\s+([A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9])",
    re.IGNORECASE,
)
_DURATION = re.compile(rf"\b(?:for|until|over|up\s+to)\s+({_NUM})\s*(?:s|sec|secs|seconds)\b", re.IGNORECASE)


@dataclass
class Entities:
    """What a request contains that can become tool arguments (see the module docstring)."""

    pairs: dict[str, Any] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    smiles: list[str] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    species: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    through: list[str] = field(default_factory=list)
    t_end: float | None = None
    store: str | None = None
    reference_paths: list[str] = field(default_factory=list)
    prose: str = ""


def _balanced(text: str, start: int, open_ch: str, close_ch: str) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    return None


def _value(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip("'\"")


def _cut(text: str, spans: Sequence[tuple[int, int]]) -> str:
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + " " + text[b:]
    return text


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return parts


def explicit_calls(request: str, known: set[str]) -> list[dict]:
    """``tool(k=v, ...)`` and ``tool {json}`` written in the request, in order, with their spans."""
    calls = []
    for m in re.finditer(r"\b([a-z][a-z0-9_]*)\s*([({])", request):
        name = m.group(1)
        if name not in known:
            continue
        open_ch = m.group(2)
        end = _balanced(request, m.end() - 1, open_ch, ")" if open_ch == "(" else "}")
        if end is None:
            continue
        body = request[m.end() - 1 : end + 1]
        if open_ch == "{":
            try:
                args = json.loads(body)
            except json.JSONDecodeError:
                continue
        else:
            args = {}
            for part in _split_top(body[1:-1]):
                if "=" in part:
                    k, v = part.split("=", 1)
                    args[k.strip()] = _value(v)
        calls.append({"tool": name, "args": args, "span": (m.start(), end + 1)})
    return calls


def _reactions(text: str) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """Reaction equations (with their ``; kf=.., kr=..``), their species in order of appearance, and the spans."""
    reactions, species, spans = [], [], []
    for m in _REACTION.finditer(text):
        left, arrow, right, rates = m.groups()
        reactions.append(
            f"{left.strip()} {arrow} {right.strip()}" + (f"; {rates.strip()[1:].strip()}" if rates else "")
        )
        for term in re.split(r"\s*\+\s*", f"{left}+{right}"):
            name = re.sub(r"^\d+\s*", "", term.strip())
            if name and name not in ("0", "∅") and name not in species:
                species.append(name)
        spans.append(m.span())
    return reactions, species, spans


def _pairs(text: str) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """``key=value`` pairs (values: JSON objects/lists, quoted strings, numbers, words) and their spans."""
    pairs: dict[str, Any] = {}
    spans = []
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*", text):
        start = m.end()
        if start >= len(text):
            break
        ch = text[start]
        if ch in "{[":
            end = _balanced(text, start, ch, "}" if ch == "{" else "]")
            end = len(text) - 1 if end is None else end
        elif ch in "\"'":
            end = text.find(ch, start + 1)
            end = len(text) - 1 if end < 0 else end
        else:
            end = start
            while end + 1 < len(text) and not text[end + 1].isspace() and text[end + 1] not in ",;":
                end += 1
        pairs[m.group(1)] = _value(text[start : end + 1])
        spans.append((m.start(), end + 1))
    return pairs, spans


# A number followed by a unit ("7.07e-6 m^2", "1 mM", "0.1 V/s", "25 °C"), optionally after a field name
# ("E0 0.4 V", "k0 of 1e-3 m/s").
_QUANTITY = re.compile(
    rf"(?:\b([A-Za-z][A-Za-z0-9_]*)\s*(?:of|is|at|:)?\s*)?(?<![\w.])({_NUM})\s*"
    r"((?:°|µ|μ)?[A-Za-z°µμΩ][A-Za-z0-9^²³·*/°µμΩ-]*)"
)
# Which parameter a quantity fills, by its dimension, when no field name comes before it. Potentials, times and
# currents are ambiguous (start, vertex or formal potential?): they need the field name.
_BY_DIMENSION = {
    "m^2": "area",
    "mol/m^3": "c_bulk",
    "V/s": "scan_rate",
    "K": "T",
    "m/s": "k0",
    "m^2/s": "D",
}
# Other names of the same parameter in other tools' schemas (a pair fills the first name the tool has).
ALIASES = {"T": ("temperature",), "D": ("D_O",), "c_bulk": ("concentration",), "temperature": ("T",)}


@functools.lru_cache(maxsize=1)
def _units() -> Any:
    import pint  # loaded only when a request writes a number with a unit

    return pint.UnitRegistry()


def _si(value: float, unit: str) -> tuple[float, str] | None:
    """``value unit`` in SI base units and the SI unit's key in ``_BY_DIMENSION`` terms, or None (not a unit)."""
    ureg = _units()
    unit = unit.replace("²", "^2").replace("³", "^3").replace("μ", "µ").replace("·", "*")
    try:
        q = ureg.Quantity(value, unit)
    except Exception:  # not a unit pint knows ("CVs", "mM)"): not a quantity
        return None
    if q.dimensionless:
        return None
    for key in (*_BY_DIMENSION, "V", "s", "A"):
        ref = ureg.Quantity(1.0, key)
        if q.dimensionality == ref.dimensionality:
            return float(f"{q.to(ref.units).magnitude:.12g}"), key
    return None


@functools.lru_cache(maxsize=1)
def _field_names() -> frozenset[str]:
    """Every top-level input field name of the registered tools (``E0``, ``k0``, ``E_start``, ...)."""
    names = {n for t in list_tools() for n in get_tool(t).input_schema.get("properties", {})}
    return frozenset(names | set(_BY_DIMENSION.values()))


def _quantities(text: str) -> tuple[dict[str, float], list[tuple[int, int]]]:
    """Parameters written as numbers with units, in SI, and their spans (see ``_QUANTITY``)."""
    out: dict[str, float] = {}
    spans = []
    for m in _QUANTITY.finditer(text):
        name, number, unit = m.group(1), m.group(2), m.group(3).rstrip(".,;:)-")
        si = _si(float(number), unit)
        if si is None:
            continue
        value, dim = si
        # A symbol ("E0", "k0", "E_start", "T") names the field; a plain word ("concentration") leaves it to the
        # dimension, whose name the aliases map to each tool's own.
        symbol = name and not (name.isalpha() and name.islower())
        named = name if symbol and name in _field_names() else None
        key = named or _BY_DIMENSION.get(dim)
        if key is None:
            continue
        out[key] = value
        start = m.start(1) if named else m.start(2)
        spans.append((start, m.start(3) + len(unit)))
    return out, spans


def _concept(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE).strip(" .")


_SMILES_CHARS = re.compile(r"[A-Za-z0-9@+\-\[\]()=#$%/\\.:*]+")


@functools.lru_cache(maxsize=4096)  # an explicit cache of a pure function: chat repeats tokens
def _looks_like_smiles(token: str) -> bool:
    if not _SMILES_CHARS.fullmatch(token) or not (token[0].isalpha() or token[0] in "[(*"):
        return False  # characters SMILES never uses (e.g. "_", ",", "?"): no need to ask RDKit
    if len(token) < 2 or token.lower() in _STOP or (token.isalpha() and not token.isupper() and not token.islower()):
        return False
    if token.isalpha() and token.islower() and token not in ("cc", "ccc"):
        return False  # plain English words that happen to parse (e.g. "co", "no")
    from ..tools.chem import without_rdkit_log

    try:
        from rdkit import Chem

        with without_rdkit_log():
            return Chem.MolFromSmiles(token) is not None
    except Exception:  # RDKit refuses some inputs by raising
        return False


def extract_entities(request: str) -> Entities:
    """Split a request into :class:`Entities`; ``prose`` is what is left once they are taken out."""
    store = _RUN_STORE.search(request)
    if store:  # taken out first: a run id's stamp is not a number, a reaction or a concept
        request = _cut(request, [store.span()])
    reactions, species, spans = _reactions(request)
    rest = _cut(request, spans)
    pairs, spans = _pairs(rest)
    rest = _cut(rest, spans)
    if re.search(r"\d\s*[A-Za-z°µμ]", rest):  # a number with a unit may follow
        quantities, spans = _quantities(rest)
        pairs = {**quantities, **pairs}  # key=value as written wins
        rest = _cut(rest, spans)
    ent = Entities(pairs=pairs, reactions=reactions, species=species, store=f"run:{store.group(1)}" if store else None)
    m = _DURATION.search(rest)
    if m:
        ent.t_end = float(m.group(1))
        rest = _cut(rest, [m.span()])
    concept_spans = []
    m = _PAIR_OF_CONCEPTS.search(rest)
    if m:
        ent.concepts = [_concept(m.group(1)), _concept(m.group(2))]
        concept_spans.append(m.span(1))
        concept_spans.append(m.span(2))
    else:
        m = _ONE_CONCEPT.search(rest)
        if m:
            ent.concepts = [_concept(m.group(1))]
            concept_spans.append(m.span(1))
    m = _THROUGH.search(rest)
    if m:
        ent.through = [_concept(c) for c in re.split(r"\s*,\s*|\s+and\s+", m.group(1)) if _concept(c)]
        concept_spans.append(m.span(1))
    tokens = [t.strip(",;:!?\"'()") for t in _cut(rest, concept_spans).split()]
    tokens = [t[:-1] if t.endswith(".") and not t[:-1].endswith(".") else t for t in tokens]
    ent.paths = [t for t in tokens if ("/" in t or re.search(r"\.[A-Za-z]{2,5}$", t)) and len(t) > 3]
    ent.smiles = [t for t in tokens if t not in ent.paths and _looks_like_smiles(t)]
    ent.reference_paths = [p for p in ent.paths if re.search(rf"{_AGAINST}\s+{re.escape(p)}", rest, re.IGNORECASE)]
    prose_tokens = [t for t in rest.split() if t.strip(",;:!?\"'()") not in ent.paths + ent.smiles]
    ent.prose = " ".join(prose_tokens)
    return ent


# -- arguments from entities ---------------------------------------------------------------------------------------
# Path fields that are not the user's data (a store to write, an output folder): never filled from the request.
_NOT_INPUT_PATH = ("store", "out", "dir", "plot", "save")


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a property points at (``$ref``, or the first non-null branch of ``anyOf``/``allOf``)."""
    if "$ref" in prop:
        return defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    for key in ("anyOf", "allOf"):
        for branch in prop.get(key, []):
            if branch.get("type") != "null":
                return _resolve(branch, defs)
    return prop


def _types(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> set[str]:
    branches = prop.get("anyOf") or [prop]
    out = set()
    for b in branches:
        r = _resolve(b, defs) if "$ref" in b else b
        if "type" in r:
            out.add(r["type"])
        elif "properties" in r:
            out.add("object")
    return out


def _model_props(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Properties of a nested model field (empty for plain values and free-form dicts)."""
    return dict(_resolve(prop, defs).get("properties", {}))


def _is_input_path(name: str) -> bool:
    low = name.lower()
    return ("path" in low or "file" in low) and not any(w in low for w in _NOT_INPUT_PATH)


def fill_args(
    tool_name: str, ent: Entities, fallback: Entities | Callable[[], Entities | None] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Arguments for ``tool_name`` from ``ent`` and the required fields still missing.

    ``fallback`` (or a function returning it, called only when needed): entities of earlier messages, used for
    paths, SMILES and reactions the request does not give."""
    schema = get_tool(tool_name).input_schema
    props, defs = schema.get("properties", {}), schema.get("$defs", {})
    required = set(schema.get("required", []))
    pairs = {_alias(k, props): v for k, v in ent.pairs.items()}
    args: dict[str, Any] = {k: v for k, v in pairs.items() if k in props}
    leftover = {k: v for k, v in pairs.items() if k not in props}

    def earlier() -> Entities | None:
        return fallback() if callable(fallback) else fallback

    if leftover:
        reaction_ent = ent if ent.species or "reactions" not in props else earlier()
        _place_leftover_pairs(leftover, args, props, defs, reaction_ent)
    pools: dict[str, list] = {}
    refs = list(ent.reference_paths)

    def pool(kind: str) -> list:
        if kind not in pools:
            attr = {"path": "paths"}.get(kind, kind)
            pools[kind] = list(getattr(ent, attr))
            fb = None if pools[kind] else earlier()
            if fb is not None:
                pools[kind] = list(getattr(fb, attr))
                if kind == "path":
                    refs.extend(fb.reference_paths)
        return pools[kind]

    concepts, through = list(ent.concepts), list(ent.through)
    for name, prop in props.items():
        if name in args:
            continue
        types = _types(prop, defs)
        desc = str(prop.get("description", "")).lower()
        nested = _model_props(prop, defs)
        if "smiles" in name.lower():
            kind = "smiles"
        elif _is_input_path(name) or ("path" in nested and "array" not in types):
            kind = "path"
        elif "reaction" in name.lower() and "array" in types:
            kind = "reactions"
        elif "concept" in desc:
            if "array" in types:
                chosen = through if "pass" in desc else [*concepts, *through]
                if chosen:
                    args[name] = list(chosen)
            elif concepts:
                args[name] = concepts.pop(0)
            continue
        elif name == "store_path" and ent.store is not None:
            args[name] = ent.store
            continue
        elif name == "t_end" and ent.t_end is not None:
            args[name] = ent.t_end
            continue
        else:
            continue
        pool(kind)
        if not pools[kind]:
            continue
        if "array" in types:
            args[name], pools[kind] = _expand(pools[kind]) if kind == "path" else pools[kind], []
            continue
        value = pools[kind].pop(_pick(pools[kind], name, desc, refs) if kind == "path" else 0)
        if kind == "path" and "path" in nested and not _is_input_path(name):
            value = {"path": value}  # a nested source given by file (a mechanism, a dataset)
        args[name] = value
    return args, sorted(required - set(args))


def _alias(key: str, props: Mapping[str, Any]) -> str:
    """``key``, or the other name of the same parameter that the tool's schema uses (``T``/``temperature``)."""
    if key in props:
        return key
    return next((a for a in ALIASES.get(key, ()) if a in props), key)


# Files a folder given for a list of data files stands for (what the voltammogram and data readers take).
_DATA_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".dat", ".mpt", ".mpr", ".dta"})


def _expand(paths: Sequence[str]) -> list[str]:
    """``paths`` with each folder replaced by its data files (sorted; hidden files, code and notes left out; a folder
    without any stays as given, for the tool to refuse with its own message)."""
    from pathlib import Path

    out: list[str] = []
    for p in paths:
        folder = Path(p)
        if not folder.is_dir():
            out.append(p)
            continue
        data = sorted(
            str(f)
            for f in folder.iterdir()
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in _DATA_SUFFIXES
        )
        out.extend(data or [p])
    return out


def _pick(paths: list[str], name: str, desc: str, reference_paths: Sequence[str]) -> int:
    """Index of the path for field ``name``: a reference/gold field takes a path written after "against" (or
    "reference", "gold"), other fields the first path that is not one."""
    wants_reference = any(w in f"{name.lower()} {desc}" for w in ("reference", "gold"))
    for i, p in enumerate(paths):
        if (p in reference_paths) == wants_reference:
            return i
    return 0


def _place_leftover_pairs(
    leftover: dict[str, Any],
    args: dict[str, Any],
    props: Mapping[str, Any],
    defs: Mapping[str, Any],
    reaction_ent: Entities | None,
) -> None:
    """Pairs that name no top-level field: into a nested model with that property, into a free-form dict field whose
    description names the key (``fixed``: "must include area ... and c_bulk"), or, for species of the request's
    reactions, into ``initial``."""
    species = set(reaction_ent.species) if reaction_ent is not None else set()
    for key, value in leftover.items():
        if key in species and "initial" in props and "reactions" in props:
            args.setdefault("initial", {})[key] = value
            continue
        for name, prop in props.items():
            nested = _model_props(prop, defs)
            if key in nested and not _resolve(prop, defs).get("required"):  # never half-fill a model
                if isinstance(args.setdefault(name, {}), dict):
                    args[name][key] = value
                break
            desc = str(prop.get("description", ""))
            if "object" in _types(prop, defs) and not nested and re.search(rf"(?<!\w){re.escape(key)}(?!\w)", desc):
                if isinstance(args.setdefault(name, {}), dict):
                    args[name][key] = value
                break


def _invalid(tool_name: str, args: Mapping[str, Any]) -> str | None:
    """Why ``args`` do not validate for the tool (the rules never plan a call the gate would refuse), or None."""
    try:
        get_tool(tool_name).validate(args)
    except InvalidInput as err:
        return f"cannot run with what the request gives: {err}"
    return None


def _window(args: Mapping[str, Any]) -> tuple[float, float]:
    """(rest, driven) potentials 0.5 V either side of E0: rest where the bulk species does not react, driven where
    it reacts at the diffusion limit (bulk R: oxidise, so rest below E0; bulk O: reduce, rest above)."""
    e0 = float(args.get("E0", 0.0)) if isinstance(args.get("E0", 0.0), (int, float)) else 0.0
    sign = -1.0 if args.get("bulk", "R") == "R" else 1.0
    return e0 + 0.5 * sign, e0 - 0.5 * sign


# Conventional values the offline planner assumes for *required* arguments a request leaves out, as a person asking
# for "a CV at k0 = 1e-3 m/s" would: a ±0.5 V window around E0 (the standard case of ANCHORS.md) at 0.1 V/s, and a
# 1 s diffusion-limited potential step sampled every 1 ms. Every assumption is listed in the plan and in the
# worker's summary; nothing else is ever assumed.
_CONVENTIONS: dict[str, dict[str, Callable[[Mapping[str, Any]], Any]]] = {
    "simulate_cv": {
        "E_start": lambda a: _window(a)[0],
        "E_vertex": lambda a: _window(a)[1],
        "scan_rate": lambda a: 0.1,
    },
    "simulate_ca": {
        "E_initial": lambda a: _window(a)[0],
        "E_steps": lambda a: [_window(a)[1]],
        "durations": lambda a: [1.0],
        "dt": lambda a: 1e-3,
    },
}


def _assume(tool_name: str, args: dict[str, Any], missing: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Fill ``missing`` fields that have a convention; returns the assumed values and what is still missing."""
    rules = _CONVENTIONS.get(tool_name, {})
    assumed = {m: rules[m](args) for m in missing if m in rules}
    args.update(assumed)
    return assumed, [m for m in missing if m not in assumed]


def _normal(tool_name: str, args: Any) -> str:
    """Arguments as the gate stores them (validated, JSON), so ``x=-4`` planned matches ``x=-4.0`` recorded."""
    try:
        return canonical_json(get_tool(tool_name).validate(args).model_dump(mode="json"))
    except Exception:  # unknown tool or invalid arguments: compare as written
        return canonical_json(args)


def _describe_missing(tool_name: str, missing: Sequence[str]) -> str:
    props = get_tool(tool_name).input_schema.get("properties", {})
    parts = [f"{m} ({str(props.get(m, {}).get('description', '')).rstrip('.')})" for m in missing]
    return "; ".join(parts)


# -- the planner ---------------------------------------------------------------------------------------------------
class OfflinePlanner:
    """Deterministic rules in place of a language model; labelled ``[offline planner]`` in everything it writes."""

    offline = True
    label = OFFLINE_LABEL

    def plan(
        self,
        request: str,
        *,
        context: Sequence[str] = (),
        replan: str | None = None,
        previous: Sequence[dict] = (),
        max_tokens: int | None = None,
    ) -> tuple[Reply, int]:
        """Tasks (one per role, each with its calls) for ``request``; ``context`` holds earlier lines of the
        conversation (``"user: ..."``), used only for paths, SMILES and reactions the request refers back to.
        ``max_tokens`` is ignored: the rules use no tokens."""
        del max_tokens
        known = set(list_tools())
        calls = explicit_calls(request, known)
        rest = _cut(request, [c["span"] for c in calls])  # the prose around explicit calls may ask for more
        # Earlier messages' files, SMILES and reactions only for a request that refers back ("score this
        # mechanism"): otherwise each question keeps to its own entities.
        earlier = functools.cache(lambda: _earlier_entities(context) if _refers_back(request) else None)
        more, notes = self._clause_calls(rest, known, earlier)
        calls = [{"tool": c["tool"], "args": c["args"]} for c in calls] + more
        if replan:
            # Rules cannot invent new arguments: drop calls that were refused or failed and keep the rest.
            failed = {
                (e["tool"], _normal(e["tool"], e["args"]))
                for r in previous
                for e in r.get("evidence", [])
                if e["status"] in ("denied", "error", "rejected")
            }
            kept = [c for c in calls if (c["tool"], _normal(c["tool"], c["args"])) not in failed]
            if len(kept) == len(calls) or not kept:
                return {
                    "tasks": [],
                    "content": f"{TAG} no other plan: the rules map this request to the same calls ({replan})",
                    "notes": notes,
                }, 0
            calls = kept
        tasks: dict[str, dict] = {}
        rw = _words(extract_entities(rest).prose)  # prose only: a folder called "review" asks for no review
        for call in calls:
            role = call.get("role") or self._role_for(call["tool"], rw)  # intent calls chose theirs per clause
            if role is None:
                notes.append(f"no role may call {call['tool']!r}")
                continue
            task = tasks.setdefault(role, {"id": "", "role": role, "goal": "", "calls": []})
            planned = {"tool": call["tool"], "args": call["args"]}
            if call.get("assumed"):
                planned["assumed"] = call["assumed"]
                notes.append(f"{call['tool']}: assumed {_assumed_text(call['assumed'])} (not in the request)")
            task["calls"].append(planned)
        out = []
        for i, task in enumerate(tasks.values(), start=1):
            task["id"] = f"t{i}"
            task["goal"] = f"{TAG} call " + ", ".join(
                c["tool"] + (f" (assumed {_assumed_text(c['assumed'])})" if c.get("assumed") else "")
                for c in task["calls"]
            )
            out.append(task)
        content = None
        if not out:
            content = f"{TAG} no tool call planned: " + (
                " ".join(notes) if notes else "no registered tool matches the request words."
            )
            content += " Name a call directly, e.g. describe_molecule(smiles=CCO); `labwright tool list` shows tools."
        return {"tasks": out, "content": content, "notes": notes}, 0

    def _clause_calls(self, request: str, known: set[str], earlier: _Earlier) -> tuple[list[dict], list[str]]:
        """Calls for a request that may ask for several things ("describe CCO and check detailed balance of ...").

        The request is split at "and" / "then" / "also" outside reactions, concept pairs and JSON values; if every
        clause maps to calls on its own, their union is the plan, else the request is matched as a whole."""
        clauses = _clauses(request)
        if 1 < len(clauses) <= 2 * _MAX_CALLS:  # more clauses than calls allowed: not a list of requests
            per_clause = [self._intent_calls(c, known, earlier) for c in clauses]
            if all(calls for calls, _ in per_clause):
                merged: list[dict] = []
                for calls, _ in per_clause:
                    merged += [c for c in calls if c not in merged]
                return merged[: 2 * _MAX_CALLS], []
        return self._intent_calls(request, known, earlier)

    def _intent_calls(self, request: str, known: set[str], earlier: _Earlier) -> tuple[list[dict], list[str]]:
        """The best-matching tools (see the module docstring), at most three; only those whose required arguments
        the request (or, for referring-back requests, the conversation) supplies are called."""
        ent = extract_entities(request)
        rw = _words(ent.prose)
        scored = []
        for name in sorted(known):
            if not any(get_role(r).allows(name) for r in WORKER_ROLES):
                continue
            name_hits = _overlap(rw, _words(name))
            desc_hits = _overlap(rw, _words(get_tool(name).description) - _words(name))
            if name_hits or desc_hits:
                scored.append((name_hits, desc_hits, name))
        if not scored:
            return [], []
        scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
        by_name = scored[0][0] > 0
        calls: list[dict] = []
        notes: list[str] = []
        best: tuple[int, int] | None = None
        for name_hits, desc_hits, name in scored:
            if by_name and name_hits < scored[0][0]:
                break
            if best is not None and (name_hits, desc_hits) < best:
                break  # only the top-scoring tools (ties allowed) are called
            args, missing = fill_args(name, ent, earlier)
            if not by_name and not args:
                continue  # a description match alone is weak: also require the request to supply an argument
            assumed, missing = _assume(name, args, missing)
            problem = f"needs {_describe_missing(name, missing)}" if missing else _invalid(name, args)
            if problem:
                if best is None:
                    notes.append(f"{name} ({self._role_for(name, rw) or 'no role'}) {problem}.")
                    best = (name_hits, desc_hits)
                continue
            best = best or (name_hits, desc_hits)
            call = {"tool": name, "args": args, "role": self._role_for(name, rw)}
            if assumed:
                call["assumed"] = assumed
            calls.append(call)
            if len(calls) >= _MAX_CALLS:
                break
        if calls:
            notes = []  # the best tool(s) could be called; what lower-ranked tools would need is noise
        return calls, notes

    def _role_for(self, tool_name: str, request_words: Set[str]) -> str | None:
        allowed = [r for r in _ROLE_PREFERENCE if get_role(r).allows(tool_name)]
        if not allowed:
            return None
        if "reviewer" in allowed:
            if request_words & _REVIEW_WORDS:
                return "reviewer"
            if len(allowed) > 1:
                allowed.remove("reviewer")
        return max(allowed, key=lambda r: (_overlap(request_words, _words(ROLES[r].description)), -allowed.index(r)))

    def worker_turn(
        self, role: str, task: Mapping[str, Any], messages: list[dict], *, max_tokens: int | None = None
    ) -> tuple[Reply, int]:
        """Turn 0: the task's planned calls; turn 1: a summary quoting what the tools returned."""
        del max_tokens
        if not any(m["role"] == "tool" for m in messages):
            calls = [
                {"id": f"call_{i}", "name": c["tool"], "arguments": c["args"]}
                for i, c in enumerate(task.get("calls", []))
            ]
            if calls:
                return {"content": None, "tool_calls": calls}, 0
            return {"content": f"{TAG} {role}: no tool call was planned for this task", "tool_calls": []}, 0
        names = {
            tc["id"]: tc["function"]["name"]
            for m in messages
            if m["role"] == "assistant"
            for tc in m.get("tool_calls") or []
        }
        lines = [
            f"assumed {_assumed_text(c['assumed'])} for {c['tool']} (not in the request)"
            for c in task.get("calls", [])
            if c.get("assumed")
        ]
        for m in messages:
            if m["role"] != "tool":
                continue
            name = names.get(m.get("tool_call_id"), "tool")
            data = json.loads(m["content"])
            if isinstance(data, dict) and "status" in data and "error" in data:
                lines.append(f"{name} did not run to a result ({data['status']}): {data['error']}")
            else:
                asked = _words(" ".join(str(u.get("content") or "") for u in messages if u["role"] == "user"))
                brief = _brief(data)
                head = headline(name, data, asked)
                # The stated result leads unless the short listing already says all of it.
                text = f"{head}; also {brief}" if head and brief.endswith("...") else brief
                lines.append(f"{name} returned {text}")
        return {"content": f"{TAG} {role}: " + "; ".join(lines), "tool_calls": []}, 0

    def compose_answer(
        self, request: str, results: Sequence[dict], notes: Sequence[str], *, max_tokens: int | None = None
    ) -> tuple[Reply, int]:
        del max_tokens
        lines = [f"{TAG} deterministic rules, no language model. Request: {request}"]
        asked = _words(request)
        found = [
            f"{head} (evidence: {r['role']} {_call_text(e['tool'], e['args'])}{_sources(e['result'])})"
            for r in results
            for e in r.get("evidence", [])
            if e["status"] == "ok" and (head := headline(e["tool"], e["result"], asked))
        ]
        if found:
            lines.append("Answer: " + "; ".join(dict.fromkeys(found)))
        elif results and not any(e["status"] == "ok" for r in results for e in r.get("evidence", [])):
            lines.append("Answer: no tool call succeeded, so there is no result to report (details below).")
        lines += [f"- {r['role']} ({r['status']}): {r['summary']}" for r in results]
        lines += [f"- review: {n}" for n in notes]
        return {"content": "\n".join(lines)}, 0


_JOINER = re.compile(r"\s*,?\s+\b(?:and\s+then|and\s+also|then|also|and)\b\s+", re.IGNORECASE)


def _clauses(request: str) -> list[str]:
    """``request`` split at joining words that are not inside a reaction, a concept pair or a JSON value."""
    masked = request
    spans = [m.span() for m in _REACTION.finditer(request)] + [m.span() for m in _PAIR_OF_CONCEPTS.finditer(request)]
    for m in re.finditer(r"[\[{]", request):
        end = _balanced(request, m.start(), m.group(), "]" if m.group() == "[" else "}")
        spans.append((m.start(), len(request) if end is None else end + 1))
    for a, b in spans:
        masked = masked[:a] + "\x00" * (b - a) + masked[b:]
    cuts = [m.span() for m in _JOINER.finditer(masked)]
    out, start = [], 0
    for a, b in cuts:
        out.append(request[start:a])
        start = b
    out.append(request[start:])
    return [c.strip() for c in out if c.strip()]


def _assumed_text(assumed: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={canonical_json(v)}" for k, v in assumed.items())


_BACK = frozenset({"this", "these", "those", "same", "above", "previous", "earlier", "again", "it", "them"})


def _refers_back(request: str) -> bool:
    """Whether ``request`` points at something said before ("this mechanism", "the same files", "fit them")."""
    return bool(set(re.findall(r"[a-z]+", request.lower())) & _BACK)


def _earlier_entities(context: Sequence[str]) -> Entities | None:
    """Paths, SMILES and reactions of the latest earlier user message that has any (for "this", "it", "that")."""
    for line in reversed(list(context)):
        if not line.startswith("user:"):
            continue
        ent = extract_entities(line[len("user:") :])
        if ent.paths or ent.smiles or ent.reactions:
            return ent
    return None


# -- stating the result ---------------------------------------------------------------------------------------------
# SI units of the parameters tools estimate (DESIGN.md "Units"), for estimates whose output model does not say.
_UNITS = {
    "k0": "m/s",
    "D": "m^2/s",
    "D_O": "m^2/s",
    "D_R": "m^2/s",
    "E0": "V",
    "alpha": "",
    "T": "K",
    "area": "m^2",
    "c_bulk": "mol/m^3",
    "k_chem": "1/s",
    "R_u": "ohm",
    "C_dl": "F",
    "lambda_eV": "eV",
}
_UNIT_TAIL = re.compile(r",\s*([A-Za-zµΩ°][A-Za-z0-9µΩ°^²³·/*() -]{0,14}?)\s*\.?\s*$")


def _num(x: float) -> str:
    """A number as the reviewer can check it: four significant digits (a rounding of the tool's value)."""
    return f"{x:.4g}"


def _unit_of(field_desc: str) -> str:
    """The unit a field's description ends with ("Diffusion coefficient, m^2/s." -> "m^2/s"), else ""."""
    m = _UNIT_TAIL.search(field_desc or "")
    unit = m.group(1).strip() if m else ""
    looks_like_unit = any(c in unit for c in "/^²³·") or (0 < len(unit) <= 3 and unit.isalpha()) or unit == "ohm"
    return unit if looks_like_unit else ""


def _estimate_text(name: str, est: Mapping[str, Any]) -> str:
    unit = _UNITS.get(name, "")
    text = f"{name} = {_num(est['value'])}" + (f" {unit}" if unit else "")
    if isinstance(est.get("stderr"), (int, float)):
        text += f" ± {_num(est['stderr'])}"
    ci = est.get("ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(c, (int, float)) for c in ci):
        text += f" (CI95 {_num(ci[0])} to {_num(ci[1])})"
    if est.get("at_bound"):
        text += " [at a bound]"
    return text


def _field_score(name: str, desc: str, asked: Set[str]) -> int:
    """How plainly the request asks for this field: its symbol written (k0, D, R) counts 3, its words 1 each."""
    symbols = {name.lower(), *re.findall(r"\b([A-Za-z][A-Za-z0-9]{0,2})\s*=", desc)}
    score = 3 * sum(1 for sym in symbols if sym.lower() in asked)
    return score + _overlap(asked, _words(name.replace("_", " ")) | _words(desc))


@functools.cache  # an explicit cache: a model's JSON schema never changes, and building it costs ~0.5 ms a call
def _output_properties(model: type) -> dict[str, Any]:
    """The ``properties`` of ``model``'s JSON schema (field name -> schema with its description)."""
    return model.model_json_schema().get("properties", {})


def headline(tool_name: str, data: Any, asked: Set[str]) -> str:
    """The quantity a tool's output answers, stated with units and uncertainty: the fitted estimates (value ± standard
    error, CI95), the verdict (a true/false field with the tool's message), or the numbers whose names or descriptions
    the request's words ``asked`` name (``k0``, ``D``, ``R``); "" when the output has none of these."""
    if not isinstance(data, Mapping):
        return ""
    try:
        fields = _output_properties(get_tool(tool_name).output_model)
    except Exception:  # an unknown tool (a replayed call of a removed tool): no schema, no headline
        fields = {}
    estimates = [
        (k, est)
        for v in data.values()
        if isinstance(v, Mapping)
        for k, est in v.items()
        if isinstance(est, Mapping) and isinstance(est.get("value"), (int, float))
    ]
    if estimates:
        estimates.sort(key=lambda kv: -_field_score(kv[0], "", asked))
        # a fit that failed its quality checks says so next to its numbers
        return "; ".join([_estimate_text(k, est) for k, est in estimates] + _poor_fit_text(data))
    parts = []
    for k, v in data.items():  # findings stated in words (hypotheses, claims): how many, and the first few
        items = [x for x in v if isinstance(x, Mapping)] if isinstance(v, list) else []
        said = [str(x[key]) for x in items for key in ("statement", "sentence") if isinstance(x.get(key), str)][:3]
        if said:
            parts.append(f"{len(items)} {k}: " + " | ".join(said))
    verdicts = [k for k, v in data.items() if isinstance(v, bool) and k not in ("converged",)]
    if verdicts and isinstance(data.get("message"), str) and data["message"]:
        parts.append("verdict: " + ", ".join(f"{k}={data[k]}" for k in verdicts) + f" ({data['message']})")
    scored = []
    for k, v in data.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or k.endswith("_stderr"):
            continue
        desc = str(fields.get(k, {}).get("description", ""))
        score = _field_score(k, desc, asked)
        if score:
            scored.append((score, k, v, desc))
    scored.sort(key=lambda t: -t[0])
    for _, k, v, desc in scored[:3]:
        unit = _unit_of(desc)
        text = f"{k} = {_num(v)}" + (f" {unit}" if unit else "")
        err = data.get(f"{k}_stderr")
        if isinstance(err, (int, float)):
            text += f" ± {_num(err)}"
        parts.append(text)
    return "; ".join(parts)


def _poor_fit_text(data: Mapping[str, Any]) -> list[str]:
    """The fit's own verdict when its quality checks failed (``poor_fit``), so an answer never passes off a bad fit's
    numbers as a result; [] for a good fit."""
    if data.get("poor_fit") is not True:
        return []
    verdict = data.get("fit_verdict")
    return [verdict if isinstance(verdict, str) and verdict else "POOR FIT (the fit-quality checks failed)"]


def _sources(data: Any, limit: int = 5) -> str:
    """ ", sources: ..." naming the documents and files a result cites (``document_id``, ``source_path``), or ""."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, Mapping):
            for k, x in v.items():
                if k in ("document_id", "source_path") and isinstance(x, str) and x not in found:
                    found.append(x)
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(data)
    return (", sources: " + ", ".join(found[:limit]) + (" ..." if len(found) > limit else "")) if found else ""


def _call_text(tool_name: str, args: Mapping[str, Any]) -> str:
    """A call as the answer cites it: arguments left at their defaults omitted, lists of files named by count and
    folder, long values shortened."""
    try:
        defaults = {k: f.default for k, f in get_tool(tool_name).input_model.model_fields.items()}
    except Exception:  # an unknown tool: cite every argument
        defaults = {}
    parts = []
    for k, v in (args or {}).items():
        if v is None or (k in defaults and defaults[k] == v):
            continue
        if isinstance(v, list) and len(v) > 2 and all(isinstance(x, str) and "/" in x for x in v):
            folders = sorted({x.rsplit("/", 1)[0] for x in v if "/" in x})
            v = f"{len(v)} files" + (f" in {', '.join(folders)}" if folders else "")
        else:
            v = _cut_at_boundary(canonical_json(v), 80)
        parts.append(f"{k}={v}")
    return f"{tool_name}({', '.join(parts)})"


def _brief(data: Any, limit: int = 400) -> str:
    """``key=value`` pairs of a tool output, long lists shortened, numbers quoted exactly as returned.

    Past ``limit`` characters whole pairs are left out (``...``), never cut through, so no number is truncated into
    a different one (the reviewer checks every number in a summary against the tool's output)."""
    if not isinstance(data, dict):
        return _cut_at_boundary(canonical_json(data), limit)
    parts = []
    for k, v in data.items():
        if isinstance(v, list) and v and all(isinstance(row, list) for row in v):
            v = f"[{len(v)}x{len(v[0])} matrix]"
        elif isinstance(v, list) and len(v) > 6:
            v = f"[{len(v)} values]"
        elif isinstance(v, (dict, list)):
            v = canonical_json(v)
        parts.append(f"{k}={v}")
    out: list[str] = []
    used = 0
    for part in parts:
        if used + len(part) > limit:
            if not out:
                out.append(_cut_at_boundary(part, limit))
            else:
                out.append("...")
            break
        out.append(part)
        used += len(part) + 2
    return ", ".join(out)


def _cut_at_boundary(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters at a space or comma (numbers stay whole)."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(" ", 0, limit), text.rfind(",", 0, limit))
    return (text[:cut] if cut > 0 else "") + " ..."
