"""Ingestion: documents (through an extractor) and event files into the store, all-or-nothing.

Each call runs in one store transaction: if any event is invalid, or extraction fails, nothing is written. Events
are validated one by one while they are written, so a bad record late in a large file rolls back everything before
it. Re-ingesting identical text, or the same events, adds nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InvalidInput, InvalidSmiles, MalformedFile
from ..settings import Settings, get_settings
from ..tools._files import open_user_file
from ..tools.registry import invalid_input_from
from ._extract import (
    LLM_VERSION,
    OFFLINE_EXTRACTOR,
    OFFLINE_VERSION,
    ExtractedEvent,
    llm_extract,
    offline_extract,
    sha256_short,
)
from ._gc import gc_paused
from ._normalise import Concept, normalise_concept, normalise_text
from ._opsin import opsin_status
from ._store import EdgeSpec, KnowledgeStore, Provenance
from ._text import SURROGATE, abbreviations, check_text

__all__ = [
    "Participant",
    "Event",
    "Document",
    "IngestReport",
    "ingest_text",
    "ingest_documents",
    "ingest_events",
    "read_events",
    "read_corpus",
]

Extractor = Literal["auto", "offline", "llm"]


class Participant(BaseModel):
    """An entity taking part in an event: a name, optionally a structure and a kind."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Entity name as written.")
    smiles: str | None = Field(default=None, description="Structure, when known; the node is then keyed by InChIKey.")
    kind: str | None = Field(default=None, description="Node kind (material, protein, property...).")


class Event(BaseModel):
    """One n-ary relation: sources --relation--> targets (undirected when ``target`` is empty)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    source: list[str | Participant] = Field(min_length=1, description="Acting entities (or all members).")
    relation: str = Field(min_length=1, description="Relation label, e.g. 'phosphorylates'.")
    target: list[str | Participant] = Field(default_factory=list, description="Affected entities.")
    confidence: float = Field(default=1.0, ge=0, le=1, description="Confidence in [0, 1].")
    attrs: dict[str, Any] = Field(default_factory=dict, description="Free attributes (JSON).")
    document: str | None = Field(default=None, description="Source document id (default: the file's).")
    locator: dict[str, Any] | None = Field(default=None, description="Where in the document (page, span...).")

    @field_validator("relation")
    @classmethod
    def _relation(cls, v: str) -> str:
        v = " ".join(v.split()).lower()
        if not v:
            raise ValueError("relation is blank")
        return v


@dataclass(frozen=True)
class Document:
    """A text to ingest with the id provenance will cite."""

    id: str
    text: str
    title: str | None = None


@dataclass
class IngestReport:
    """What an ingestion did. ``documents`` maps document id → ``new`` | ``unchanged`` | ``changed``;
    ``chemical_names`` says whether offline extraction resolved chemical names with OPSIN (``opsin``, or ``off: …``
    with the reason: those names then stay plain phrases)."""

    extractor: str
    documents: dict[str, str] = field(default_factory=dict)
    events: int = 0
    edges_created: int = 0
    provenance_added: int = 0
    nodes_before: int = 0
    nodes_after: int = 0
    tokens: int = 0
    chemical_names: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _concepts(items: Iterable[str | Participant], field_: str) -> list[Concept]:
    out = []
    for k, item in enumerate(items):
        try:  # field names are built only on error: this loop runs for every name of a bulk import
            if isinstance(item, Participant):
                out.append(normalise_concept(item.name, smiles=item.smiles, kind=item.kind))
            else:
                out.append(normalise_concept(item))
        except InvalidInput as err:
            if isinstance(err, InvalidSmiles):
                raise InvalidSmiles(err.smiles, err.reason.split(": ", 1)[-1], field=f"{field_}.{k}") from None
            raise InvalidInput(f"{field_}.{k}", err.reason) from None
    return out


def _roles(sources: list[Concept], targets: list[Concept]) -> list[tuple[Concept, str]]:
    if not targets:
        return [(c, "member") for c in sources]
    return [(c, "source") for c in sources] + [(c, "target") for c in targets]


def _extract(
    doc: Document, extractor: Extractor, settings: Settings, vocabulary, max_chars: int
) -> tuple[list[ExtractedEvent], str, str, int]:
    use_llm = extractor == "llm" or (extractor == "auto" and settings.llm_configured)
    if use_llm:
        events, tokens = llm_extract(doc.text, settings=settings, max_chars=max_chars)
        return events, f"llm:{settings.model}", LLM_VERSION, tokens
    return offline_extract(doc.text, vocabulary=vocabulary, settings=settings), OFFLINE_EXTRACTOR, OFFLINE_VERSION, 0


Extraction = tuple[list[ExtractedEvent], str, str, int]  # events, extractor name, its version, tokens spent


def extract_document(
    doc: Document,
    *,
    extractor: Extractor = "auto",
    settings: Settings | None = None,
    vocabulary: Iterable[str] | None = None,
    max_chars: int = 2500,
) -> dict[str, Any]:
    """Extract one document's events (no store involved) as JSON: ``events``, ``extractor``, ``version``, ``tokens``."""
    events, name, version, tokens = _extract(doc, extractor, settings or get_settings(), vocabulary, max_chars)
    return {"events": [dataclasses.asdict(e) for e in events], "extractor": name, "version": version, "tokens": tokens}


