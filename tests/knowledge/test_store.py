"""Store, normalisation and ingestion: provenance, idempotency, all-or-nothing writes, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from labwright.errors import InvalidInput, InvalidSmiles, MalformedFile, NotFound
from labwright.knowledge import (
    KnowledgeStore,
    Provenance,
    ingest_documents,
    ingest_events,
    ingest_text,
    normalise_concept,
    normalise_text,
    read_corpus,
    read_events,
)
from labwright.knowledge._extract import OFFLINE_EXTRACTOR, OFFLINE_VERSION

from .conftest import dump_rows

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus" / "passages.jsonl"


def dump(store: KnowledgeStore) -> dict[str, list[tuple]]:
    """Every row of the store (independent connection, so uncommitted writes would be invisible)."""
    return dump_rows(store.path)


def test_shipped_corpus_ingests_offline_with_citable_provenance(corpus_store):
    docs = {d.id: d.text for d in read_corpus(CORPUS)}
    assert len(docs) >= 30
    counts = corpus_store.counts()
    assert counts["documents"] == len(docs)
    assert counts["edges"] > 50 and counts["nodes"] > 80
    edges = corpus_store.edges(corpus_store.all_edge_ids())
    for e in edges.values():
        assert e.provenance, f"edge {e.id} has no provenance"
        for p in e.provenance:
            assert p["extractor"] == OFFLINE_EXTRACTOR and p["extractor_version"] == OFFLINE_VERSION
            text = docs[p["document_id"]]
            span = text[p["locator"]["start"] : p["locator"]["end"]]
            assert span.strip(), p
        # the cited span of the first record is the sentence the edge was read from
        first = e.provenance[0]
        assert docs[first["document_id"]][first["locator"]["start"] : first["locator"]["end"]] == e.attrs["evidence"]


def test_reingesting_identical_text_adds_nothing(corpus_store):
    before = dump(corpus_store)
    report = ingest_documents(corpus_store, read_corpus(CORPUS), extractor="offline")
    assert set(report.documents.values()) == {"unchanged"}
    assert report.edges_created == 0 and report.provenance_added == 0
    assert dump(corpus_store) == before


def test_same_events_twice_are_stored_once(store_at):
    store = KnowledgeStore(store_at("kg"))
    events = [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"], "document": "d1"}]
    ingest_events(store, events)
    second = ingest_events(store, events)
    assert second.edges_created == 0 and second.provenance_added == 0
    assert store.counts()["edges"] == 1 and store.counts()["provenance"] == 1
    # the same assertion from another document is one edge with two citations
    ingest_events(store, [{**events[0], "document": "d2"}])
    assert store.counts()["edges"] == 1 and store.counts()["provenance"] == 2


def snapshot(store: KnowledgeStore) -> dict[str, tuple]:
    """Store content by edge key, independent of row ids and timestamps."""
    recs = store.edges(store.all_edge_ids())
    keys = {i: n.key for i, n in store.nodes(store.all_node_ids()).items()}
    return {
        e.key: (
            e.relation,
            e.confidence,
            sorted(keys[n] for n in e.sources),
            sorted(keys[n] for n in e.targets),
            sorted(keys[n] for n in e.members),
            sorted((p["document_id"], json.dumps(p["locator"])) for p in e.provenance),
        )
        for e in recs.values()
    }


def test_one_batch_stores_what_one_event_at_a_time_stores(store_at):
    def ev(src, rel, tgt, doc, line, conf=1.0):
        return {
            "source": src,
            "relation": rel,
            "target": tgt,
            "document": doc,
            "locator": {"line": line},
            "confidence": conf,
        }

    events = [
        ev(["EGF"], "binds", ["EGFR"], "d1", 1, 0.5),
        ev(["EGF"], "binds", ["EGFR"], "d1", 1, 0.5),  # the same record again
        ev(["EGFR"], "binds", ["EGF"], "d2", 7, 0.9),  # the other direction is another edge
        ev(["EGF"], "binds", ["EGFR"], "d2", 3, 0.8),  # a second citation raises the confidence
        ev(["EGFR", "PI3K"], "activates", ["Akt"], "d1", 2),
        ev(["Akt", "mTOR"], "co-occurs with", [], "d3", 1),
    ]
    batch, single = KnowledgeStore(store_at("batch")), KnowledgeStore(store_at("single"))
    report = ingest_events(batch, events)
    assert (report.events, report.edges_created, report.provenance_added) == (6, 4, 5)
    for e in events:
        ingest_events(single, [e])
    assert snapshot(batch) == snapshot(single)
    assert batch.counts() == single.counts()
    egf = snapshot(batch)
    assert sorted(v[1] for v in egf.values() if v[0] == "binds") == [0.8, 0.9]


def test_index_follows_commits_and_ignores_rolled_back_writes(store_at):
    store = KnowledgeStore(store_at("kg"))
    ingest_events(store, [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"], "document": "d"}])
    assert store.index().n_edges_total == 1
    pair = [(normalise_concept("Raf"), "source"), (normalise_concept("MEK"), "target")]
    with pytest.raises(RuntimeError, match="abort"):
        with store.transaction():
            store.add_edge("phosphorylates", pair, Provenance("d", {"line": 2}, "test", "1"))
            assert store.index().n_edges_total == 2  # the open transaction sees its own write
            raise RuntimeError("abort")
    assert store.index().n_edges_total == 1
    other = KnowledgeStore(store_at("kg"))  # a second connection (another tool call) writes
    ingest_events(other, [{"source": ["MEK"], "relation": "phosphorylates", "target": ["ERK"], "document": "e"}])
    assert store.index().n_edges_total == 2
    other.close()


def test_long_lived_store_sees_nodes_removed_by_another_connection(store_at):
    path = store_at("kg")
    first = KnowledgeStore(path)
    ingest_text(
        first, "Chitosan improves the hydrophilicity of polycaprolactone scaffolds.", "doc", extractor="offline"
    )
    other = KnowledgeStore(path)  # replaces the document, which deletes the nodes only it mentioned
    ingest_text(other, "Genipin crosslinks collagen.", "doc", extractor="offline")
    # `first` cached the id of 'hydrophilicity'; reusing it would point an incidence at a deleted node
    ingest_events(first, [{"source": ["hydrophilicity"], "relation": "of", "target": ["chitosan"], "document": "x"}])
    assert first.resolve("hydrophilicity") and first.counts()["edges"] == 2
    other.close()


def test_a_copied_store_file_gets_its_own_index(tmp_path):
    a = KnowledgeStore(tmp_path / "a.sqlite")
    ingest_events(a, [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"], "document": "d"}])
    a.close()
    shutil.copy(tmp_path / "a.sqlite", tmp_path / "b.sqlite")  # same store id, same revision
    a, b = KnowledgeStore(tmp_path / "a.sqlite"), KnowledgeStore(tmp_path / "b.sqlite")
    ingest_events(a, [{"source": ["Raf"], "relation": "phosphorylates", "target": ["MEK"], "document": "d"}])
    ingest_events(b, [{"source": ["PI3K", "Akt", "mTOR"], "relation": "co-occurs with", "document": "e"}])
    assert a.revision() == b.revision()
    assert a.index().n_nodes_total == 4 and b.index().n_nodes_total == 5


def test_changed_document_replaces_what_was_extracted_from_it(store_at):
    store = KnowledgeStore(store_at("kg"))
    text = "Chitosan improves the hydrophilicity of polycaprolactone scaffolds."
    ingest_text(store, text, "doc", extractor="offline")
    assert store.resolve("hydrophilicity")
    report = ingest_text(store, "Genipin crosslinks collagen.", "doc", extractor="offline")
    assert report.documents == {"doc": "changed"}
    with pytest.raises(NotFound):
        store.resolve("hydrophilicity")
    assert store.counts()["edges"] == 1


def test_failed_event_late_in_batch_leaves_store_unchanged(store_at):
    store = KnowledgeStore(store_at("kg"))
    ingest_events(store, [{"source": ["Raf"], "relation": "phosphorylates", "target": ["MEK"], "document": "k"}])
    before, rev = dump(store), store.revision()
    batch = [
        {"source": [f"kinase {i}"], "relation": "phosphorylates", "target": [f"substrate {i}"], "document": "bulk"}
        for i in range(200)
    ]
    batch.append({"source": ["MEK"], "relation": "phosphorylates", "target": ["ERK"], "confidence": 1.7})
    with pytest.raises(InvalidInput) as err:
        ingest_events(store, batch)
    assert err.value.field == "events.200.confidence"
    assert dump(store) == before and store.revision() == rev
    # the store stays usable and consistent after the rollback
    ingest_events(store, batch[:3])
    assert store.counts()["edges"] == 4


def test_failure_injected_mid_document_ingest_rolls_back(store_at, monkeypatch):
    store = KnowledgeStore(store_at("kg"))
    before = dump(store)
    real = KnowledgeStore.add_edges
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):  # one call per document: fail at the 20th, after 19 were written
        calls["n"] += 1
        if calls["n"] == 20:
            raise OSError("disk full (injected)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(KnowledgeStore, "add_edges", flaky)
    with pytest.raises(OSError, match="injected"):
        ingest_documents(store, read_corpus(CORPUS), extractor="offline")
    assert calls["n"] == 20
    assert dump(store) == before
    monkeypatch.setattr(KnowledgeStore, "add_edges", real)
    ingest_documents(store, read_corpus(CORPUS), extractor="offline")  # nothing half-written blocks a retry
    assert store.counts()["documents"] >= 30


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_invalid_input(store_at, text):
    store = KnowledgeStore(store_at("kg"))
    with pytest.raises(InvalidInput) as err:
        ingest_text(store, text, "doc")
    assert err.value.field == "text"
    assert store.counts()["documents"] == 0


def test_bad_events_name_the_field(store_at):
    store = KnowledgeStore(store_at("kg"))
    cases = [
        ({"source": [], "relation": "binds", "target": ["x"], "document": "d"}, "events.0.source"),
        ({"source": ["a"], "relation": "  ", "document": "d"}, "events.0.relation"),
        ({"source": ["a"], "relation": "r", "document": "d", "colour": "red"}, "events.0.colour"),
        ({"source": ["a"], "relation": "r"}, "events.0.document"),
        ({"source": [{"name": "x", "smiles": "C1CC"}], "relation": "r", "document": "d"}, "events.0.source.0"),
        ("not an event", "events.0"),
    ]
    for event, field in cases:
        with pytest.raises(InvalidInput) as err:
            ingest_events(store, [event])
        assert err.value.field == field, (event, err.value)
    assert store.counts()["edges"] == 0


def test_molecules_are_keyed_by_inchikey_and_text_is_normalised():
    ec = normalise_concept("ethylene carbonate")
    assert ec.kind == "molecule" and ec.key == "inchikey:KMTRUDSVKNLOMY-UHFFFAOYSA-N"
    # abbreviations are resolved only where a document defines them, never from a global table
    assert normalise_concept("EC").key == "text:ec" and normalise_concept("DEC").key == "text:dec"
    assert normalise_concept("anything", smiles="O=C1OCCO1").key == ec.key  # another SMILES of the same molecule
    assert normalise_concept("Ceria").key == normalise_concept("cerium oxide").key
    assert normalise_text("  Polycaprolactone  Scaffolds ") == "polycaprolactone scaffold"
    assert normalise_text("PCL scaffolds") == "pcl scaffold"
    assert normalise_text("Reactive-Oxygen  species") == "reactive oxygen species"
    assert normalise_text("Mesenchymal stem cells") == "mesenchymal stem cell"
    assert normalise_concept("chitosan").key == "text:chitosan"
    with pytest.raises(InvalidSmiles, match="unclosed ring"):
        normalise_concept("x", smiles="C1CC")
    with pytest.raises(InvalidInput):
        normalise_concept(" -- ")


def test_unknown_concept_is_not_found_with_suggestions(corpus_store):
    assert corpus_store.resolve("PCL") == corpus_store.resolve("poly(caprolactone)")
    with pytest.raises(NotFound, match="close: .*chitosan"):
        corpus_store.resolve("chitosane")
    with pytest.raises(InvalidInput):
        corpus_store.resolve("")


def test_events_from_jsonl_and_csv_files(store_at, tmp_path):
    jl = tmp_path / "events.jsonl"
    jl.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {"source": ["EGFR"], "relation": "activates", "target": ["PI3K"]},
                {
                    "source": [{"name": "LiPF6", "smiles": "[Li+].F[P-](F)(F)(F)(F)F"}, "water"],
                    "relation": "reacts with",
                    "target": ["HF"],
                    "confidence": 0.9,
                    "document": "elec-06",
                },
            ]
        )
        + "\n"
    )
    csv = tmp_path / "events.csv"
    csv.write_text("source,relation,target,confidence,document\nRaf;Ras,phosphorylates,MEK,0.7,kin-02\n")
    store = KnowledgeStore(store_at("kg"))
    ingest_events(store, read_events(jl), document_id="events.jsonl")
    ingest_events(store, read_events(csv), document_id="events.csv")
    assert store.counts()["edges"] == 3
    lipf6 = store.nodes([store.resolve("lithium hexafluorophosphate")])
    assert next(iter(lipf6.values())).kind == "molecule"
    prov = store.edges(store.all_edge_ids())
    locs = sorted(json.dumps(p["locator"], sort_keys=True) for e in prov.values() for p in e.provenance)
    assert '{"file": "events.csv", "line": 2}' in locs and '{"file": "events.jsonl", "line": 1}' in locs


def test_malformed_events_file_names_the_line_and_writes_nothing(store_at, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": ["a"], "relation": "r", "target": ["b"]}\n{"source": ["c"], oops}\n')
    store = KnowledgeStore(store_at("kg"))
    with pytest.raises(MalformedFile, match="line 2"):
        ingest_events(store, read_events(bad), document_id="bad")
    assert store.counts()["edges"] == 0
    csv = tmp_path / "bad.csv"
    csv.write_text("subject,relation\nx,y\n")
    with pytest.raises(MalformedFile, match="missing column"):
        ingest_events(store, read_events(csv), document_id="bad")


def test_a_short_name_resolves_to_the_one_noun_phrase_that_contains_it(store_at):
    store = KnowledgeStore(store_at("kg"))
    events = [
        {"source": ["hydrogen peroxide"], "relation": "oxidises", "target": ["PCL scaffolds"], "document": "d1"},
        {"source": ["ceria nanoparticles"], "relation": "scavenge", "target": ["hydrogen peroxide"], "document": "d1"},
        {"source": ["bone scaffold"], "relation": "contains", "target": ["hydroxyapatite"], "document": "d2"},
    ]
    ingest_events(store, events)
    pcl = store.resolve("PCL")  # the modifier of exactly one stored phrase
    assert (
        store.nodes([pcl])[pcl].key == store.nodes([store.resolve("PCL scaffolds")])[store.resolve("PCL scaffolds")].key
    )
    assert store.resolve("peroxide") == store.resolve("hydrogen peroxide")  # the head noun of exactly one phrase
    with pytest.raises(NotFound, match="several concepts.*bone scaffold.*pcl scaffold"):
        store.resolve("scaffold")  # two phrases end in it: refused by name, never guessed
    assert store.resolve("oxide") == store.resolve("cerium oxide")  # "ceria nanoparticles", by the synonym table
    with pytest.raises(NotFound, match="no node named 'hydroxy'"):
        store.resolve("hydroxy")  # not a whole word of any name ("hydroxyapatite" does not count)
    with pytest.raises(NotFound):
        store.resolve("%")  # LIKE wildcards are literal


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"source": ["IRS1", "\ud800"], "relation": "binds", "target": ["PI3K"]}, "events.1.source.1"),
        ({"source": ["IRS1"], "relation": "binds\udfff", "target": ["PI3K"]}, "events.1.relation"),
        ({"source": ["IRS1"], "relation": "binds", "target": ["PI3K"], "document": "d\ud800"}, "events.1.document"),
    ],
)
def test_a_lone_surrogate_in_an_event_is_refused_by_field_and_nothing_is_written(tmp_path, event, field):
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    good = {"source": ["insulin"], "relation": "activates", "target": ["insulin receptor"]}
    with pytest.raises(InvalidInput) as err:
        ingest_events(store, [good, event], document_id="d")
    assert err.value.field == field and "surrogate" in str(err.value)
    assert store.counts()["edges"] == 0
