"""HIF v0.1.0: offline validation, round trip, and interchange with HyperNetX and networkx."""

from __future__ import annotations

import json
from pathlib import Path

import fastjsonschema
import hypernetx as hnx
import hypernetx.hif as hnx_hif
import pytest
from labwright.errors import InvalidInput, MalformedFile
from labwright.knowledge import (
    KnowledgeStore,
    from_hypernetx,
    hif_schema,
    load_hif,
    read_hif,
    to_hif,
    to_hypernetx,
    to_networkx,
    validate_hif,
    write_hif,
)


class _SchemaResponse:
    """What ``requests.get(schema_url)`` returns inside HyperNetX, served from our shipped copy (tests are offline)."""

    text = json.dumps(hif_schema())


@pytest.fixture
def offline_hypernetx(monkeypatch):
    monkeypatch.setattr(hnx_hif.requests, "get", lambda url, *a, **k: _SchemaResponse())


def test_round_trip_through_a_file_is_exact(store_at, corpus_store, tmp_path):
    path = tmp_path / "kg.hif.json"
    doc = write_hif(corpus_store, path)
    assert doc["network-type"] == "directed"
    assert len(doc["edges"]) == corpus_store.counts()["edges"]
    fresh = KnowledgeStore(store_at("copy"))
    counts = load_hif(fresh, path)
    assert counts["edges"] == len(doc["edges"])
    assert to_hif(fresh) == doc == json.loads(path.read_text())
    # provenance survives the trip, so hypotheses from the copy still cite passages
    edges = fresh.edges(fresh.all_edge_ids())
    assert all(e.provenance and e.provenance[0]["document_id"] for e in edges.values())
    # loading the same file again changes nothing (idempotent)
    load_hif(fresh, path)
    assert to_hif(fresh) == doc


def test_our_hif_file_loads_in_hypernetx(corpus_store, tmp_path, offline_hypernetx):
    path = tmp_path / "kg.hif.json"
    doc = write_hif(corpus_store, path)
    hg = hnx_hif.from_hif(filename=str(path))
    assert isinstance(hg, hnx.Hypergraph)  # from_hif returns None when its validation fails
    ours = {(i["edge"], i["node"]) for i in doc["incidences"]}
    theirs = {(str(e), str(v)) for e, nodes in hg.incidence_dict.items() for v in nodes}
    assert theirs == ours
    assert len(hg.nodes) == len(doc["nodes"])


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_hypernetx_hif_output_loads_here(store_at, offline_hypernetx):
    hg = hnx.Hypergraph({"E1": ["a", "b", "c"], "E2": ["b", "c", "d"], "E3": ["d", "e"]})
    doc = hnx_hif.to_hif(hg)
    assert doc is not None
    validate_hif(doc)
    store = KnowledgeStore(store_at("kg"))
    load_hif(store, doc, document_id="hnx-example")
    assert store.counts()["edges"] == 3 and store.counts()["incidences"] == 8
    back = to_hypernetx(store)
    assert sorted(len(v) for v in back.incidence_dict.values()) == [2, 3, 3]


def test_hypernetx_and_networkx_conversions(store_at, corpus_store, tmp_path):
    hg = to_hypernetx(corpus_store)
    counts = corpus_store.counts()
    assert len(hg.edges) == counts["edges"] and len(hg.nodes) == counts["nodes"]
    other = KnowledgeStore(store_at("from-hnx"))
    from_hypernetx(other, hg)
    assert other.counts()["incidences"] == counts["incidences"]
    g = to_networkx(corpus_store)
    concept = [n for n, d in g.nodes(data=True) if d["bipartite"] == 0]
    hyper = [n for n, d in g.nodes(data=True) if d["bipartite"] == 1]
    assert len(concept) == counts["nodes"] and len(hyper) == counts["edges"]
    assert g.number_of_edges() == counts["incidences"]
    assert {d["role"] for *_, d in g.edges(data=True)} <= {"source", "target", "member"}


BAD_DOCS = [
    ({"nodes": []}, "missing required key 'incidences'"),
    ({"incidences": [{"edge": 1}]}, "$.incidences[0]: missing required key 'node'"),
    ({"incidences": [{"edge": 1, "node": 2, "direction": "up"}]}, "$.incidences[0].direction"),
    ({"incidences": [{"edge": 1, "node": 2, "colour": "red"}]}, "unexpected key 'colour'"),
    ({"incidences": [{"edge": 1.5, "node": 2}]}, "$.incidences[0].edge: expected string or integer"),
    ({"incidences": [], "network-type": "hyper"}, "$.network-type"),
    ({"incidences": [], "type": "undirected"}, "unexpected key 'type'"),  # HypergraphX's spelling
    ({"incidences": [{"edge": 1, "node": 2, "weight": "heavy"}]}, "weight: expected number"),
    ([1, 2], "expected object"),
]


@pytest.mark.parametrize(("doc", "message"), BAD_DOCS)
def test_malformed_hif_is_rejected_with_a_json_path(doc, message):
    with pytest.raises(MalformedFile) as err:
        validate_hif(doc)
    assert message in str(err.value)
    assert err.value.field == "hif"


