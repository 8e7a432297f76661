"""The knowledge store on PostgreSQL against the embedded SQLite file: the same hypergraph, the same queries.

The workload is the synthetic hypergraph of ``hypergraph_scale.py`` (the paper's degree statistics) at a fraction of
the paper's size, written through the public event importer into an SQLite file and into a PostgreSQL schema, then
queried through the store API on each: the cold index load, and medians of warm calls of ``neighbours``,
``find_paths`` (s = 1 and s = 2, one shortest path, between nodes drawn once for both) and ``components`` (s = 2).
Both backends return the same answers (checked here, but for the time stamps of the writes). The migration of the
SQLite file into a second schema is timed too. PostgreSQL is a real local server started with pgserver (Unix
socket, same machine) unless ``--database-url`` names one.

Usage::

    .venv/bin/python benchmarks/knowledge_backends.py               # 5 % of the paper's size
    .venv/bin/python benchmarks/knowledge_backends.py --scale 0.2
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hypergraph_scale import PAPER_EDGES, PAPER_NODES, generate  # noqa: E402


def _median_ms(f: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _events(n_nodes: int, n_edges: int, seed: int) -> list[dict]:
    """Edges as importer events: the first member is the source, the rest the targets (distinct node sets)."""
    return [
        {"source": [f"n{int(e[0])}"], "relation": "r", "target": [f"n{int(x)}" for x in e[1:]], "document": "synthetic"}
        for e in generate(n_nodes, n_edges, seed)
    ]


def _timeless(x: object) -> object:
    """``x`` without ``created_at`` stamps (each store was written at its own time)."""
    if isinstance(x, dict):
        return {k: _timeless(v) for k, v in x.items() if k != "created_at"}
    if isinstance(x, list):
        return [_timeless(v) for v in x]
    return x


def _run(where: str | Path, events: list[dict], pairs: list[tuple[str, str]], repeats: int) -> tuple[dict, dict]:
    """Times and answers of the workload on the store at ``where``."""
    from labwright.knowledge import KnowledgeStore, components, find_paths, ingest_events, neighbours

    times: dict[str, float] = {}
    with KnowledgeStore(where) as store:
        t = time.perf_counter()
        ingest_events(store, events)
        times["ingest (s)"] = time.perf_counter() - t
    with KnowledgeStore(where, readonly=True) as store:
        t = time.perf_counter()
        store.index()
        times["index load, cold (ms)"] = (time.perf_counter() - t) * 1e3
        a = pairs[0][0]
        times["neighbours (ms)"] = _median_ms(lambda: neighbours(store, a), repeats * 5)
        for s in (1, 2):
            times[f"find_paths s={s} (ms)"] = _median_ms(
                lambda s=s: [find_paths(store, x, y, s=s, k=1) for x, y in pairs], repeats
            ) / len(pairs)
        times["components s=2 (ms)"] = _median_ms(lambda: components(store, s=2, limit=20), repeats)
        answers = {
            "counts": store.counts(),
            "neighbours": [n.model_dump() for n in neighbours(store, a)],
            "paths": [[p.model_dump() for p in find_paths(store, x, y, s=1, k=1)] for x, y in pairs[:5]],
            "components": components(store, s=2, limit=20)[0],
        }
    return times, _timeless(answers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.05, help="fraction of the paper's numbers (default 0.05)")
    ap.add_argument("--pairs", type=int, default=20, help="concept pairs per path query")
    ap.add_argument("--repeats", type=int, default=5, help="warm calls per median")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--database-url", help="PostgreSQL to time (default: a local server started with pgserver)")
    args = ap.parse_args()

    from labwright.knowledge import migrate_store

    n_nodes, n_edges = int(PAPER_NODES * args.scale), int(PAPER_EDGES * args.scale)
    events = _events(n_nodes, n_edges, args.seed)
    rnd = random.Random(args.seed)
    names = sorted({e["source"][0] for e in events})
    pairs = [tuple(rnd.sample(names, 2)) for _ in range(args.pairs)]
    folder = Path(tempfile.mkdtemp(prefix="lw-kgb-"))
    server = None
    url = args.database_url
    if url is None:
        import pgserver

        server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
        url = server.get_uri()
    sep = "&" if "?" in url else "?"
    try:
        print(f"synthetic hypergraph: {n_nodes:,} nodes, {n_edges:,} hyperedges; {len(pairs)} concept pairs")
        lite, lite_answers = _run(folder / "kg.sqlite", events, pairs, args.repeats)
        pg, pg_answers = _run(f"{url}{sep}options=-csearch_path%3Dkg_bench", events, pairs, args.repeats)
        t = time.perf_counter()
        migrate_store(folder / "kg.sqlite", f"{url}{sep}options=-csearch_path%3Dkg_migrated")
        migrated = time.perf_counter() - t
        print(f"  {'operation':28s} {'SQLite':>10s} {'PostgreSQL':>11s} {'ratio':>7s}")
        for key in lite:
            print(f"  {key:28s} {lite[key]:10.3f} {pg[key]:11.3f} {pg[key] / lite[key]:6.1f}x")
        print(f"  migrate the SQLite store into PostgreSQL: {migrated:.2f} s")
        print(f"  same answers on both backends: {lite_answers == pg_answers}")
        slower = [k for k in lite if pg[k] > lite[k]]
        # each PostgreSQL query is a round trip to a server; the in-memory index work is the same on both
        print(f"  PostgreSQL loses on: {', '.join(slower) or 'nothing'} (it buys writers on several hosts)")
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
