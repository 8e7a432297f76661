"""LLM extraction (rewrite, two passes, schema, merging) and hypothesis prose against a real local HTTP server speaking
the chat-completions and embeddings protocols."""

from __future__ import annotations

import json
import re

import pytest
from labwright.errors import ExtractionFailed, InvalidInput
from labwright.knowledge import KnowledgeStore, generate_hypotheses, ingest_text, llm_extract
from labwright.knowledge._extract import chunk_text
from labwright.knowledge._merge import merge_names

TEXT = (
    "Cerium oxide nanoparticles scavenge reactive oxygen species (ROS). "
    "Chitosan coatings on PCL scaffolds carry the nanoparticles."
)


def kind(body: dict) -> str:
    """Which step of the pipeline a chat request is: the rewrite (plain text), extraction pass 1 or pass 2."""
    if "response_format" not in body:
        return "rewrite"
    return "pass2" if "Events already extracted" in body["messages"][-1]["content"] else "pass1"


def events_reply(body: dict) -> str:
    """Answer like a model would: the rewrite echoes the chunk; pass 1 gives events for whatever entities the text
    mentions; pass 2 finds nothing missing."""
    chunk = body["messages"][-1]["content"]
    if kind(body) == "rewrite":
        return chunk.strip("`")
    if kind(body) == "pass2":
        return json.dumps({"events": []})
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
    assert [kind(r) for r in server.requests] == ["rewrite", "pass1", "pass2"]  # one chunk: the paper's three calls
    assert report.tokens == 3 * 15 and report.edges_created == 2
    request = server.requests[1]
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
    assert [kind(r) for r in server.requests] == ["rewrite", "pass1", "pass2"] * 2
    spans = sorted(
        {json.dumps(p["locator"]["chunk"]) for e in store.edges(store.all_edge_ids()).values() for p in e.provenance}
    )
    assert spans == ["0", "1"]


def test_unusable_replies_raise_and_write_nothing(tmp_path, chat_server):
    server = chat_server(lambda body: "Sure! Here are the events: none.")
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    with pytest.raises(ExtractionFailed, match="not JSON"):
        ingest_text(store, TEXT, "paper-3", extractor="llm")
    assert [kind(r) for r in server.requests] == ["rewrite", "pass1", "pass1"]  # asked once more before giving up
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


def test_pipeline_rewrites_then_extracts_in_two_passes_and_merges_names_by_embeddings(tmp_path, chat_server):
    """The HyperGraphReasoning pipeline against the local server: pass 1 sees the rewrite, pass 2 sees pass 1's
    events and adds what it missed, and names whose embeddings agree (cosine >= 0.93) become one node."""
    rewritten = "Nanoceria removes reactive oxygen species. CeO2 nanoparticles are cerium oxide nanoparticles."

    def reply(body: dict) -> str:
        if kind(body) == "rewrite":
            return rewritten
        if kind(body) == "pass1":
            assert body["messages"][-1]["content"] == rewritten
            return json.dumps({"events": [{"source": ["nanoceria"], "relation": "removes", "target": ["ROS"]}]})
        assert '"removes"' in body["messages"][-1]["content"]  # pass 2 is told what pass 1 found
        event = {"source": ["cerium oxide nanoparticles"], "relation": "inhibits", "target": ["lipid peroxidation"]}
        return json.dumps({"events": [event]})

    # a synonym-aware embedding: the two names of ceria nanoparticles share a direction, everything else its own
    axes = {"nanoceria": 0, "cerium oxide nanoparticles": 0, "ROS": 1, "lipid peroxidation": 2}

    def embed(text: str) -> list[float]:
        v = [0.0] * 4
        v[axes.get(text, 3)] = 1.0
        return v

    server = chat_server(reply, embed)
    text = "Ceria nanoparticles scavenge ROS. " * 40  # > 1,000 characters: still one 2,500-character chunk
    events, tokens = llm_extract(text)
    assert [kind(r) for r in server.requests] == ["rewrite", "pass1", "pass2"] and tokens == 45
    assert len(server.embedding_requests) == 1
    assert sorted(server.embedding_requests[0]["input"]) == sorted(axes)
    by_relation = {e.relation: e for e in events}
    assert by_relation["removes"].source == by_relation["inhibits"].source  # one name for both mentions
    assert by_relation["inhibits"].sign == by_relation["removes"].sign == "-"  # signs read off the verbs
    assert all((e.start, e.end) == (0, len(text.rstrip())) for e in events)  # cites the original chunk


def test_chunks_are_at_most_2500_characters_of_whole_sentences():
    text = " ".join(f"Zinc ions inhibit variant {i} of the enzyme in buffer." for i in range(200))
    spans = chunk_text(text)
    assert len(spans) > 1 and all(b - a <= 2500 for a, b in spans)
    assert all(text[b - 1] == "." for _, b in spans)


def test_offline_merging_uses_character_ngram_tfidf():
    mapping, method = merge_names(["chitosan nanoparticles", "chitosan nanoparticle", "chitosan", "collagen"])
    assert method == "tfidf"
    assert mapping["chitosan nanoparticles"] == mapping["chitosan nanoparticle"] == "chitosan nanoparticle"
    assert len({mapping["chitosan"], mapping["collagen"], mapping["chitosan nanoparticle"]}) == 3
    with pytest.raises(InvalidInput, match="0.9, 0.95"):
        merge_names(["a", "b"], threshold=0.5)