def extraction_from_json(data: dict[str, Any]) -> Extraction:
    """The inverse of :func:`extract_document`'s JSON form."""
    events = [
        ExtractedEvent(
            **{
                **e,
                "source": tuple(e["source"]),
                "target": tuple(e["target"]),
                "structures": tuple(tuple(p) for p in e.get("structures", ())),
                "key_concepts": tuple(e.get("key_concepts", ())),
            }
        )
        for e in data["events"]
    ]
    return events, data["extractor"], data["version"], int(data["tokens"])


def ingest_documents(
    store: KnowledgeStore,
    docs: Iterable[Document],
    *,
    extractor: Extractor = "auto",
    vocabulary: Iterable[str] | None = None,
    settings: Settings | None = None,
    max_chars: int = 2500,
    extract_many: Callable[[list[Document]], list[Extraction]] | None = None,
) -> IngestReport:
    """Extract events from each document and store them with per-chunk provenance, in one transaction.

    Parameters
    ----------
    store
        Target store.
    docs
        Documents; ids must be unique and texts non-empty.
    extractor
        ``"offline"`` (deterministic co-occurrence + verb patterns), ``"llm"`` (the configured endpoint), or
        ``"auto"``: the LLM when one is configured, otherwise offline.
    vocabulary
        Optional concept names for the offline extractor: only noun phrases containing one are kept (default:
        every noun phrase).
    max_chars
        Chunk size for LLM extraction, characters.
    extract_many
        Runs the extraction of the documents not yet stored, e.g. in parallel on an executor (see
        :mod:`labwright.scale`); each result as :func:`extract_document` gives it, read back with
        :func:`extraction_from_json`. Default: one after another here. Writing stays here, in one transaction.

    Raises
    ------
    InvalidInput
        Empty text or id, or ``extractor="llm"`` without a configured endpoint.
    ExtractionFailed
        The LLM returned unusable output; nothing is written.
    """
    settings = settings or get_settings()
    docs = list(docs)
    if not docs:
        raise InvalidInput("documents", "no documents to ingest")
    seen: set[str] = set()
    for k, d in enumerate(docs):
        if not isinstance(d.id, str) or not d.id.strip():
            raise InvalidInput(f"documents.{k}.id", "a non-empty document id is required")
        if d.id in seen:
            raise InvalidInput(f"documents.{k}.id", f"duplicate document id {d.id!r}")
        seen.add(d.id)
        if not isinstance(d.text, str) or not d.text.strip():
            raise InvalidInput(f"documents.{k}.text" if len(docs) > 1 else "text", "text is empty")
        check_text(d.text, f"documents.{k}.text" if len(docs) > 1 else "text")  # binary, unsplittable: before any call
    if extractor not in ("auto", "offline", "llm"):
        raise InvalidInput("extractor", f"extractor must be auto, offline or llm, got {extractor!r}")
    report = IngestReport(extractor="")
    # Skip documents already stored with identical text before calling any (possibly paid) extractor.
    pending = []
    for d in docs:
        row = store.conn.execute("SELECT sha256 FROM documents WHERE id = ?", (d.id,)).fetchone()
        if row is not None and row[0] == sha256_short(d.text):
            report.documents[d.id] = "unchanged"
        else:
            pending.append(d)
    if extract_many is None:
        results = [_extract(d, extractor, settings, vocabulary, max_chars) for d in pending]
    else:
        results = extract_many(pending)
    extracted = []
    for d, (events, name, version, tokens) in zip(pending, results, strict=True):
        events = _expand_abbreviations(events, abbreviations(d.text))
        report.tokens += tokens
        report.extractor = name
        extracted.append((d, events, name, version))
    report.extractor = report.extractor or ("llm" if extractor == "llm" else OFFLINE_EXTRACTOR)
    if report.extractor == OFFLINE_EXTRACTOR:
        report.chemical_names = opsin_status(settings)
    report.nodes_before = store.counts()["nodes"]
    with store.transaction():
        for d, events, name, version in extracted:
            report.documents[d.id] = store.ensure_document(d.id, sha256=sha256_short(d.text), title=d.title)
            specs = []
            for k, ev in enumerate(events):
                sources = _concepts(_with_structures(ev.source, ev.structures), f"events.{k}.source")
                targets = _concepts(_with_structures(ev.target, ev.structures), f"events.{k}.target")
                prov = Provenance(
                    d.id, {"chunk": ev.chunk, "start": ev.start, "end": ev.end, "sha256": ev.sha256}, name, version
                )
                specs.append(
                    EdgeSpec(
                        " ".join(ev.relation.lower().split()),
                        _roles(sources, targets),
                        prov,
                        _edge_attrs(ev),
                        ev.confidence,
                    )
                )
            _tally(report, store.add_edges(specs))
        for d, *_ in extracted:  # after every document's nodes exist: a long form may be a node of another one
            store.add_aliases(_abbreviation_aliases(d.text))
    report.nodes_after = store.counts()["nodes"]
    return report


