"""HIF (Hypergraph Interchange Format v0.1.0) read/write, fully offline, and HyperNetX / networkx conversion.

The HIF schema ships with the package (``hif_schema.json``) and is checked by the small validator below (the subset
of JSON Schema the HIF schema uses: ``type``, ``enum``, ``properties``, ``required``, ``additionalProperties``,
``items``), so no network and no extra dependency are needed; errors carry a JSON path.

Mapping. Nodes: HIF ``node`` = the store's canonical key; ``attrs`` hold label, kind, SMILES and synonyms. Edges:
``edge`` = the store's edge key, ``weight`` = confidence; ``attrs`` hold the relation, the edge attributes and every
provenance record. Incidences: ``direction`` ``tail`` for sources and ``head`` for targets, and ``attrs.role`` (source,
target, member) always. In a directed file (any edge directed) the members of undirected co-occurrence edges also get
``tail``: XGI's reader needs a direction on every incidence of a directed network and HyperNetX's writer accepts
only head/tail, so every incidence has one; the role attribute, read first, keeps them members here. A file written
here and read back gives the same HIF document, also after a round trip through XGI or HyperNetX.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, MalformedFile
from ..tools._confined import write_file
from ._gc import gc_paused
from ._normalise import Concept, normalise_text
from ._store import EdgeSpec, KnowledgeStore, Provenance

__all__ = [
    "hif_schema",
    "validate_hif",
    "to_hif",
    "write_hif",
    "read_hif",
    "load_hif",
    "to_hypernetx",
    "from_hypernetx",
    "to_networkx",
]

HIF_VERSION = "0.1.0"
_JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@functools.lru_cache(maxsize=1)
def hif_schema() -> dict[str, Any]:
    """The HIF v0.1.0 JSON schema shipped in the package."""
    return json.loads(resources.files(__package__).joinpath("hif_schema.json").read_text(encoding="utf-8"))


def _errors(value: Any, schema: dict[str, Any], path: str, out: list[str], limit: int = 10) -> None:
    if len(out) >= limit:
        return
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']}")
        return
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_JSON_TYPES[t](value) for t in types):
            out.append(f"{path}: expected {' or '.join(types)}, got {type(value).__name__}")
            return
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{path}: missing required key {key!r}")
        if schema.get("additionalProperties") is False:
            for key in value:
                if key not in props:
                    out.append(f"{path}: unexpected key {key!r} (allowed: {', '.join(props)})")
        for key, sub in props.items():
            if key in value:
                _errors(value[key], sub, f"{path}.{key}", out, limit)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _errors(item, schema["items"], f"{path}[{i}]", out, limit)


def validate_hif(doc: Any, *, source: str = "<hif>") -> None:
    """Check ``doc`` against the HIF v0.1.0 schema.

    Raises
    ------
    MalformedFile
        With up to ten violations, each with its JSON path (``$.incidences[3].direction: 'up' is not one of ...``).
    """
    errs: list[str] = []
    _errors(doc, hif_schema(), "$", errs)
    if errs:
        raise MalformedFile(source, "not valid HIF v0.1.0: " + "; ".join(errs), field="hif")


# ---------------------------------------------------------------------------- write
def to_hif(store: KnowledgeStore, edge_ids: Sequence[int] | None = None, *, name: str | None = None) -> dict[str, Any]:
    """The store (or the sub-hypergraph of ``edge_ids`` and their nodes) as a HIF document.

    Output is deterministic: records are sorted by id, so equal stores give equal documents.
    """
    ids = store.all_edge_ids() if edge_ids is None else list(dict.fromkeys(int(e) for e in edge_ids))
    recs = store.edges(ids)
    missing = [e for e in ids if e not in recs]
    if missing:
        raise InvalidInput("edge_ids", f"no hyperedge with id {missing[0]}")
    node_ids = store.all_node_ids() if edge_ids is None else sorted({n for e in recs.values() for n in e.nodes})
    nodes = store.nodes(node_ids)
    key = {i: n.key for i, n in nodes.items()}
    node_rows = []
    for n in sorted(nodes.values(), key=lambda n: n.key):
        attrs: dict[str, Any] = {"label": n.label, "kind": n.kind, "synonyms": list(n.synonyms)}
        if n.smiles:
            attrs["smiles"] = n.smiles
        if n.formula:
            attrs["formula"] = n.formula
        node_rows.append({"node": n.key, "attrs": attrs})
    edge_rows, inc_rows, directed = [], [], False
    for e in sorted(recs.values(), key=lambda e: e.key):
        edge_rows.append(
            {
                "edge": e.key,
                "weight": e.confidence,
                "attrs": {
                    "relation": e.relation,
                    "confidence": e.confidence,  # XGI drops edge weights; attributes survive
                    "attrs": e.attrs,
                    "provenance": [dict(p) for p in e.provenance],
                },
            }
        )
        rows = [(key[n], "tail", "source") for n in e.sources] + [(key[n], "head", "target") for n in e.targets]
        rows += [(key[n], None, "member") for n in e.members]
        directed = directed or bool(e.sources or e.targets)
        for nkey, direction, role in sorted(rows):
            inc = {"edge": e.key, "node": nkey, "attrs": {"role": role}}
            if direction:
                inc["direction"] = direction
            inc_rows.append(inc)
    if directed:
        for inc in inc_rows:
            inc.setdefault("direction", "tail")
    return {
        "network-type": "directed" if directed else "undirected",
        "metadata": {"name": name or "labwright knowledge", "creator": "labwright", "hif_version": HIF_VERSION},
        "nodes": node_rows,
        "edges": edge_rows,
        "incidences": inc_rows,
    }


def write_hif(
    store: KnowledgeStore,
    path: str | Path,
    edge_ids: Sequence[int] | None = None,
    *,
    name: str | None = None,
    call_key: str | None = None,
) -> dict[str, Any]:
    """Write :func:`to_hif` to ``path`` (validated first; the file is replaced atomically).

    ``call_key``, the idempotency key of the governed call writing the file, is stored in the file's metadata
    (``labwright_call``): the effect and the record that this call made it are one atomic rename.
    """
    doc = to_hif(store, edge_ids, name=name)
    if call_key is not None:
        doc["metadata"]["labwright_call"] = call_key
    validate_hif(doc, source=str(path))
    write_file(path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))
    return doc


# ---------------------------------------------------------------------------- read
def read_hif(path: str | Path) -> dict[str, Any]:
    """Parse and validate a HIF file.

    Raises
    ------
    InvalidInput
        The file does not exist.
    MalformedFile
        Not JSON, or not valid HIF (the message names the line or the JSON path).
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("path", f"no such file: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise MalformedFile(str(path), f"not valid JSON: {err.msg}", line=err.lineno, field="hif") from None
    except UnicodeDecodeError as err:
        raise MalformedFile(str(path), f"not UTF-8 text: {err.reason}", field="hif") from None
    validate_hif(doc, source=str(path))
    return doc


def _node_concept(node_id: str | int, attrs: dict[str, Any]) -> Concept:
    key = str(node_id)
    if not key.startswith(("text:", "inchikey:", "formula:", "hif:")):
        key = f"hif:{key}"
    label = str(attrs.get("label") or attrs.get("name") or node_id)
    return Concept(key, label, str(attrs.get("kind") or "concept"), normalise_text(label), attrs.get("smiles"))


def _provenance(raw: Any, where: str) -> Provenance:
    if not isinstance(raw, dict) or not isinstance(raw.get("document_id"), str) or not raw["document_id"]:
        raise MalformedFile(where, "each provenance record needs a non-empty 'document_id'", field="hif")
    locator = raw.get("locator", {})
    if not isinstance(locator, dict):
        raise MalformedFile(where, "provenance 'locator' must be an object", field="hif")
    return Provenance(
        raw["document_id"],
        locator,
        str(raw.get("extractor", "hif-import")),
        str(raw.get("extractor_version", HIF_VERSION)),
        raw.get("created_at"),
    )


def load_hif(
    store: KnowledgeStore, doc: dict[str, Any] | str | Path, *, document_id: str | None = None
) -> dict[str, int]:
    """Add a HIF document (or file) to ``store`` in one transaction; returns counts of what it held.

    Edges without labwright provenance in their ``attrs`` are cited as ``document_id`` (default: the metadata
    name, else ``"hif-import"``) with locator ``{"hif_edge": <id>}``. Edge ids keep their value when the file was
    written by labwright (and no ``document_id`` is given); otherwise they are stored as ``"<document>/<id>"``, so
    two files that both call an edge ``"E1"`` do not merge unrelated edges. Loading the same file again adds nothing.

    Raises
    ------
    MalformedFile
        Invalid HIF or malformed provenance; nothing is written. Edges without incidences are counted
        (``edges_without_incidences``) and skipped.
    InvalidInput
        An edge id is already stored with other nodes or another relation (field ``edge``); nothing is written.
    """
    source = str(doc) if isinstance(doc, (str, Path)) else "<hif>"
    if isinstance(doc, (str, Path)):
        doc = read_hif(doc)
    else:
        validate_hif(doc, source=source)
    meta = doc.get("metadata") or {}
    default_doc = document_id or str(meta.get("name") or "hif-import")
    # Edge ids of our own exports are the store's keys and are kept (exact round trip); ids from other writers
    # ("E1", 0, ...) are only unique within their file, so they are prefixed with the document id.
    own = document_id is None and (meta.get("creator") == "labwright" or _all_ours(doc.get("edges", [])))
    prefix = "" if own else f"{default_doc}/"
    node_attrs = {n["node"]: n.get("attrs") or {} for n in doc.get("nodes", [])}
    edge_info = {e["edge"]: e for e in doc.get("edges", [])}
    members: dict[Any, list[tuple[Any, str]]] = {}
    headed = {inc["edge"] for inc in doc["incidences"] if inc.get("direction") == "head"}
    for inc in doc["incidences"]:
        members.setdefault(inc["edge"], []).append((inc["node"], _role(inc, inc["edge"] in headed)))
    members = {e: list(dict.fromkeys(rows)) for e, rows in members.items()}  # a repeated incidence is one
    # An edge with no incidences is valid HIF (the official test suite has some) but relates nothing: it is counted
    # and not stored, as the store's edges are relations between nodes.
    empty = [e for e in edge_info if e not in members]
    concepts = {
        n: _node_concept(n, node_attrs.get(n, {})) for n in {*node_attrs, *(v for m in members.values() for v, _ in m)}
    }
    with gc_paused(), store.transaction():
        ordered = sorted(concepts.items(), key=lambda kv: kv[1].key)  # ids in key order: deterministic
        ids = store.node_ids([c for _, c in ordered])
        store.put_aliases(
            [(str(s), nid) for (n, _), nid in zip(ordered, ids) for s in node_attrs.get(n, {}).get("synonyms") or []]
        )
        specs: list[EdgeSpec] = []
        for edge, rows in members.items():
            info = edge_info.get(edge, {})
            attrs = info.get("attrs") or {}
            weight = attrs.get("confidence", info.get("weight", 1.0))
            weight = weight if isinstance(weight, (int, float)) and not isinstance(weight, bool) else 1.0
            conf = float(weight) if 0 <= float(weight) <= 1 else 1.0
            provs = attrs.get("provenance") or [
                {
                    "document_id": default_doc,
                    "locator": {"hif_edge": edge},
                    "extractor": "hif-import",
                    "extractor_version": HIF_VERSION,
                }
            ]
            relation = str(attrs.get("relation") or "hif-edge")
            extra = (
                attrs.get("attrs")
                if "relation" in attrs
                else {k: v for k, v in attrs.items() if k not in ("provenance", "confidence")}
            )
            roles = [(concepts[v], r) for v, r in rows]
            specs.extend(
                EdgeSpec(relation, roles, _provenance(p, source), extra or {}, conf, f"{prefix}{edge}") for p in provs
            )
        store.add_edges(specs)
    return {
        "nodes": len(concepts),
        "edges": len(members),
        "incidences": len(doc["incidences"]),
        "edges_without_incidences": len(empty),
    }


def _role(inc: dict[str, Any], edge_has_head: bool) -> str:
    """An incidence's role: our ``attrs.role`` when present (XGI drops it), else from its direction (tail: source,
    head: target) when its edge has a head; an edge with tails only relates nothing to anything, so its nodes are
    members (how a co-occurrence edge reads back after XGI)."""
    role = (inc.get("attrs") or {}).get("role") if isinstance(inc.get("attrs"), dict) else None
    if role in ("source", "target", "member"):
        return role
    if not edge_has_head:
        return "member"
    return {"tail": "source", "head": "target"}.get(inc.get("direction"), "member")


def _all_ours(edges: list[dict[str, Any]]) -> bool:
    """Every edge carries labwright's own attributes (relation and provenance records): its ids are store keys,
    even when another library rewrote the file without our metadata (HyperNetX keeps only the name)."""
    return bool(edges) and all(
        isinstance(e.get("attrs"), dict) and "relation" in e["attrs"] and isinstance(e["attrs"].get("provenance"), list)
        for e in edges
    )


# ---------------------------------------------------------------------------- other libraries
def to_hypernetx(store: KnowledgeStore, edge_ids: Sequence[int] | None = None):
    """A ``hypernetx.Hypergraph`` with edge uids = edge keys, node uids = node keys; edge properties hold
    ``relation`` and ``confidence``, node properties ``label`` and ``kind``."""
    import hypernetx as hnx
    import pandas as pd

    doc = to_hif(store, edge_ids)
    setsystem: dict[str, list[str]] = {}
    for inc in doc["incidences"]:
        setsystem.setdefault(inc["edge"], []).append(inc["node"])
    edge_props = pd.DataFrame(
        [{"uid": e["edge"], "relation": e["attrs"]["relation"], "confidence": e["weight"]} for e in doc["edges"]]
    ).set_index("uid")
    node_props = pd.DataFrame(
        [{"uid": n["node"], "label": n["attrs"]["label"], "kind": n["attrs"]["kind"]} for n in doc["nodes"]]
    ).set_index("uid")
    return hnx.Hypergraph(setsystem, edge_properties=edge_props, node_properties=node_props)


def from_hypernetx(store: KnowledgeStore, hg, *, document_id: str = "hypernetx-import") -> dict[str, int]:
    """Add a ``hypernetx.Hypergraph`` to the store (undirected edges; relation from an edge property
    ``relation`` when present)."""
    incidences = [{"edge": str(e), "node": str(v)} for e, nodes in hg.incidence_dict.items() for v in nodes]
    edges = []
    for e in hg.incidence_dict:
        try:
            relation = hg.edges[e].relation
        except (AttributeError, KeyError):
            relation = None
        attrs = {"relation": str(relation)} if isinstance(relation, str) and relation else {}
        attrs["attrs"] = {}
        edges.append({"edge": str(e), "attrs": attrs})
    return load_hif(
        store, {"network-type": "undirected", "incidences": incidences, "edges": edges}, document_id=document_id
    )


def to_networkx(store: KnowledgeStore, edge_ids: Sequence[int] | None = None):
    """The bipartite incidence graph as ``networkx.Graph``: concept nodes (``bipartite=0``, keyed by node key)
    and hyperedge nodes (``bipartite=1``, keyed ``"edge:<key>"``), linked with a ``role`` attribute."""
    import networkx as nx

    doc = to_hif(store, edge_ids)
    g = nx.Graph()
    for n in doc["nodes"]:
        g.add_node(n["node"], bipartite=0, label=n["attrs"]["label"], kind=n["attrs"]["kind"])
    for e in doc["edges"]:
        g.add_node(f"edge:{e['edge']}", bipartite=1, relation=e["attrs"]["relation"], confidence=e["weight"])
    for inc in doc["incidences"]:
        g.add_edge(f"edge:{inc['edge']}", inc["node"], role=inc["attrs"]["role"])
    return g