def test_validator_agrees_with_fastjsonschema_on_the_shipped_schema():
    reference = fastjsonschema.compile(hif_schema())
    good = [
        {"incidences": []},
        {
            "incidences": [{"edge": "e", "node": 3, "weight": 0.5, "direction": "head", "attrs": {}}],
            "network-type": "asc",
            "metadata": {"x": 1},
        },
    ]
    for doc in good:
        validate_hif(doc)
        reference(doc)
    for doc, _ in BAD_DOCS:
        with pytest.raises(fastjsonschema.JsonSchemaException):
            reference(doc)


def test_malformed_files_and_edges_write_nothing(store_at, tmp_path):
    store = KnowledgeStore(store_at("kg"))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"incidences": [\n  {"edge": 1, "node": 2},\n  oops\n]}')
    with pytest.raises(MalformedFile, match="line 3"):
        read_hif(bad_json)
    with pytest.raises(InvalidInput, match="no such file"):
        read_hif(tmp_path / "missing.json")
    # an edge without incidences is valid HIF (the official suite has some): counted, not stored
    doc = {"incidences": [{"edge": "a", "node": 1}], "edges": [{"edge": "a"}, {"edge": "b"}]}
    other = KnowledgeStore(store_at("other"))
    assert load_hif(other, doc)["edges_without_incidences"] == 1 and other.counts()["edges"] == 1
    bad_prov = {
        "incidences": [{"edge": "a", "node": 1}, {"edge": "c", "node": 2}],
        "edges": [{"edge": "c", "attrs": {"relation": "r", "provenance": [{"locator": {}}]}}],
    }
    with pytest.raises(MalformedFile, match="document_id"):
        load_hif(store, bad_prov)
    assert store.counts() == {"nodes": 0, "edges": 0, "incidences": 0, "documents": 0, "provenance": 0}


def test_foreign_edge_ids_are_kept_apart_per_document(store_at):
    store = KnowledgeStore(store_at("kg"))

    # two files written elsewhere, both naming their only edge "E1"
    def doc(name: str, *nodes: str) -> dict:
        return {"incidences": [{"edge": "E1", "node": n} for n in nodes], "metadata": {"name": name}}

    a, b = doc("a", "chitosan", "genipin"), doc("b", "collagen", "silk")
    load_hif(store, a)
    load_hif(store, b)
    assert store.counts()["edges"] == 2
    load_hif(store, a)  # the same file again adds nothing
    assert store.counts()["edges"] == 2 and store.counts()["provenance"] == 2
    before = to_hif(store)
    clash = doc("a", "gelatin")
    with pytest.raises(InvalidInput, match="already in the store") as err:
        load_hif(store, clash)
    assert err.value.field == "edge"
    assert to_hif(store) == before


def _mixed(corpus_store) -> None:
    kinds = {bool(e.members) for e in corpus_store.edges(corpus_store.all_edge_ids()).values()}
    assert kinds == {True, False}, "the corpus store mixes directed and co-occurrence edges"


def test_xgi_reads_and_writes_back_a_mixed_store_exactly(store_at, corpus_store, tmp_path):
    xgi = pytest.importorskip("xgi")
    _mixed(corpus_store)
    path = tmp_path / "kg.hif.json"
    doc = write_hif(corpus_store, path)
    hg = xgi.read_hif(path)  # needs a direction on every incidence of a directed network
    assert isinstance(hg, xgi.DiHypergraph) and hg.num_edges == len(doc["edges"])
    assert hg.num_nodes == len(doc["nodes"])
    back = tmp_path / "xgi.hif.json"
    xgi.write_hif(hg, back)
    fresh = KnowledgeStore(store_at("copy"))
    load_hif(fresh, back)
    assert to_hif(fresh) == doc  # roles, confidences, provenance and ids all survive XGI


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_hypernetx_reads_and_writes_back_a_mixed_store_exactly(store_at, corpus_store, tmp_path, offline_hypernetx):
    _mixed(corpus_store)
    path = tmp_path / "kg.hif.json"
    doc = write_hif(corpus_store, path)
    hg = hnx_hif.from_hif(filename=str(path))
    out = hnx_hif.to_hif(hg)  # HyperNetX 2.4 rejects directions other than head/tail here
    assert out is not None
    validate_hif(out)
    fresh = KnowledgeStore(store_at("copy"))
    load_hif(fresh, out)
    assert to_hif(fresh) == doc


HIF_SUITE = sorted((Path(__file__).parent / "data" / "hif-standard").glob("*.json"))


def test_the_official_suite_is_shipped():
    # tests/test_files/HIF-compliant of github.com/pszufe/HIF-standard (MIT licence, copied with its LICENSE)
    assert len(HIF_SUITE) == 15 and (HIF_SUITE[0].parent / "LICENSE").is_file()


@pytest.mark.parametrize("path", HIF_SUITE, ids=lambda p: p.stem)
def test_every_official_compliant_file_loads(path, tmp_path):
    doc = json.loads(path.read_text())
    validate_hif(doc)  # the schema accepts it
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    counts = load_hif(store, path)
    edges = {i["edge"] for i in doc["incidences"]}
    assert counts["edges"] == len(edges) == store.counts()["edges"]
    assert counts["edges_without_incidences"] == len({e["edge"] for e in doc.get("edges", [])} - edges)
    nodes = {n["node"] for n in doc.get("nodes", [])} | {i["node"] for i in doc["incidences"]}
    assert store.counts()["nodes"] == len({str(n) for n in nodes})
    for e in store.edges(store.all_edge_ids()).values():
        assert e.provenance and e.provenance[0]["document_id"]