def _edge_attrs(ev: ExtractedEvent) -> dict[str, Any]:
    """Evidence, and the sign of a relation or the key concepts naming a co-occurrence (see ``offline_extract``)."""
    if ev.directed:
        return {"evidence": ev.evidence, "sign": ev.sign}
    if not ev.key_concepts:
        return {"evidence": ev.evidence}
    return {"evidence": ev.evidence, "key_concepts": [normalise_text(n) for n in ev.key_concepts]}


def _expand_abbreviations(events: list[ExtractedEvent], defined: dict[str, str]) -> list[ExtractedEvent]:
    """Events whose participant names that are abbreviations the document defined are replaced by the long form
    (the offline extractor already does this; an LLM may return "ROS" as written)."""
    if not defined:
        return events

    def long(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(defined.get(n.strip(), n) for n in names))

    return [dataclasses.replace(e, source=long(e.source), target=long(e.target)) for e in events]


def _with_structures(names: tuple[str, ...], structures: tuple[tuple[str, str], ...]) -> list[str | Participant]:
    smiles = dict(structures)
    return [Participant(name=n, smiles=smiles[n]) if n in smiles else n for n in names]


def _abbreviation_aliases(text: str) -> dict[str, Concept]:
    """Abbreviations ``text`` defines, as lookup aliases of their long forms' concepts ("pcl" → polycaprolactone)."""
    out = {}
    for abbr, long in abbreviations(text).items():
        try:
            out[normalise_text(abbr)] = normalise_concept(long)
        except InvalidInput:
            continue
    return out


def ingest_text(
    store: KnowledgeStore,
    text: str,
    document_id: str,
    *,
    title: str | None = None,
    extractor: Extractor = "auto",
    vocabulary: Iterable[str] | None = None,
    settings: Settings | None = None,
) -> IngestReport:
    """Ingest one text as document ``document_id`` (see :func:`ingest_documents`)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text", "text is empty")
    return ingest_documents(
        store, [Document(document_id, text, title)], extractor=extractor, vocabulary=vocabulary, settings=settings
    )


def ingest_events(
    store: KnowledgeStore,
    events: Iterable[dict[str, Any] | Event],
    *,
    document_id: str | None = None,
    extractor: str = "events-import",
    extractor_version: str = "1",
) -> IngestReport:
    """Store events (dicts or :class:`Event`) in one transaction, validating each as it is written.

    Events without a ``document`` use ``document_id``; events without a ``locator`` get ``{"record": i}``.

    Raises
    ------
    InvalidInput
        An event is invalid (the field is named as ``events.<i>.<field>``); nothing is written.
    """
    report = IngestReport(extractor=extractor, nodes_before=store.counts()["nodes"])
    with gc_paused(), store.transaction():
        specs: list[EdgeSpec] = []
        for i, raw in enumerate(events):
            ev = _validate_event(raw, i)
            doc = ev.document or document_id
            if not doc:
                raise InvalidInput(f"events.{i}.document", "no document id (give one per event or for the batch)")
            sources = _concepts(ev.source, f"events.{i}.source")
            targets = _concepts(ev.target, f"events.{i}.target")
            report.documents.setdefault(doc, "events")
            prov = Provenance(
                doc, ev.locator if ev.locator is not None else {"record": i}, extractor, extractor_version
            )
            specs.append(EdgeSpec(ev.relation, _roles(sources, targets), prov, ev.attrs, ev.confidence))
            if len(specs) == _BATCH:
                _tally(report, store.add_edges(specs))
                specs = []
        _tally(report, store.add_edges(specs))
    report.nodes_after = store.counts()["nodes"]
    return report


_BATCH = 10_000  # events written per batch of statements (all batches share one transaction)


def _tally(report: IngestReport, results: list[tuple[int, bool, bool]]) -> None:
    report.events += len(results)
    report.edges_created += sum(created for _, created, _ in results)
    report.provenance_added += sum(new for _, _, new in results)


def _surrogate_at(value: Any, path: str) -> str | None:
    """Dotted path of the first string inside ``value`` holding an unpaired surrogate (no UTF-8 form), or None."""
    if isinstance(value, str):
        return path if SURROGATE.search(value) else None
    if isinstance(value, dict):
        value = [x for kv in value.items() for x in kv]
    if isinstance(value, (list, tuple)):
        return next((p for k, x in enumerate(value) if (p := _surrogate_at(x, f"{path}.{k}")) is not None), None)
    return None


def _validate_event(raw: dict[str, Any] | Event, i: int) -> Event:
    if not isinstance(raw, (dict, Event)):
        raise InvalidInput(f"events.{i}", f"an event must be a JSON object, got {type(raw).__name__}")
    data = raw.model_dump() if isinstance(raw, Event) else raw
    for key, value in data.items():
        bad = _surrogate_at(value, f"events.{i}.{key}")
        if bad is not None:  # SQLite and the edge hash need UTF-8
            raise InvalidInput(bad, "contains an unpaired surrogate: not valid Unicode text")
    if isinstance(raw, Event):
        return raw
    try:
        return Event.model_validate(raw)
    except ValidationError as err:
        inner = invalid_input_from(err)
        raise InvalidInput(f"events.{i}.{inner.field}", inner.reason) from None


# ---------------------------------------------------------------------------- files
def _split_list(cell: str) -> list[str]:
    return [p.strip() for p in cell.replace("|", ";").split(";") if p.strip()]


def _read_text(path: Path) -> str:
    """A text file's content, or :class:`MalformedFile` (one line) when it is not UTF-8 text."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise MalformedFile(
            str(path), f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}", line=line
        ) from None
    if "\x00" in text:
        raise MalformedFile(str(path), f"binary data (NUL byte at offset {text.index(chr(0))}), not text")
    return text


