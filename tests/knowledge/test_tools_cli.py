"""The kg_* tools (librarian role) and the `labwright kg` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import labwright
import pytest
from labwright.errors import InvalidInput, NotFound
from labwright.knowledge import LIBRARIAN_TOOLS, Hypothesis, generate_hypotheses
from labwright.settings import get_settings
from pydantic import ValidationError

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus" / "passages.jsonl"


def test_importing_labwright_registers_the_librarian_tools():
    names = set(labwright.list_tools())
    assert set(LIBRARIAN_TOOLS) <= names
    effects = {n: labwright.get_tool(n).side_effect for n in LIBRARIAN_TOOLS}
    assert effects["kg_ingest_text"] == effects["kg_ingest_events"] == "writes_store"
    assert effects["kg_paths"] == effects["kg_stats"] == effects["kg_hypotheses"] == effects["kg_neighbors"] == "none"
    for n in LIBRARIAN_TOOLS:
        schema = labwright.get_tool(n).openai_schema()
        assert "store_path" in schema["function"]["parameters"]["properties"]


def test_tools_use_the_configured_store_by_default():
    out = labwright.call_tool(
        "kg_ingest_text",
        {
            "text": "Genipin crosslinks chitosan and improves the mechanical strength of the hydrogel.",
            "document_id": "note-1",
            "extractor": "offline",
        },
    )
    assert Path(out.store_path) == get_settings().knowledge_path and get_settings().knowledge_path.exists()
    nb = labwright.call_tool("kg_neighbors", {"concept": "genipin"})
    assert {n.node for n in nb.neighbors} >= {"chitosan", "mechanical strength", "hydrogel"}


def test_tools_on_an_explicit_store(store_at, tmp_path):
    store = str(store_at("kg"))
    events = [
        {"source": ["cerium oxide"], "relation": "embedded in", "target": ["chitosan"], "document": "a"},
        {"source": ["chitosan"], "relation": "coats", "target": ["polycaprolactone"], "document": "b"},
    ]
    out = labwright.call_tool("kg_ingest_events", {"events": events, "store_path": store})
    assert out.edges_created == 2
    paths = labwright.call_tool("kg_paths", {"a": "ceria", "b": "poly(ε-caprolactone)", "store_path": store})
    assert paths.paths[0].intersections == [["chitosan"]]
    hyps = labwright.call_tool("kg_hypotheses", {"a": "ceria", "b": "polycaprolactone", "store_path": store})
    claim_docs = {c.document_id for h in hyps.hypotheses for cl in h.claims for c in cl.citations}
    assert claim_docs == {"a", "b"}
    stats = labwright.call_tool("kg_stats", {"store_path": store, "s": 1})
    assert stats.edges == 2 and stats.components == 1
    assert stats.degree_distribution == {1: 2, 2: 1}  # ceria and PCL in one edge each, chitosan in both
    export = labwright.call_tool(
        "kg_export", {"store_path": store, "path": str(tmp_path / "x.json"), "around": ["polycaprolactone"]}
    )
    assert export.edges == 1 and len(export.sha256) == 64


def test_tool_bad_input():
    with pytest.raises(InvalidInput) as err:
        labwright.call_tool("kg_ingest_text", {"text": "", "document_id": "x"})
    assert err.value.field == "text"
    with pytest.raises(InvalidInput) as err:
        labwright.call_tool("kg_ingest_text", {"text": "   ", "document_id": "x"})
    assert err.value.field == "text"
    with pytest.raises(InvalidInput) as err:
        labwright.call_tool("kg_paths", {"a": "x", "b": "y", "s": 0})
    assert err.value.field == "s"
    labwright.call_tool(
        "kg_ingest_events", {"events": [{"source": ["a"], "relation": "r", "target": ["b"], "document": "d"}]}
    )
    with pytest.raises(NotFound):
        labwright.call_tool("kg_paths", {"a": "a", "b": "zzz"})


def test_hypotheses_cite_passages_for_the_paper_bridge(corpus_store):
    out = generate_hypotheses(corpus_store, "cerium oxide", "PCL scaffolds", s=1, k=3)
    assert out.hypotheses and not out.llm_used
    via = {x for h in out.hypotheses for x in h.via}
    assert "mesenchymal stem cell" in via
    for h in out.hypotheses:
        for claim in h.claims:
            assert claim.citations
            for c in claim.citations:
                assert c.document_id.startswith(("bio-", "elec-", "kin-"))
        used = {e.id for e in h.path.edges}
        assert {i for c in h.claims for i in c.edge_ids} == used


def test_a_claim_must_cite_every_edge_it_uses(corpus_store):
    h = generate_hypotheses(corpus_store, "cerium oxide", "PCL scaffolds", s=1, k=1).hypotheses[0]
    data = h.model_dump()
    assert data["claims"][0]["citations"] != data["claims"][1]["citations"]
    data["claims"][0]["citations"] = data["claims"][1]["citations"]  # cites the other edge's passage instead
    with pytest.raises(ValidationError, match="without citing all of its provenance"):
        Hypothesis.model_validate(data)
    data["claims"][0]["citations"] = []
    with pytest.raises(ValidationError):
        Hypothesis.model_validate(data)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """`labwright kg ...` in this process (the console contract: exit code, stdout, stderr)."""
    from labwright.cli import main

    code = main(["kg", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_end_to_end(tmp_path, capsys):
    store = str(tmp_path / "kg.sqlite")
    code, out, err = run_cli(capsys, "ingest", str(CORPUS), "--store", store, "--extractor", "offline")
    assert code == 0, err
    assert "35 documents" in out
    code, out, err = run_cli(capsys, "path", "cerium oxide", "PCL scaffolds", "--s", "1", "--store", store, "--json")
    assert code == 0, err
    assert json.loads(out)["paths"][0]["intersections"][0] == ["reactive oxygen species"]
    code, out, _ = run_cli(capsys, "hypotheses", "ceria", "polycaprolactone scaffold", "--store", store)
    assert code == 0 and "bio-" in out
    code, out, _ = run_cli(capsys, "stats", "--store", store)
    assert code == 0 and "power law" in out
    hif = tmp_path / "out.json"
    code, out, _ = run_cli(capsys, "export", str(hif), "--store", store)
    assert code == 0 and json.loads(hif.read_text())["incidences"]
    again = str(tmp_path / "again.sqlite")
    assert run_cli(capsys, "ingest", str(hif), "--store", again)[0] == 0
    for args, expect, message in [
        (("path", "unobtainium", "PCL", "--store", store), 1, "no node named 'unobtainium'"),
        (("path", "ceria", "PCL", "--s", "0", "--store", store), 2, "'s'"),
        (("ingest", str(tmp_path / "nope.jsonl"), "--store", store), 2, "no such file"),
    ]:
        code, out, err = run_cli(capsys, *args)
        assert code == expect, (args, err)
        assert len(err.strip().splitlines()) == 1 and message in err


@pytest.mark.slow
def test_console_script_reports_unknown_concept_on_one_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "labwright.cli",
            "kg",
            "path",
            "unobtainium",
            "PCL",
            "--store",
            str(tmp_path / "empty.sqlite"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "labwright: error: no node named 'unobtainium' in the knowledge store (field 'a')"
    ]
