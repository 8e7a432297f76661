"""Issue 12 item 7: a side-effecting tool's effect and its recorded outcome cannot come apart.

The process is killed (``os._exit``, no clean-up) exactly at the seam — after the store write committed, before the
ledger stored the outcome — and the call is resumed in another process: the write happened exactly once and the
resumed call returns the first outcome (not "unchanged")."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest
from labwright.knowledge import KnowledgeStore

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import labwright.knowledge  # registers the kg_* tools
    from labwright.agents.governance import RunContext, governed_call

    store = sys.argv[1]
    events = [
        {"source": ["ceria"], "relation": "scavenges", "target": ["superoxide"]},
        {"source": ["chitosan", "PCL"], "relation": "coats", "target": ["scaffold"]},
        {"source": ["ceria"], "relation": "binds", "target": ["collagen"]},
    ]
    ctx = RunContext.open("r-once", auto_approve="under=60s,writes")
    args = {"events": events, "document_id": "doc-1", "store_path": store}
    out = governed_call(ctx, "librarian", "kg_ingest_events", args, "ingest/1")
    print(json.dumps({"status": out.status, "cached": out.cached, "result": out.result}))
    """
)


def _run(store, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(store)], env=env, capture_output=True, text=True, timeout=300
    )


def _revision(store) -> int:
    with KnowledgeStore(store, readonly=True) as s:
        return s.revision()


def _count(store, table: str) -> int:
    with KnowledgeStore(store, readonly=True) as s:
        return int(s.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path, monkeypatch) -> str:
    """The knowledge store the governed call writes: an SQLite file, or a real PostgreSQL database (then the
    configured LABWRIGHT_DATABASE_URL, in which a governed call may name a store)."""
    if request.param == "sqlite":
        return str(tmp_path / "kg.sqlite")
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", url)
    return url


def test_kill_at_the_seam_then_resume_runs_the_write_exactly_once(store, isolated_home):
    from labwright.agents.ledger import Ledger

    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home)}
    killed = _run(store, {**env, "LABWRIGHT_TEST_CRASH_AT": "tool_returned"})
    assert killed.returncode == 86, killed.stderr[-2000:]  # died at the seam, nothing printed
    assert _revision(store) == 1  # the effect committed ...
    ledger = Ledger()  # where the governed call's ledger is, on either backend
    try:
        # ... and holds no outcome for it (its SQL is the same on both backends)
        assert ledger._one("SELECT status FROM results WHERE run_id = ?", ("r-once",)) == ("running",)
    finally:
        ledger.close()

    resumed = _run(store, env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert out["status"] == "ok" and not out["cached"]
    # The outcome of the write that happened, found in the store's record of the call, not a second ingest.
    assert out["result"]["events"] == 3 and out["result"]["edges_created"] == 3
    assert _revision(store) == 1
    assert _count(store, "applied_calls") == 1 and _count(store, "edges") == 3

    again = json.loads(_run(store, env).stdout.strip().splitlines()[-1])
    assert again["cached"] and again["result"] == out["result"] and _revision(store) == 1


def test_outside_a_governed_call_the_tool_writes_as_before(tmp_path):
    from labwright.knowledge._tools import kg_ingest_events

    store = tmp_path / "kg.sqlite"
    ev = [{"source": ["a"], "relation": "binds", "target": ["b"]}]
    first = kg_ingest_events(events=ev, document_id="d", store_path=str(store))
    second = kg_ingest_events(events=ev, document_id="d", store_path=str(store))
    assert first.edges_created == 1 and second.edges_created == 0


def test_a_batch_ingest_repeated_under_its_call_key_writes_once(tmp_path):
    """kg_ingest_batch (local backend): the second run of the same governed call returns the first outcome."""
    from labwright.metering import tool_call
    from labwright.scale import kg_ingest_batch

    store = tmp_path / "kg.sqlite"
    docs = [
        {"id": "p1", "text": "Cerium oxide nanoparticles scavenge reactive oxygen species."},
        {"id": "p2", "text": "Chitosan coatings on PCL scaffolds carry the nanoparticles."},
    ]
    with tool_call("call-key-1", "kg_ingest_batch"):
        first = kg_ingest_batch(documents=docs, extractor="offline", store_path=str(store))
    with tool_call("call-key-1", "kg_ingest_batch"):
        again = kg_ingest_batch(documents=docs, extractor="offline", store_path=str(store))
    assert first.edges_created > 0 and again == first  # not a second ingest reporting "unchanged"
    assert _revision(store) == 1
    with tool_call("call-key-2", "kg_ingest_batch"):  # another call: it runs, and finds nothing new to write
        other = kg_ingest_batch(documents=docs, extractor="offline", store_path=str(store))
    assert other.edges_created == 0 and _revision(store) == 2


EXPORT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import labwright.knowledge  # registers the kg_* tools
    from labwright.agents.governance import RunContext, governed_call

    store, path = sys.argv[1], sys.argv[2]
    ctx = RunContext.open("r-export-once", auto_approve="under=60s,writes")
    out = governed_call(ctx, "librarian", "kg_export", {"store_path": store, "path": path}, "export/1")
    print(json.dumps({"status": out.status, "cached": out.cached, "result": out.result, "message": out.message}))
    """
)


def test_kill_after_an_export_then_resume_exports_exactly_once(tmp_path, isolated_home):
    """kg_export: killed at the seam after the file was written; meanwhile the store grows. The resumed call finds
    its own export (its key is in the file's metadata) and returns that outcome; the file is not written again."""
    from labwright.knowledge._tools import kg_ingest_events

    store, target = tmp_path / "kg.sqlite", tmp_path / "out" / "kg.hif.json"
    kg_ingest_events(
        events=[{"source": ["a"], "relation": "binds", "target": ["b"]}], document_id="d1", store_path=str(store)
    )
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home)}

    def run(extra: dict[str, str]) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-c", EXPORT_SCRIPT, str(store), str(target)]
        return subprocess.run(cmd, env={**env, **extra}, capture_output=True, text=True, timeout=300)

    killed = run({"LABWRIGHT_TEST_CRASH_AT": "tool_returned"})
    assert killed.returncode == 86, killed.stderr[-2000:]
    first = target.read_bytes()
    assert json.loads(first)["metadata"]["labwright_call"]  # the effect carries the call's key
    written_at = target.stat().st_mtime_ns
    # The store changes before the resume: a second export would differ from the first.
    kg_ingest_events(
        events=[{"source": ["c"], "relation": "binds", "target": ["d"]}], document_id="d2", store_path=str(store)
    )

    out = json.loads(run({}).stdout.strip().splitlines()[-1])
    assert out["status"] == "ok" and not out["cached"], out["message"]
    assert out["result"]["edges"] == 1 and out["result"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert target.read_bytes() == first and target.stat().st_mtime_ns == written_at  # not written again
    again = json.loads(run({}).stdout.strip().splitlines()[-1])
    assert again["cached"] and again["result"] == out["result"]
