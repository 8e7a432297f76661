"""Hypotheses that respect the graph: direction and composed sign along the path, a degree-normalised hub penalty,
and a mechanism step per hop citing its edge."""

from __future__ import annotations

import pytest
from labwright.knowledge import KnowledgeStore, generate_hypotheses, ingest_events


def ev(src, rel, tgt, doc):
    return {"source": [src], "relation": rel, "target": [tgt], "document": doc}


@pytest.fixture
def store(store_at):
    s = KnowledgeStore(store_at("kg"))
    events = [
        # a specific chain: imatinib inhibits BCR-ABL, BCR-ABL inhibits apoptosis (so imatinib should raise it)
        ev("imatinib", "inhibits", "BCR-ABL", "p1"),
        ev("BCR-ABL", "inhibits", "apoptosis", "p2"),
        # the same length through a hub: ATP is in many unrelated edges
        ev("imatinib", "binds", "ATP", "p3"),
        ev("ATP", "activates", "apoptosis", "p4"),
        *[ev("ATP", "activates", f"kinase {i}", f"h{i}") for i in range(30)],
        # a path against an edge's direction: caspase-3 is a target of both
        ev("imatinib", "activates", "caspase-3", "p5"),
        ev("apoptosis", "activates", "caspase-3", "p6"),
    ]
    ingest_events(s, events)
    yield s
    s.close()


def test_hub_path_ranks_below_the_specific_one_and_signs_compose(store):
    out = generate_hypotheses(store, "imatinib", "apoptosis", s=1, k=3, use_llm=False)
    first, *rest = out.hypotheses
    assert first.via == ["bcr abl"] and first.kind == "causal"
    assert first.sign == "+"  # inhibits an inhibitor: - × - = +
    assert first.statement.startswith("imatinib may raise apoptosis")
    hub = next(h for h in rest if h.via == ["atp"])
    assert hub.hub_penalty < first.hub_penalty and hub.score < first.score
    assert hub.sign == "0"  # "binds" states no sign


def test_a_path_against_an_edges_direction_is_not_offered_as_a_causal_chain(store):
    out = generate_hypotheses(store, "imatinib", "apoptosis", s=1, k=3, use_llm=False)
    (back,) = [h for h in out.hypotheses if h.via == ["caspase 3"]]
    assert back.kind == "association" and back.sign == "0"
    assert "may" not in back.statement and "no directed chain" in back.statement
    second = back.hops[1]
    assert not second.along and "against its direction" in second.mechanism
    assert all(h.kind == "causal" for h in out.hypotheses if h is not back)
    assert max(h.score for h in out.hypotheses if h.kind == "causal") > back.score


def test_each_hop_states_its_mechanism_with_the_edges_citations(store):
    h = generate_hypotheses(store, "imatinib", "apoptosis", s=1, k=1, use_llm=False).hypotheses[0]
    assert [(x.source, x.relation, x.target, x.sign) for x in h.hops] == [
        ("imatinib", "inhibits", "bcr abl", "-"),
        ("bcr abl", "inhibits", "apoptosis", "-"),
    ]
    assert [{c.document_id for c in x.citations} for x in h.hops] == [{"p1"}, {"p2"}]
    assert "[p1]" in h.hops[0].mechanism and "[p2]" in h.hops[1].mechanism
    data = h.model_dump()
    data["hops"][0]["citations"] = data["hops"][1]["citations"]  # a step citing another edge's source
    with pytest.raises(ValueError, match="does not cite all"):
        type(h).model_validate(data)


def test_a_larger_pool_lets_a_longer_specific_path_replace_a_hub_one(store):
    import labwright

    ingest_events(store, [ev("imatinib", "inhibits", "CRKL", "p7"), ev("CRKL", "inhibits", "apoptosis", "p8")])
    store.close()
    base = {"a": "imatinib", "b": "apoptosis", "k": 2, "use_llm": False, "store_path": str(store.path)}
    narrow = labwright.call_tool("kg_hypotheses", base)
    wide = labwright.call_tool("kg_hypotheses", {**base, "pool": 6})
    assert len(narrow.hypotheses) == len(wide.hypotheses) == 2
    assert [h.score for h in wide.hypotheses] >= [h.score for h in narrow.hypotheses]
    assert all(h.kind == "causal" and h.sign == "+" for h in wide.hypotheses)
