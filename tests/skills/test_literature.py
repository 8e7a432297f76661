"""The shipped ``literature_hypotheses`` workflow, offline: store-write checkpoints, hypotheses citing real passages,
reviewer verdicts, and a reviewer that rejects claims its cited passages do not support."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labwright.agents.audit import AuditLog
from labwright.cli import main
from labwright.knowledge import generate_hypotheses, ingest_documents, open_store, read_corpus
from labwright.skills import run
from labwright.skills._provenance import sha256_file
from labwright.skills.literature import mentions, review_hypothesis

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / "examples/workflows/literature_hypotheses.yaml"
CORPUS = ROOT / "examples/corpus/passages.jsonl"


def _passages() -> dict[str, str]:
    return {d.id: d.text for d in read_corpus(CORPUS)}


def test_stops_before_writing_the_store_then_hypotheses_cite_corpus_passages_and_are_reviewed():
    res = run(WF)
    assert res.status == "waiting" and [(p.kind, p.step) for p in res.pending] == [("step", "ingest")]
    assert not (Path(res.run_dir) / "ingest" / "knowledge.sqlite").exists()  # nothing was written

    # One answer: approving the step covers its 35 store writes (within the approved estimate), each recorded in the
    # audit as approved by that step approval rather than asking a person 35 more times.
    done = run(resume=res.run_id, answers={"ingest": "approve"})
    assert done.status == "finished", (done.error, done.pending)
    passages = _passages()
    rows = AuditLog().rows(res.run_id)
    (step,) = [r for r in rows if r.event == "decision" and r.tool == "skill:lit.ingest_corpus@1"]
    assert step.decision == "approve" and step.approver.startswith("human:")
    writes = [(r.decision, r.approver) for r in rows if r.event == "decision" and r.tool == "kg_ingest_text"]
    assert writes == [("approve", f"step:ingest({step.approver})")] * len(passages)
    ingest = done.outputs["ingest"]
    assert sorted(ingest["passage_ids"]) == sorted(passages) and ingest["edges"] > 0 and ingest["nodes"] > 0

    hyps = done.outputs["hypotheses"]["hypotheses"]
    assert hyps, "cerium oxide and PCL scaffolds are bridged in the example corpus"
    for h in hyps:
        for claim in h["claims"]:
            assert claim["citations"], claim["text"]
            assert {c["document_id"] for c in claim["citations"]} <= set(passages)
    cited = {c["document_id"] for h in hyps for cl in h["claims"] for c in cl["citations"]}
    # ceria scavenges ROS (bio-01), ROS impair stem cells (bio-14), chitosan-coated PCL scaffolds hold them (bio-06)
    assert {"bio-01", "bio-14", "bio-06"} <= cited

    review = done.outputs["review"]
    assert len(review["verdicts"]) == len(hyps)
    assert all(v["verdict"] == "accept" and v["on_bridging_path"] for v in review["verdicts"])
    assert review["accepted"] == len(hyps)

    run_dir = Path(done.run_dir)
    report = Path(done.report_path).read_text()
    assert "hypotheses accepted by the reviewer" in report and "[review/verdicts.json](review/verdicts.json)" in report
    doc = json.loads(Path(done.report_json).read_text())
    arts = {a["id"]: a for a in doc["artifacts"]}
    hyp_art = arts["hypotheses/hypotheses.json"]
    assert hyp_art["kind"] == "hypothesis" and hyp_art["tools"][0]["name"] == "kg_hypotheses"
    assert hyp_art["sha256"] == sha256_file(run_dir / hyp_art["path"])
    assert any(i["name"].endswith("passages.jsonl") for i in arts["ingest/ingest.json"]["inputs"])
    assert (run_dir / arts["review/verdicts.png"]["path"]).read_bytes()[:4] == b"\x89PNG"


def test_runs_from_the_cli_with_an_approval_flag(capsys):
    code = main(["run", str(WF), "--approve", "all", "--no-input", "--run-id", "lit-cli"])
    out = capsys.readouterr().out
    assert code == 0, out
    report = Path(out.split("report:")[-1].strip().split()[0])
    text = report.read_text()
    assert "| review | `lit.review@1` | finished |" in text and "passages in the knowledge store: **35**" in text


@pytest.fixture(scope="module")
def ceria_pcl():
    """The first hypothesis linking cerium oxide to PCL (s = 1) in the offline-ingested corpus."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "k.sqlite")
        try:
            ingest_documents(store, read_corpus(CORPUS), extractor="offline")
            hyp = generate_hypotheses(store, "cerium oxide", "PCL scaffolds", s=1, k=1, use_llm=False).hypotheses[0]
        finally:
            store.close()
    return hyp


def _tamper(hyp, **citation):
    """A copy of ``hyp`` whose first edge's first citation has the given fields replaced."""
    data = hyp.model_dump(mode="json")
    edge = data["path"]["edges"][0]
    edge["citations"][0].update(citation)
    for claim in data["claims"]:
        if edge["id"] in claim["edge_ids"]:
            claim["citations"][0].update(citation)
    for hop in data["hops"]:  # the mechanism step resting on that edge cites the same record
        if hop["edge_id"] == edge["id"]:
            hop["citations"][0].update(citation)
    return type(hyp).model_validate(data)


