"""LLM extraction and hypothesis prose against a real local HTTP server speaking the chat-completions protocol."""

from __future__ import annotations

import json
import re

import pytest
from labwright.errors import ExtractionFailed, InvalidInput
from labwright.knowledge import KnowledgeStore, generate_hypotheses, ingest_text

TEXT = (
    "Cerium oxide nanoparticles scavenge reactive oxygen species (ROS). "
    "Chitosan coatings on PCL scaffolds carry the nanoparticles."
)


def events_reply(body: dict) -> str:
    """Answer like a model would: events for whatever entities the chunk mentions."""
    chunk = body["messages"][-1]["content"]
    events = []
    if "Cerium" in chunk:
        events.append({"source": ["nanoceria"], "relation": "scavenges", "target": ["ROS"]})
    if "Chitosan" in chunk:
        events.append(
            {"source": ["chitosan coating", "PCL scaffolds"], "relation": "carries", "target": ["cerium oxide"]}
        )
    return json.dumps({"events": events})


def test_llm_extraction_uses_the_json_schema_and_records_chunk_provenance(tmp_path, chat_server):
    server = chat_server(events_reply)
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    report = ingest_text(store, TEXT, "paper-1", extractor="auto")
    assert report.extractor == "llm:local-test-model"
    assert report.tokens == 15 and report.edges_created == 2
    request = server.requests[0]
    assert request["model"] == "local-test-model"
    fmt = request["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "events"
    assert fmt["json_schema"]["schema"]["required"] == ["events"]
    edges = store.edges(store.all_edge_ids())
    for e in edges.values():
        (prov,) = e.provenance
        assert prov["extractor"] == "llm:local-test-model" and prov["document_id"] == "paper-1"
        assert TEXT[prov["locator"]["start"] : prov["locator"]["end"]] == TEXT  # one chunk holds the whole text
    # synonyms from the model are normalised onto the same nodes as elsewhere
    assert store.resolve("cerium oxide") == store.resolve("nanoceria")
    # an abbreviation the document defines is expanded in the model's events too
    assert store.resolve("reactive oxygen species") == store.resolve("ROS")


def test_small_chunks_give_one_request_per_chunk(tmp_path, chat_server):
    server = chat_server(events_reply)
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    from labwright.knowledge._ingest import Document, ingest_documents

    ingest_documents(store, [Document("paper-2", TEXT)], extractor="llm", max_chars=70)
    assert len(server.requests) == 2
    spans = sorted(
        {json.dumps(p["locator"]["chunk"]) for e in store.edges(store.all_edge_ids()).values() for p in e.provenance}
    )
    assert spans == ["0", "1"]


def test_unusable_replies_raise_and_write_nothing(tmp_path, chat_server):
    server = chat_server(lambda body: "Sure! Here are the events: none.")
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    with pytest.raises(ExtractionFailed, match="not JSON"):
        ingest_text(store, TEXT, "paper-3", extractor="llm")
    assert len(server.requests) == 2  # asked once more before giving up
    chat_server(lambda body: json.dumps({"events": [{"source": "x", "relation": "r", "target": []}]}))
    with pytest.raises(ExtractionFailed, match="schema"):
        ingest_text(store, TEXT, "paper-3", extractor="llm")
    assert store.counts()["edges"] == 0 and store.counts()["documents"] == 0


def test_llm_extractor_without_endpoint_is_invalid_input(tmp_path):
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    with pytest.raises(InvalidInput, match="no LLM is configured"):
        ingest_text(store, TEXT, "paper-4", extractor="llm")


def test_hypothesis_prose_keeps_only_cited_sentences(corpus_store, chat_server):
    def prose(body: dict) -> str:
        evidence = body["messages"][-1]["content"]
        n = len(re.findall(r"^\[E\d+\]", evidence, flags=re.M))
        return (
            f"Ceria scavenges reactive oxygen species in chitosan [E1]. Chitosan coats PCL scaffolds [E{n}]. "
            "This will certainly cure osteoporosis. Ceria also binds collagen [E99]."
        )

    chat_server(prose)
    out = generate_hypotheses(corpus_store, "cerium oxide", "PCL scaffolds", s=1, k=1)
    assert out.llm_used and out.tokens == 15
    (h,) = out.hypotheses
    assert h.dropped_sentences == 2
    assert "osteoporosis" not in h.prose and "[E99]" not in h.prose
    assert len(h.prose_claims) == 2
    path_edges = {e.id for e in h.path.edges}
    for claim in h.prose_claims:
        assert claim.citations and set(claim.edge_ids) <= path_edges
