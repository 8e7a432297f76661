"""Chat reaches the knowledge store a workflow run built, by its run id (``store_path="run:RUN_ID"``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from labwright import Lab
from labwright.errors import InvalidInput
from labwright.tools._runstore import resolve_store_ref, run_store

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / "examples/workflows/literature_hypotheses.yaml"


@pytest.mark.slow
def test_chat_queries_the_store_a_literature_workflow_built_by_its_run_id():
    from labwright.skills import run

    done = run(WF, approve="all")
    assert done.status == "finished", done.error
    built = json.loads((Path(done.run_dir) / "ingest" / "ingest.json").read_text())["stats"]

    lab = Lab()
    stats = lab.chat(f'kg_stats(store_path="run:{done.run_id}")')
    assert stats.status == "answered", stats.answer
    (result,) = [e["result"] for r in stats.results for e in r["evidence"] if e["tool"] == "kg_stats"]
    assert result["store_path"] == str(Path(done.run_dir) / "ingest" / "knowledge.sqlite")
    assert (result["nodes"], result["edges"]) == (built["nodes"], built["edges"]) and result["nodes"] > 0
    # The same question without the link reads the default store, which the workflow did not write.
    plain = lab.chat("kg_stats()")
    (empty,) = [e["result"] for r in plain.results for e in r["evidence"] if e["tool"] == "kg_stats"]
    assert empty["nodes"] == 0

    paths = lab.chat(f'kg_paths(a="cerium oxide", b="PCL scaffolds", s=1, k=3, store_path="run:{done.run_id}")')
    assert paths.status == "answered", paths.answer
    (found,) = [e["result"] for r in paths.results for e in r["evidence"] if e["tool"] == "kg_paths"]
    assert found["paths"], found  # the workflow's own bridging query finds paths in its store
    # In plain English: the offline planner reads "in run RUN_ID" as that run's store.
    asked = lab.chat(f"find links between cerium oxide and PCL scaffolds in run {done.run_id}, s=1")
    assert asked.status == "answered", asked.answer
    (said,) = [e for r in asked.results for e in r["evidence"] if e["tool"].startswith("kg_")]
    assert said["status"] == "ok" and said["args"]["store_path"] == result["store_path"], said
    assert (said["args"]["a"], said["args"]["b"]) == ("cerium oxide", "PCL scaffolds")


def test_a_run_reference_names_the_field_when_it_cannot_be_resolved(tmp_path):
    runs = tmp_path / "runs"
    (runs / "empty-run").mkdir(parents=True)
    (runs / "two-stores" / "a").mkdir(parents=True)
    (runs / "two-stores" / "b").mkdir()
    for step in ("a", "b"):
        (runs / "two-stores" / step / "knowledge.sqlite").write_bytes(b"")
    cases = {
        "../../etc": "is not a run id",
        "no-such-run": "no run 'no-such-run'",
        "empty-run": "built no knowledge store",
        "two-stores": "has 2 knowledge stores",
    }
    for ref, message in cases.items():
        with pytest.raises(InvalidInput, match=re.escape(message)) as err:
            run_store(ref, runs)
        assert err.value.field == "store_path"
    (runs / "one" / "ingest").mkdir(parents=True)
    (runs / "one" / "ingest" / "knowledge.sqlite").write_bytes(b"")
    assert resolve_store_ref("run:one", runs) == str(runs / "one" / "ingest" / "knowledge.sqlite")
    assert resolve_store_ref("/data/k.sqlite", runs) == "/data/k.sqlite" and resolve_store_ref(None, runs) is None
