"""The knowledge store on a real PostgreSQL server (pgserver): ingestion equal to SQLite's, concurrent ingest
processes, read-only opens that never write, and the migration of an SQLite store with identical answers after it."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from labwright.errors import InvalidInput
from labwright.knowledge import (
    KnowledgeStore,
    components,
    find_paths,
    generate_hypotheses,
    ingest_documents,
    ingest_events,
    migrate_store,
    neighbours,
    read_corpus,
)
from labwright.knowledge._tools import kg_neighbors, kg_stats
from labwright.settings import get_settings

from .conftest import CORPUS, STORE_TABLES, dump_rows, with_schema

pytestmark = pytest.mark.postgres


def snapshot(store: KnowledgeStore) -> dict:
    """Content by edge key (relation, confidence, role members by node key, citations), independent of row ids."""
    keys = {i: n.key for i, n in store.nodes(store.all_node_ids()).items()}
    return {
        e.key: (
            e.relation,
            e.confidence,
            e.attrs,
            [sorted(keys[n] for n in part) for part in (e.sources, e.targets, e.members)],
            sorted((p["document_id"], json.dumps(p["locator"]), p["extractor"]) for p in e.provenance),
        )
        for e in store.edges(store.all_edge_ids()).values()
    }


def test_the_corpus_ingested_on_postgres_equals_the_sqlite_ingest(_corpus_file, postgres_url):
    with KnowledgeStore(postgres_url) as pg, KnowledgeStore(_corpus_file, readonly=True) as lite:
        report = ingest_documents(pg, read_corpus(CORPUS), extractor="offline")
        assert report.edges_created == lite.counts()["edges"] > 50
        assert pg.counts() == lite.counts()
        assert snapshot(pg) == snapshot(lite)
        aliases = "SELECT alias, n.key FROM aliases a JOIN nodes n ON n.id = a.node_id ORDER BY alias"
        assert pg.conn.execute(aliases).fetchall() == lite.conn.execute(aliases).fetchall()
        again = ingest_documents(pg, read_corpus(CORPUS), extractor="offline")
        assert set(again.documents.values()) == {"unchanged"} and again.edges_created == 0


# ------------------------------------------------------------------------------------------- migration ----


def _one_edge(where, source: str, relation: str, target: str, document: str) -> None:
    with KnowledgeStore(where) as store:
        ingest_events(store, [{"source": [source], "relation": relation, "target": [target], "document": document}])


def _answers(store: KnowledgeStore) -> dict:
    """What the librarian's queries return: s-components, neighbours, s-paths and hypotheses (all JSON-able)."""
    out: dict = {"counts": store.counts(), "documents": store.documents()}
    for s in (1, 2):
        n, comps = components(store, s=s, limit=50)
        out[f"components s={s}"] = (n, [c.model_dump() for c in comps])
    for concept in ("cerium oxide", "chitosan", "PCL scaffolds", "collagen", "reactive oxygen species"):
        out[f"neighbours {concept}"] = [nb.model_dump() for nb in neighbours(store, concept)]
    out["paths"] = [p.model_dump() for p in find_paths(store, "cerium oxide", "PCL scaffolds", s=1, k=3)]
    hyps = generate_hypotheses(store, "cerium oxide", "PCL scaffolds", s=1, k=3, use_llm=False)
    out["hypotheses"] = hyps.model_dump()
    return out


