"""Knowledge store at the paper's scale, with HyperNetX timed side by side on the 10 % subgraph.

The synthetic hypergraph has the numbers reported for the ~1,100-paper biocomposite corpus of "Higher-Order Knowledge
Representations for Agentic Scientific Reasoning": 161,172 nodes and 320,201 hyperedges, 2–6 nodes per edge, and
heavy-tailed (Zipf) node popularity — node of popularity rank r is drawn with probability ∝ r^-1.23, so the
rank–degree curve falls with the paper's exponent 1.23 and a handful of hubs sit in a large share of the edges (the
hub-heavy case where s-line graphs explode). Nodes that the draw leaves unused are placed once each, so every node
exists. The discrete power-law fit of the resulting degree distribution (Clauset–Shalizi–Newman) is printed too.

Reported: build time into SQLite through the public event importer, file size, peak memory, time to load the
in-memory index, s = 1 and s = 2 component times, p50/p95 of concept-to-concept s-path queries (s = 1, 2) through the
store API, and — on the first 10 % of the edges, in a memory- and time-capped subprocess — HyperNetX 2.4's build,
``s_connected_components(s=2)`` and ``edge_distance`` (s = 2, then s = 1) next to ours on the same subgraph, as ratios.
The two libraries' answers on the subgraph are compared as well.

Usage::

    .venv/bin/python benchmarks/hypergraph_scale.py            # paper scale (needs ~2 GB; a few minutes)
    .venv/bin/python benchmarks/hypergraph_scale.py --quick    # 10 % scale, HyperNetX on 1 %
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

PAPER_NODES, PAPER_EDGES, ZIPF = 161_172, 320_201, 1.23


# ---------------------------------------------------------------------------- data
def generate(n_nodes: int, n_edges: int, zipf: float, seed: int, sizes: tuple[int, int] = (2, 6)
             ) -> list[np.ndarray]:
    """Edges as arrays of node indices: Zipf popularity, distinct members, every node used at least once."""
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(np.arange(1, n_nodes + 1, dtype=float) ** -zipf)
    cdf /= cdf[-1]
    size = rng.integers(sizes[0], sizes[1] + 1, n_edges)
    width = 3 * sizes[1]  # draw extra candidates, keep the first `size` distinct ones per edge
    picks = np.searchsorted(cdf, rng.random((n_edges, width)))
    order = np.argsort(picks, axis=1, kind="stable")
    ranked = np.take_along_axis(picks, order, 1)
    first_sorted = np.ones_like(ranked, dtype=bool)
    first_sorted[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    first = np.empty_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, 1)
    keep = first & (np.cumsum(first, 1) <= size[:, None])
    # place each unused node once, in a random kept slot (unused nodes are distinct, so no duplicates arise)
    used = np.zeros(n_nodes, dtype=bool)
    used[picks[keep]] = True
    unused = np.flatnonzero(~used)
    slots = np.flatnonzero(keep.ravel())
    flat = picks.ravel()
    # only repeat occurrences may be overwritten, so no used node loses its last slot
    by_node = np.argsort(flat[slots], kind="stable")
    repeat = np.ones(len(slots), dtype=bool)
    sorted_nodes = flat[slots][by_node]
    repeat[by_node[np.r_[True, sorted_nodes[1:] != sorted_nodes[:-1]]]] = False
    chosen = rng.choice(slots[repeat], size=len(unused), replace=False)
    flat[chosen] = unused
    picks = flat.reshape(picks.shape)
    return [row[k] for row, k in zip(picks, keep)]


def label(v: int) -> str:
    return f"concept {v}"


def events(edges: list[np.ndarray], per_document: int = 290):
    # ~290 hyperedges per paper, as 320,201 edges from ~1,100 papers
    for i, members in enumerate(edges):
        yield {"source": [label(v) for v in members.tolist()], "relation": "co-occurs with",
               "document": f"paper-{i // per_document:04d}", "locator": {"record": i}}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


# ---------------------------------------------------------------------------- HyperNetX side (subprocess)
def hnx_worker(data_path: str, mem_gb: float) -> None:
    """Runs in a child process: time HyperNetX stage by stage, printing one JSON line per stage."""
    limit = int(mem_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.filterwarnings("ignore")
    data = json.loads(Path(data_path).read_text())
    edges = {f"e{i}": m for i, m in enumerate(data["edges"])}

    def emit(**kw) -> None:
        kw["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(kw), flush=True)

    try:
        import hypernetx as hnx

        t = time.perf_counter()
        hg = hnx.Hypergraph(edges)
        emit(stage="build", seconds=time.perf_counter() - t)
        t = time.perf_counter()
        comps = list(hg.s_connected_components(s=2, edges=True, return_singletons=True))
        emit(stage="s2_components", seconds=time.perf_counter() - t, n=len(comps),
             largest=max(len(c) for c in comps))
        for s in (2, 1):
            times, dists = [], []
            for a, b in data["pairs"]:
                t = time.perf_counter()
                d = hg.edge_distance(f"e{a}", f"e{b}", s=s)
                times.append(time.perf_counter() - t)
                dists.append(None if d == float("inf") else d)
            emit(stage=f"edge_distance_s{s}", first=times[0], p50=pct(times[1:], 50), dists=dists)
    except MemoryError:
        emit(stage="error", error=f"MemoryError at the {mem_gb:g} GB address-space cap")


def run_hnx(edges: list[np.ndarray], pairs: list[tuple[int, int]], timeout: float, mem_gb: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"edges": [e.tolist() for e in edges], "pairs": pairs}, fh)
    stages: dict[str, dict] = {}
    proc = subprocess.Popen([sys.executable, __file__, "--hnx-worker", fh.name, "--hnx-mem-gb", str(mem_gb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        stages["timeout"] = {"after_s": time.perf_counter() - t0}
    for line in out.splitlines():
        rec = json.loads(line)
        stages[rec.pop("stage")] = rec
    if proc.returncode not in (0, None) and "timeout" not in stages and "error" not in stages:
        stages["error"] = {"error": (err.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    os.unlink(fh.name)
    return stages


# ---------------------------------------------------------------------------- our side
def bench_store(edges: list[np.ndarray], n_nodes: int, path: Path, n_queries: int, seed: int) -> dict:
    from labwright.knowledge import KnowledgeStore, find_paths, fit_power_law, ingest_events, s_components

    res: dict = {}
    t = time.perf_counter()
    store = KnowledgeStore(path)
    report = ingest_events(store, events(edges), extractor="synthetic", extractor_version="1")
    res["build_s"] = time.perf_counter() - t
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    res["file_mb"] = path.stat().st_size / 1e6
    res["counts"] = store.counts()
    res["edges_created"] = report.edges_created
    t = time.perf_counter()
    ix = store.index()
    res["index_load_s"] = time.perf_counter() - t
    deg = ix.degrees
    fit = fit_power_law(deg)
    order = np.sort(deg)[::-1]
    ranks = np.arange(1, len(order) + 1)
    sel = (ranks >= 3) & (ranks <= 1_000) & (order > 0)
    res["degree"] = {"max": int(deg.max()), "mean": float(deg.mean()), "csn_alpha": fit.alpha, "csn_xmin": fit.x_min,
                     "rank_slope": float(-np.polyfit(np.log(ranks[sel]), np.log(order[sel]), 1)[0]),
                     "top_hub_share": float(deg.max() / ix.n_edges_total)}
    for s in (1, 2):
        t = time.perf_counter()
        comps = s_components(ix, s)
        res[f"s{s}_components_s"] = time.perf_counter() - t
        res[f"s{s}_components"] = len(comps)
        res[f"s{s}_largest"] = len(comps[0])
    rng = np.random.default_rng(seed)
    for s in (1, 2):
        times, hops, found = [], [], 0
        for _ in range(n_queries):
            a, b = rng.choice(n_nodes, 2, replace=False)
            t = time.perf_counter()
            paths = find_paths(store, label(int(a)), label(int(b)), s=s, k=1)
            times.append(time.perf_counter() - t)
            if paths:
                found += 1
                hops.append(paths[0].length)
        res[f"path_s{s}"] = {"p50_ms": 1e3 * pct(times, 50), "p95_ms": 1e3 * pct(times, 95), "found": found,
                             "queries": n_queries, "mean_hops": float(np.mean(hops)) if hops else None}
    res["peak_rss_mb"] = peak_rss_mb()
    store.close()
    return res


def bench_ours_subgraph(edges: list[np.ndarray], pairs: list[tuple[int, int]]) -> dict:
    from labwright.knowledge import HyperIndex, s_components, s_edge_distance

    res: dict = {}
    t = time.perf_counter()
    ix = HyperIndex.from_dict({f"e{i}": m.tolist() for i, m in enumerate(edges)})
    res["build"] = {"seconds": time.perf_counter() - t}
    t = time.perf_counter()
    comps = s_components(ix, 2)
    res["s2_components"] = {"seconds": time.perf_counter() - t, "n": len(comps), "largest": len(comps[0])}
    ix = HyperIndex.from_dict({f"e{i}": m.tolist() for i, m in enumerate(edges)})  # cold again for distances
    for s in (2, 1):
        times, dists = [], []
        for a, b in pairs:
            t = time.perf_counter()
            d = s_edge_distance(ix, a, b, s)
            times.append(time.perf_counter() - t)
            dists.append(None if d == float("inf") else d)
        res[f"edge_distance_s{s}"] = {"first": times[0], "p50": pct(times[1:], 50), "dists": dists}
    return res


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 %% of the paper's scale; HyperNetX on 1 %%")
    ap.add_argument("--scale", type=float, default=None, help="fraction of the paper's numbers (default 1)")
    ap.add_argument("--queries", type=int, default=100, help="s-path queries per s")
    ap.add_argument("--pairs", type=int, default=20, help="edge-distance pairs on the subgraph")
    ap.add_argument("--hnx-fraction", type=float, default=0.1, help="subgraph share given to HyperNetX")
    ap.add_argument("--hnx-timeout", type=float, default=300.0, help="seconds before HyperNetX is stopped")
    ap.add_argument("--hnx-mem-gb", type=float, default=4.0, help="address-space cap of the HyperNetX process")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", type=Path, default=None, help="store file (default: a temporary folder)")
    ap.add_argument("--json", type=Path, default=None, help="also write all numbers to this file")
    ap.add_argument("--hnx-worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.hnx_worker:
        hnx_worker(args.hnx_worker, args.hnx_mem_gb)
        return 0
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    n_nodes, n_edges = round(PAPER_NODES * scale), round(PAPER_EDGES * scale)
    print(f"synthetic hypergraph: {n_nodes:,} nodes, {n_edges:,} hyperedges, 2-6 nodes each, Zipf {ZIPF}")
    t = time.perf_counter()
    edges = generate(n_nodes, n_edges, ZIPF, args.seed)
    print(f"  generated in {time.perf_counter() - t:.1f} s; {sum(map(len, edges)):,} incidences")

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "kg.sqlite"
        if db.exists():
            db.unlink()
        ours = bench_store(edges, n_nodes, db, args.queries, args.seed)
    d = ours["degree"]
    print(f"\nlabwright store ({n_edges:,} edges)")
    print(f"  build into SQLite      {ours['build_s']:8.1f} s   (target ≤ 60 s at paper scale)")
    print(f"  file size              {ours['file_mb']:8.1f} MB")
    print(f"  index load             {ours['index_load_s']:8.2f} s")
    print(f"  degrees                max {d['max']:,} ({100 * d['top_hub_share']:.0f} % of edges), "
          f"mean {d['mean']:.1f}; rank-degree slope {d['rank_slope']:.2f}; "
          f"CSN pdf fit alpha {d['csn_alpha']:.2f} (x_min {d['csn_xmin']})")
    for s in (1, 2):
        print(f"  s={s} components        {ours[f's{s}_components_s']:8.2f} s   ({ours[f's{s}_components']:,} "
              f"components, largest {ours[f's{s}_largest']:,})" + ("   (target ≤ 5 s)" if s == 2 else ""))
    for s in (1, 2):
        q = ours[f"path_s{s}"]
        print(f"  s={s} path query        p50 {q['p50_ms']:7.1f} ms  p95 {q['p95_ms']:7.1f} ms  "
              f"({q['found']}/{q['queries']} connected, mean {q['mean_hops']} hops)"
              + ("   (target p50 ≤ 50 ms)" if s == 1 else ""))
    print(f"  peak RSS               {ours['peak_rss_mb']:8.0f} MB")

    n_sub = max(2, round(n_edges * args.hnx_fraction))
    sub = edges[:n_sub]
    rng = np.random.default_rng(args.seed + 1)
    pairs = [tuple(int(x) for x in rng.choice(n_sub, 2, replace=False)) for _ in range(args.pairs)]
    mine = bench_ours_subgraph(sub, pairs)
    print(f"\nsubgraph: first {n_sub:,} hyperedges ({100 * args.hnx_fraction:g} %); HyperNetX capped at "
          f"{args.hnx_timeout:g} s and {args.hnx_mem_gb:g} GB")
    theirs = run_hnx(sub, pairs, args.hnx_timeout, args.hnx_mem_gb)
    rows = [("build", "seconds", "build"), ("s=2 components", "seconds", "s2_components"),
            ("s=2 edge distance, first", "first", "edge_distance_s2"),
            ("s=2 edge distance, warm p50", "p50", "edge_distance_s2"),
            ("s=1 edge distance, first", "first", "edge_distance_s1"),
            ("s=1 edge distance, warm p50", "p50", "edge_distance_s1")]
    print(f"  {'operation':30s} {'labwright':>12s} {'HyperNetX':>12s} {'ratio':>10s}")
    ratios = {}
    for name, key, stage in rows:
        ours_t = mine[stage][key]
        if stage in theirs:
            hx = theirs[stage][key]
            ratios[name] = hx / ours_t
            print(f"  {name:30s} {1e3 * ours_t:10.2f}ms {1e3 * hx:10.1f}ms {hx / ours_t:9.0f}×")
        else:
            stop = theirs.get("timeout", {}).get("after_s")
            why = f"> {stop:.0f} s (stopped)" if stop else theirs.get("error", {}).get("error", "not reached")
            print(f"  {name:30s} {1e3 * ours_t:10.2f}ms   {why}")
    agree = []
    if "s2_components" in theirs:
        agree.append(theirs["s2_components"]["n"] == mine["s2_components"]["n"])
        print(f"  s=2 components: labwright {mine['s2_components']['n']:,}, HyperNetX {theirs['s2_components']['n']:,}")
    for s in (2, 1):
        if f"edge_distance_s{s}" in theirs:
            same = theirs[f"edge_distance_s{s}"]["dists"] == mine[f"edge_distance_s{s}"]["dists"]
            agree.append(same)
            print(f"  s={s} edge distances identical on {len(pairs)} pairs: {same}")
    peak = max((v.get("peak_rss_mb", 0) for v in theirs.values() if isinstance(v, dict)), default=0)
    print(f"  HyperNetX peak RSS {peak:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"scale": scale, "ours": ours, "subgraph_ours": mine, "hypernetx": theirs,
                                         "ratios": ratios, "agree": agree}, indent=1, default=float))
    return 0 if all(agree) else 1


if __name__ == "__main__":
    sys.exit(main())