def _jsonl_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for each non-blank line of a JSONL file, lazily, so a malformed line is reported
    (as :class:`MalformedFile` with its 1-based line number) only when reached."""
    with open_user_file(path) as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise MalformedFile(
                    str(path), f"not UTF-8 text: byte 0x{raw[err.start]:02x} at column {err.start + 1}", line=n
                ) from None
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as err:
                raise MalformedFile(str(path), f"not valid JSON: {err.msg}", line=n) from None


def read_events(path: str | Path) -> Iterator[dict[str, Any]]:
    """Events from a JSONL file (one event object per line) or a CSV file with columns ``source, relation,
    target`` (lists separated by ``;``) and optional ``confidence, document``.

    Records are yielded lazily, so a malformed line is reported (with its line number) when reached.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("path", f"no such file: {path}")
    if path.suffix.lower() == ".csv":
        yield from _read_csv(path)
        return
    for n, rec in _jsonl_lines(path):
        if isinstance(rec, dict) and "locator" not in rec:
            rec["locator"] = {"file": path.name, "line": n}
        yield rec


def _read_csv(path: Path) -> Iterator[dict[str, Any]]:
    with io.StringIO(_read_text(path), newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"source", "relation", "target"} - set(reader.fieldnames or [])
        if missing:
            raise MalformedFile(str(path), f"missing column(s): {', '.join(sorted(missing))}", line=1)
        for row in reader:
            n = reader.line_num
            rec: dict[str, Any] = {
                "source": _split_list(row["source"] or ""),
                "relation": row["relation"] or "",
                "target": _split_list(row["target"] or ""),
                "locator": {"file": path.name, "line": n},
            }
            if row.get("confidence"):
                try:
                    rec["confidence"] = float(row["confidence"])
                except ValueError:
                    raise MalformedFile(
                        str(path), f"confidence {row['confidence']!r} is not a number", line=n
                    ) from None
            if row.get("document"):
                rec["document"] = row["document"]
            yield rec


def read_corpus(path: str | Path) -> list[Document]:
    """Documents from a JSONL file (``{"id", "text", "title"?}`` per line) or a folder of ``.txt``/``.md`` files
    (id = file name without suffix)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".txt", ".md"))
        docs = [Document(p.stem, _read_text(p), p.stem) for p in files]
        docs += [d for p in sorted(path.glob("*.jsonl")) for d in read_corpus(p)]
        return docs
    if not path.is_file():
        raise InvalidInput("path", f"no such file or folder: {path}")
    if path.suffix.lower() in (".txt", ".md"):
        return [Document(path.stem, _read_text(path), path.stem)]
    docs = []
    for n, rec in _jsonl_lines(path):
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not isinstance(rec.get("text"), str):
            raise MalformedFile(str(path), "each line needs string fields 'id' and 'text'", line=n)
        docs.append(Document(rec["id"], rec["text"], rec.get("title")))
    return docs