def test_migration_copies_everything_and_queries_answer_the_same(_corpus_file, tmp_path, postgres_url):
    src = tmp_path / "kg.sqlite"
    sqlite3.connect(_corpus_file).backup(dst := sqlite3.connect(src))
    dst.close()
    with KnowledgeStore(src) as lite, lite.transaction():  # an exactly-once record, as a governed call leaves one
        lite.record_call("run-1/ingest/1", "kg_ingest_events", {"edges_created": 3})
    copied = migrate_store(src, postgres_url)
    with KnowledgeStore(src, readonly=True) as lite, KnowledgeStore(postgres_url, readonly=True) as pg:
        assert copied == {t: len(rows) for t, rows in dump_rows(src).items()} | {"applied_calls": 1}
        assert dump_rows(postgres_url) == dump_rows(src)  # every row, ids included
        assert pg.store_id == lite.store_id and pg.revision() == lite.revision() + 1
        assert pg.applied_call("run-1/ingest/1") == {"edges_created": 3}
        assert _answers(pg) == _answers(lite)
    # the migrated store keeps working: new ids follow the copied ones (provenance's identity column included)
    with KnowledgeStore(postgres_url) as pg:
        before = max(pg.all_edge_ids())
    _one_edge(postgres_url, "periodate", "oxidises", "collagen", "n")
    with KnowledgeStore(postgres_url) as pg:
        assert max(pg.all_edge_ids()) == before + 1
        assert len(pg.edges([before + 1])[before + 1].provenance) == 1


def test_migration_refuses_a_non_empty_target_unless_told(tmp_path, postgres_url):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    _one_edge(a, "EGF", "binds", "EGFR", "d")
    _one_edge(b, "Raf", "activates", "MEK", "e")
    migrate_store(a, postgres_url)
    with pytest.raises(InvalidInput, match="not empty") as err:
        migrate_store(b, postgres_url)
    assert err.value.field == "dst_url"
    assert dump_rows(postgres_url) == dump_rows(a)
    assert migrate_store(b, postgres_url, replace=True)["edges"] == 1
    assert dump_rows(postgres_url) == dump_rows(b)


def test_a_failed_migration_leaves_the_target_as_it_was(tmp_path, postgres_url):
    good, bad = tmp_path / "good.sqlite", tmp_path / "bad.sqlite"
    _one_edge(good, "EGF", "binds", "EGFR", "d")
    _one_edge(bad, "Raf", "activates", "MEK", "e")
    with sqlite3.connect(bad) as conn:  # a citation of a document the file does not hold (foreign keys were off)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE provenance SET document_id = 'gone'")
    migrate_store(good, postgres_url)
    before = dump_rows(postgres_url)
    with pytest.raises(InvalidInput, match="consistent") as err:
        migrate_store(bad, postgres_url, replace=True)  # fails after the target was emptied and half refilled
    assert err.value.field == "src_sqlite_path"
    assert dump_rows(postgres_url) == before


def test_migration_names_bad_arguments(tmp_path, postgres_url):
    with pytest.raises(InvalidInput) as err:
        migrate_store(tmp_path / "missing.sqlite", postgres_url)
    assert err.value.field == "src_sqlite_path"
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database\n" * 100)
    with pytest.raises(InvalidInput) as err:
        migrate_store(junk, postgres_url)
    assert err.value.field == "src_sqlite_path"
    ingest_events(KnowledgeStore(junk.with_name("ok.sqlite")), [{"source": ["a"], "relation": "r", "document": "d"}])
    with pytest.raises(InvalidInput) as err:
        migrate_store(junk.with_name("ok.sqlite"), str(tmp_path / "not-a-url.sqlite"))
    assert err.value.field == "dst_url"


# ------------------------------------------------------------------------------------------ concurrency ----

