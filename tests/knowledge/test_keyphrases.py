"""PositionRank keyphrases: the scores against PageRank's closed form on a two-word graph, and their use in naming
co-occurrence hyperedges and dropping low-rank candidates (on sentences written for this test, outside the corpus)."""

from __future__ import annotations

import pytest
from labwright.knowledge import KnowledgeStore, ingest_text, keyphrases, offline_extract
from labwright.knowledge._keyphrases import rank_phrases


def test_two_word_graph_matches_pagerank_closed_form():
    # Two linked words a (position 1) and b (position 2): teleport p = (1, 1/2) / 1.5, and with damping d the
    # stationary equations r_a = (1 - d) p_a + d r_b, r_b = (1 - d) p_b + d r_a give r_a = (p_a + d p_b) / (1 + d)
    # (Florescu & Caragea 2017, eq. 1-2, on a graph where each node links only the other). Tolerance 1e-6: PageRank's
    # power iteration stops at networkx's default tol.
    d, pa, pb = 0.85, 2 / 3, 1 / 3
    ranks = rank_phrases([["cerium", "oxide"]])
    assert ranks["cerium"] == pytest.approx((pa + d * pb) / (1 + d), abs=1e-6)
    assert ranks["oxide"] == pytest.approx((pb + d * pa) / (1 + d), abs=1e-6)
    assert rank_phrases([["cerium oxide"]])["cerium oxide"] == pytest.approx(1.0, abs=1e-9)  # word scores sum to 1


def test_a_recurring_concept_outranks_a_late_one_off():
    doc = [
        ["zircon grains", "granite", "lead loss"],
        ["zircon rims", "uranium contents"],
        ["lead loss", "rims", "metamorphic event"],
    ]
    ranks = rank_phrases(doc)
    assert ranks["lead loss"] > ranks["metamorphic event"] and ranks["zircon rims"] > ranks["uranium contents"]
    assert rank_phrases([]) == {}
    text = (
        "Zircon grains record lead loss. Zircon rims carry uranium. Lead loss in the rims dates the metamorphic event."
    )
    ranked = [p.lower() for p, _ in keyphrases(text)]
    assert ranked.count("lead loss") == 1 and ranked.index("lead loss") < ranked.index("metamorphic event")


def test_cooccurrence_is_named_by_its_key_concepts_and_drops_low_rank_candidates(tmp_path):
    text = "Tamoxifen and letrozole are first-line options for hormone receptor positive breast cancer in most cases."
    (event,) = offline_extract(text)
    assert not event.directed
    assert {"Tamoxifen", "letrozole", "hormone receptor positive breast cancer"} <= set(event.source)
    assert not any("cases" in n for n in event.source)  # a one-word filler ranks below half the sentence's mean
    assert event.key_concepts == event.source[:3]
    with KnowledgeStore(tmp_path / "kg.sqlite") as store:
        ingest_text(store, text, "onc", extractor="offline")
        (edge,) = store.edges(store.all_edge_ids()).values()
        assert edge.attrs["key_concepts"] == [
            "first line option",
            "hormone receptor positive breast cancer",
            "letrozole",
        ]