def test_reviewer_accepts_the_genuine_hypothesis_and_rejects_tampered_citations(ceria_pcl):
    passages = _passages()
    path = [[e.id for e in ceria_pcl.path.edges]]
    assert review_hypothesis(ceria_pcl, 1, passages, path).verdict == "accept"

    first = ceria_pcl.path.edges[0]
    # Cite the first sentence of a passage about EGFR instead: it mentions none of the edge's entities.
    wrong_span = {"chunk": 0, "start": 0, "end": passages["kin-01"].index(".") + 1}
    wrong = review_hypothesis(_tamper(ceria_pcl, document_id="kin-01", locator=wrong_span), 1, passages, path)
    assert wrong.verdict == "reject"
    problems = [p for c in wrong.claims for p in c.problems]
    assert any(p.startswith("kin-01[") and "does not mention" in p for p in problems)
    assert not wrong.claims[0].supported and first.id in wrong.claims[0].edge_ids

    ghost = review_hypothesis(_tamper(ceria_pcl, document_id="no-such-passage"), 1, passages, path)
    assert any("not a passage of the corpus" in p for c in ghost.claims for p in c.problems)

    for bad in ({"chunk": 0}, {"start": 0, "end": 10**6}, {"start": 50, "end": 10}):
        no_span = review_hypothesis(_tamper(ceria_pcl, locator=bad), 1, passages, path)
        assert any("no valid character span" in p for c in no_span.claims for p in c.problems), bad

    # Every claim fine, but the path is not one kg_paths found: rejected.
    off_path = review_hypothesis(ceria_pcl, 1, passages, [[-1]])
    assert off_path.verdict == "reject" and off_path.on_bridging_path is False
    assert all(c.supported for c in off_path.claims)


def _with_prose(hyp, sentence: str, edge_index: int):
    """A copy of ``hyp`` with one LLM-style prose sentence citing path edge ``edge_index`` (with its provenance)."""
    data = hyp.model_dump(mode="json")
    edge = data["path"]["edges"][edge_index]
    data["prose"] = sentence
    data["prose_claims"] = [{"text": sentence, "edge_ids": [edge["id"]], "citations": edge["citations"]}]
    return type(hyp).model_validate(data)


def test_reviewer_holds_prose_sentences_to_the_concepts_their_cited_passages_mention(ceria_pcl):
    passages = _passages()
    path = [[e.id for e in ceria_pcl.path.edges]]
    # Edge 1 rests on bio-01 ("Cerium oxide nanoparticles scavenge reactive oxygen species by cycling ...").
    good = review_hypothesis(
        _with_prose(ceria_pcl, "Nanoceria scavenges reactive oxygen species [E1].", 0), 1, passages, path
    )
    assert good.verdict == "accept" and len(good.claims) == len(ceria_pcl.claims) + 1
    # The same citation cannot carry PCL scaffolds: bio-01 does not mention them (they come from the last edge). "PCL"
    # is read as polycaprolactone because a passage of this path (bio-06) defines it.
    borrowed = review_hypothesis(
        _with_prose(ceria_pcl, "Ceria nanoparticles protect PCL scaffolds [E1].", 0), 1, passages, path
    )
    assert borrowed.verdict == "reject"
    assert borrowed.claims[-1].problems == [
        "the claim names 'polycaprolactone scaffold', which none of its cited passages mentions",
    ]
    assert all(c.supported for c in borrowed.claims[:-1])


@pytest.mark.parametrize(
    ("text", "entity", "defined", "expected"),
    [
        ("Nanoceria scavenges ROS in wounds.", "cerium oxide", {}, True),  # synonym table: nanoceria
        ("Nanoceria scavenges ROS in wounds.", "reactive oxygen species", {"ROS": "reactive oxygen species"}, True),
        # an abbreviation names a concept only where its own document defines it
        ("Nanoceria scavenges ROS in wounds.", "reactive oxygen species", {}, False),
        ("Nanoceria scavenges ROS in wounds.", "wound", {}, True),  # plural folded
        ("Coatings on electrospun (PCL) fibres.", "polycaprolactone", {"PCL": "polycaprolactone"}, True),
        ("Coatings on electrospun PCLs.", "polycaprolactone", {"PCL": "polycaprolactone"}, True),
        ("Coatings on electrospun (PCL) fibres.", "polycaprolactone", {}, False),
        ("Scaffolds of poly(caprolactone) were coated.", "polycaprolactone", {}, True),  # inner parentheses kept
        ("Nanoceria scavenges ROS in wounds.", "chitosan", {}, False),
        ("Chitosan crosslinked with genipin.", "chitosan scaffold", {}, False),  # a longer concept is not mentioned
        # chemicals: the same substance by composition, not by spelling
        ("CeO2 nanoparticles scavenge ROS.", "cerium oxide", {}, True),
        ("Trace water hydrolyses LiPF6.", "lithium hexafluorophosphate", {}, True),
        ("TiO2 films scatter light.", "cerium oxide", {}, False),
        ("Hydrogen peroxide (H2O2) oxidises thiols.", "water", {}, False),  # H2O2 is not H2O
    ],
)
def test_mentions_matches_surface_forms_through_the_store_normaliser(text, entity, defined, expected):
    assert mentions(text, entity, defined) is expected