_INGEST = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from labwright.knowledge import KnowledgeStore, ingest_events
    url, events, document, flag, hold = sys.argv[1], json.loads(sys.argv[2]), *sys.argv[3:]
    with KnowledgeStore(url) as store:
        with store.transaction():
            report = ingest_events(store, events, document_id=document)
            Path(flag).write_text("in transaction")
            time.sleep(float(hold))
    print(json.dumps({"edges": report.edges_created, "provenance": report.provenance_added}))
    """
)


def _events(tag: str) -> list[dict]:
    # 400 reactions of the batch's own species, and 200 shared by both batches (the same edges)
    own = [{"source": [f"{tag} {i} a"], "relation": "converts to", "target": [f"{tag} {i} b"]} for i in range(400)]
    return own + [{"source": [f"shared {i}"], "relation": "binds", "target": ["hub"]} for i in range(200)]


def _ingest(url: str, tag: str, flag: Path, hold: float) -> subprocess.Popen:
    args = [sys.executable, "-c", _INGEST, url, json.dumps(_events(tag)), f"doc-{tag}", str(flag), str(hold)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


@pytest.mark.slow
def test_two_ingest_processes_at_once_both_finish_with_every_edge_once(postgres_url, tmp_path):
    url = with_schema(postgres_url, "race")
    _one_edge(url, "EGF", "binds", "EGFR", "seed")
    first = _ingest(url, "first", tmp_path / "first.flag", 3.0)
    t0 = time.time()
    while not (tmp_path / "first.flag").exists():  # the first holds the store's write lock from here for 3 s
        assert first.poll() is None and time.time() - t0 < 60, first.communicate()
        time.sleep(0.05)
    # meanwhile reads see the last committed state and return at once
    assert kg_stats(store_path=url).edges == 1
    assert [n.shared_edges for n in kg_neighbors(store_path=url, concept="EGF").neighbors] == [1]
    assert first.poll() is None
    second = _ingest(url, "second", tmp_path / "second.flag", 0.0)  # its ingest waits for the first's commit
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    reports = [json.loads(o) for o, _ in outs]
    # the first created the shared edges; the second, reading after the first committed, only cited them
    assert reports == [{"edges": 600, "provenance": 600}, {"edges": 400, "provenance": 600}]
    with KnowledgeStore(url, readonly=True) as store:
        counts = {"nodes": 1803, "edges": 1001, "incidences": 2002, "documents": 3, "provenance": 1201}
        assert store.counts() == counts  # nodes: 2 x 800 own species, 200 shared, the hub, and the seed's two
        keys = [r[0] for r in store.conn.execute("SELECT key FROM edges")]
        assert len(keys) == len(set(keys)) == 1001
        assert store.revision() == 3


def test_a_read_only_open_writes_nothing_and_a_missing_store_is_not_created(postgres_url):
    with KnowledgeStore(postgres_url) as s:
        ingest_events(s, [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"]}], document_id="seed")
    before = dump_rows(postgres_url)
    with KnowledgeStore(postgres_url, readonly=True) as s:
        assert s.counts()["edges"] == 1
        with pytest.raises(InvalidInput, match="readonly"), s.transaction():
            pass
        with pytest.raises(Exception, match="read-only transaction"):  # the session itself refuses writes too
            s.conn.execute("DELETE FROM aliases")
    assert dump_rows(postgres_url) == before
    assert KnowledgeStore(postgres_url, readonly=True).revision() == 1
    elsewhere = with_schema(postgres_url, "nothing_here")
    assert kg_stats(store_path=elsewhere).edges == 0
    with pytest.raises(Exception, match="EGF"):  # an empty store does not know the concept
        kg_neighbors(store_path=elsewhere, concept="EGF")
    with KnowledgeStore(postgres_url, readonly=True) as s:
        schemas = {r[0] for r in s.conn.execute("SELECT schema_name FROM information_schema.schemata")}
    assert "knowledge" in schemas and "nothing_here" not in schemas


def test_the_database_url_setting_chooses_postgres(postgres_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LABWRIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", postgres_url)
    assert get_settings().database_url == postgres_url
    assert kg_stats().edges == 0  # the tools' default store: created in the database, not in LABWRIGHT_HOME
    _one_edge(postgres_url, "a", "r", "b", "d")
    assert kg_stats().edges == 1 and not (tmp_path / "knowledge.sqlite").exists()
    with KnowledgeStore(postgres_url, readonly=True) as store:
        tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'knowledge'"
        assert set(STORE_TABLES) <= {r[0] for r in store.conn.execute(tables)}


def test_a_governed_call_may_name_a_store_only_in_the_configured_database(postgres_url, monkeypatch):
    from labwright.tools._paths import confine_args, roots_from_settings

    args = {"concept": "EGF", "store_path": with_schema(postgres_url, "other_schema")}
    with pytest.raises(InvalidInput, match="configured database") as err:  # no database configured
        confine_args("kg_neighbors", args, roots_from_settings("r"))
    assert err.value.field == "store_path"
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", postgres_url)
    assert confine_args("kg_neighbors", args, roots_from_settings("r")) == args  # same database, another schema
    elsewhere = postgres_url.replace("/t_", "/u_", 1)  # another database on the same server
    with pytest.raises(InvalidInput, match="configured database"):
        confine_args("kg_neighbors", {**args, "store_path": elsewhere}, roots_from_settings("r"))


def test_db_migrate_moves_the_knowledge_store_too(postgres_url, isolated_home, capsys):
    from labwright.cli import main

    _one_edge(get_settings().knowledge_path, "EGF", "binds", "EGFR", "d")
    assert main(["db", "migrate", "--to", postgres_url]) == 0
    assert "knowledge store: 2 nodes, 2 aliases, 1 edges, 2 incidences, 1 documents" in capsys.readouterr().out
    assert dump_rows(postgres_url) == dump_rows(get_settings().knowledge_path)
    # run again, the knowledge store alone would be overwritten: refused before anything is copied, unless forced
    assert main(["db", "migrate", "--to", postgres_url]) == 2
    assert "knowledge.nodes (2 rows)" in capsys.readouterr().err
    _one_edge(get_settings().knowledge_path, "Raf", "activates", "MEK", "e")
    assert main(["db", "migrate", "--to", postgres_url, "--force"]) == 0
    assert dump_rows(postgres_url) == dump_rows(get_settings().knowledge_path)


def test_the_kg_command_takes_a_postgres_store(postgres_url, capsys):
    from labwright.cli import main

    url = with_schema(postgres_url, "from_the_shell")
    assert main(["kg", "ingest", str(CORPUS), "--store", url]) == 0
    assert "from_the_shell" in capsys.readouterr().out  # the store it names is the URL, not a folded path
    assert main(["kg", "stats", "--store", url, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    with KnowledgeStore(url, readonly=True) as store:
        assert stats["edges"] == store.counts()["edges"] > 50


def test_a_long_locator_is_stored_as_on_sqlite(postgres_url):
    # a free-form locator far above the ~2.7 kB a PostgreSQL B-tree entry holds (random: it does not compress)
    quote = random.Random(0).randbytes(10_000).hex()
    event = {"source": ["EGF"], "relation": "binds", "target": ["EGFR"], "document": "d", "locator": {"q": quote}}
    with KnowledgeStore(postgres_url) as store:
        assert ingest_events(store, [event]).provenance_added == 1
        assert ingest_events(store, [event]).provenance_added == 0  # the same record again is one record
        assert store.edges(store.all_edge_ids())[1].provenance[0]["locator"] == event["locator"]


def test_a_writer_that_cannot_get_the_lock_in_time_fails_and_the_store_stays_usable(postgres_url, monkeypatch):
    import psycopg
    from labwright.knowledge import _postgres

    monkeypatch.setattr(_postgres, "WRITE_WAIT_S", 0.2)
    with KnowledgeStore(postgres_url) as store, psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (store.conn.lock_id,))  # another writer holds the store
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _one_edge(postgres_url, "EGF", "binds", "EGFR", "d")
        with pytest.raises(psycopg.errors.LockNotAvailable), store.transaction():
            pass
        other.execute("SELECT pg_advisory_unlock(%s)", (store.conn.lock_id,))
        assert ingest_events(store, [{"source": ["a"], "relation": "r", "target": ["b"], "document": "d"}]).events
        assert store.counts()["edges"] == 1 and store.revision() == 1
