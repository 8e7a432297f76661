"""SQLite concurrency of the knowledge store, with real processes: reads never write and never wait for a writer;
two large ingests at once both finish.

The writer below holds its ingest transaction open for HOLD_S seconds, longer than the 10 s busy timeout the store
used to have, so a reader that wrote on open, or a second writer with that timeout, failed with "database is locked".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labwright.errors import InvalidInput, LabwrightError
from labwright.knowledge import KnowledgeStore, ingest_events
from labwright.knowledge._tools import kg_neighbors, kg_stats

HOLD_S = 12.0

_INGEST = """
import json, sys, time
from pathlib import Path
from labwright.knowledge import KnowledgeStore, ingest_events
store_path, events_path, flag, hold = sys.argv[1:5]
events = [json.loads(line) for line in Path(events_path).read_text().splitlines()]
with KnowledgeStore(store_path) as store:
    with store.transaction():
        report = ingest_events(store, events, document_id=Path(events_path).stem)
        Path(flag).write_text("in transaction")
        time.sleep(float(hold))
    print(json.dumps({"edges": report.edges_created, "counts": store.counts()}))
"""


def _events(tmp_path: Path, tag: str, n: int) -> Path:
    # Distinct species per batch, so the two ingests add up: n reactions A_i -> B_i of batch `tag`.
    path = tmp_path / f"events_{tag}.jsonl"
    lines = (
        json.dumps({"source": [f"species {tag} {i} a"], "relation": "converts_to", "target": [f"species {tag} {i} b"]})
        for i in range(n)
    )
    path.write_text("\n".join(lines))
    return path


def _ingest(store: Path, events: Path, flag: Path, hold: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _INGEST, str(store), str(events), str(flag), str(hold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _wait_for(flag: Path, proc: subprocess.Popen, limit_s: float = 60.0) -> None:
    t0 = time.time()
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < limit_s, "the ingest never started its transaction"
        time.sleep(0.05)


def _digest(store: Path) -> tuple[str, bytes]:
    # The store file and its write-ahead log; SQLite's shared-memory index (-shm) is not data.
    wal = store.with_name(store.name + "-wal")
    return hashlib.sha256(store.read_bytes()).hexdigest(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.slow
def test_reads_and_a_second_ingest_during_a_long_ingest(tmp_path):
    store = tmp_path / "kg.sqlite"
    with KnowledgeStore(store) as s:
        ingest_events(s, [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"]}], document_id="seed")
    first, second = _events(tmp_path, "first", 3000), _events(tmp_path, "second", 3000)
    a = _ingest(store, first, tmp_path / "a.flag", HOLD_S)
    _wait_for(tmp_path / "a.flag", a)
    # While `a` holds the write lock: reads see the last committed state and return at once.
    assert kg_stats(store_path=str(store)).edges == 1
    assert [n.shared_edges for n in kg_neighbors(store_path=str(store), concept="EGF").neighbors] == [1]
    assert a.poll() is None  # the reads did not wait for the ingest to end
    b = _ingest(store, second, tmp_path / "b.flag", 0.0)  # waits for `a`'s lock longer than the old 10 s
    outs = [p.communicate(timeout=120) for p in (a, b)]
    assert [p.returncode for p in (a, b)] == [0, 0], outs
    assert [json.loads(o)["edges"] for o, _ in outs] == [3000, 3000]
    assert kg_stats(store_path=str(store)).edges == 6001


def test_a_read_only_open_writes_nothing(tmp_path):
    store = tmp_path / "kg.sqlite"
    with KnowledgeStore(store) as s:
        ingest_events(s, [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"]}], document_id="seed")
    before = _digest(store)
    with KnowledgeStore(store, readonly=True) as s:
        assert s.counts()["edges"] == 1
        with pytest.raises(Exception, match="readonly"), s.transaction():
            pass
    assert kg_stats(store_path=str(store)).edges == 1
    assert _digest(store) == before


@pytest.mark.parametrize("tool", [kg_stats, kg_neighbors])
def test_reading_a_missing_store_creates_nothing(tmp_path, tool):
    missing = tmp_path / "nested" / "folder" / "kg.sqlite"
    args = {"store_path": str(missing)} | ({"concept": "EGF"} if tool is kg_neighbors else {})
    with contextlib.suppress(LabwrightError):  # an empty store does not know the concept
        tool(**args)
    assert not (tmp_path / "nested").exists()


def test_a_file_that_is_not_a_store_is_invalid_input(tmp_path):
    junk = tmp_path / "notes.sqlite"
    junk.write_bytes(b"not a database, just text\n" * 100)
    with pytest.raises(InvalidInput, match="store_path"):
        KnowledgeStore(junk, readonly=True)
    with pytest.raises(InvalidInput, match="store_path"):
        KnowledgeStore(junk)
