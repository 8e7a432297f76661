"""s-traversal checked against HyperNetX (components, edge distances) and brute force (k shortest, constraints)."""

from __future__ import annotations

import itertools
import random
import warnings

import hypernetx as hnx
import networkx as nx
import numpy as np
import pytest
from labwright.errors import InvalidInput, NotFound
from labwright.knowledge import (
    HyperIndex,
    find_paths,
    k_shortest_s_paths,
    s_components,
    s_edge_distance,
    s_shortest_path,
)


def random_hypergraph(seed: int, max_edges: int = 70) -> dict[str, list[int]]:
    rng = random.Random(seed)
    n_nodes = rng.randint(8, 40)
    # mildly skewed node popularity so that s = 2 and s = 3 adjacencies occur
    weights = [1.0 / (i + 1) ** 0.7 for i in range(n_nodes)]
    edges = {}
    for i in range(rng.randint(10, max_edges)):
        size = rng.randint(1, 6)
        members: set[int] = set()
        while len(members) < min(size, n_nodes):
            members.add(rng.choices(range(n_nodes), weights)[0])
        edges[f"e{i}"] = sorted(members)
    return edges


@pytest.mark.parametrize("seed", range(12))
def test_components_and_distances_match_hypernetx(seed):
    edges = random_hypergraph(seed)
    ix = HyperIndex.from_dict(edges)
    hg = hnx.Hypergraph(edges)
    rng = random.Random(1000 + seed)
    pairs = [tuple(rng.sample(sorted(edges), 2)) for _ in range(15)]
    for s in (1, 2, 3):
        ours = sorted(sorted(ix.edge_ids[e] for e in comp) for comp in s_components(ix, s))
        theirs = sorted(
            sorted(str(e) for e in comp) for comp in hg.s_connected_components(s=s, edges=True, return_singletons=True)
        )
        assert ours == theirs, f"seed {seed}, s = {s}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # HyperNetX warns for each unreachable pair
            for a, b in pairs:
                expect = hg.edge_distance(a, b, s=s)
                assert s_edge_distance(ix, ix.edge_pos(a), ix.edge_pos(b), s) == expect, (seed, s, a, b)


def explicit_line_graph(edges: dict[str, list[int]], s: int) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(edges)
    for a, b in itertools.combinations(edges, 2):
        if len(set(edges[a]) & set(edges[b])) >= s:
            g.add_edge(a, b)
    return g


def brute_force_paths(edges, a, b, s, through, max_len):
    """All minimal simple s-paths a -> b of at most max_len hops passing `through` in order (by enumeration)."""
    g = explicit_line_graph(edges, s)
    starts = [e for e in edges if a in edges[e]]
    goals = {e for e in edges if b in edges[e]}
    found = []
    for e0 in starts:
        for goal in goals:
            candidates = [[e0]] if e0 == goal else nx.all_simple_paths(g, e0, goal, cutoff=max_len)
            for p in candidates:
                if not through and any(a in edges[e] for e in p[1:]):
                    continue  # not minimal: could start later
                stage, early = 0, False
                for i, e in enumerate(p):
                    while stage < len(through) and through[stage] in edges[e]:
                        stage += 1
                    early |= i < len(p) - 1 and stage == len(through) and e in goals
                if stage == len(through) and not early:  # minimal: the goal is first reached at the end
                    found.append(tuple(p))
    return found


@pytest.mark.parametrize("seed", range(8))
def test_k_shortest_and_constrained_paths_match_brute_force(seed):
    edges = random_hypergraph(100 + seed, max_edges=35)
    ix = HyperIndex.from_dict(edges)
    nodes = sorted({v for m in edges.values() for v in m})
    rng = random.Random(seed)
    for s in (1, 2):
        for _ in range(4):
            a, b, c = rng.sample(nodes, 3)
            for through in ([], [c]):
                ours = k_shortest_s_paths(
                    ix,
                    ix.node_pos(a),
                    ix.node_pos(b),
                    s=s,
                    k=4,
                    through=[ix.node_pos(v) for v in through],
                    max_extra_hops=1,
                )
                shortest = s_shortest_path(ix, ix.node_pos(a), ix.node_pos(b), s, [ix.node_pos(v) for v in through])
                if shortest is None:
                    assert ours == []
                    assert brute_force_paths(edges, a, b, s, through, 6) == []
                    continue
                brute = brute_force_paths(edges, a, b, s, through, shortest.length + 1)
                lengths = sorted(len(p) - 1 for p in brute)
                # the breadth-first walk may revisit an edge to meet a constraint; simple paths are never shorter
                assert not lengths or shortest.length <= lengths[0]
                assert through or lengths[0] == shortest.length
                assert [p.length for p in ours] == lengths[:4]
                brute_set = set(brute)
                for p in ours:
                    assert tuple(ix.edge_ids[e] for e in p.edges) in brute_set
                    for e1, e2, hop in zip(p.edges, p.edges[1:], p.hops):
                        shared = sorted(set(edges[ix.edge_ids[e1]]) & set(edges[ix.edge_ids[e2]]))
                        assert sorted(ix.node_ids[v] for v in hop) == shared and len(shared) >= s


def test_hub_does_not_blow_up_s2_components():
    # 3,000 edges all holding the same two hub nodes: the s-line graph would have ~4.5 million entries
    edges = {f"e{i}": [0, 1, 2 + i] for i in range(3000)}
    edges["lonely"] = [0, 99_999]
    ix = HyperIndex.from_dict(edges)
    comps = s_components(ix, 2)
    assert len(comps) == 2 and len(comps[0]) == 3000
    assert s_edge_distance(ix, ix.edge_pos("e0"), ix.edge_pos("e2999"), 2) == 1.0
    assert s_edge_distance(ix, ix.edge_pos("e0"), ix.edge_pos("lonely"), 1) == 1.0
    assert np.isinf(s_edge_distance(ix, ix.edge_pos("e0"), ix.edge_pos("lonely"), 2))


@pytest.mark.parametrize("s", [0, -1, 1.5, True, "2"])
def test_bad_s_is_invalid_input(s):
    ix = HyperIndex.from_dict({"e1": [1, 2], "e2": [2, 3]})
    with pytest.raises(InvalidInput, match="s must be an integer"):
        s_components(ix, s)
    with pytest.raises(InvalidInput):
        s_shortest_path(ix, 0, 2, s)


def test_ceria_reaches_pcl_scaffolds_through_ros_and_stem_cells_in_the_corpus(corpus_store):
    # No passage names ceria and PCL scaffolds together. Ceria scavenges ROS (bio-01), ROS impair the osteogenic
    # differentiation of mesenchymal stem cells (bio-14), chitosan coatings on PCL scaffolds increase the attachment
    # of mesenchymal stem cells (bio-06, which defines "PCL").
    paths = find_paths(corpus_store, "cerium oxide", "PCL scaffolds", s=1, k=3)
    assert paths and paths[0].length == 2
    assert paths[0].intersections == [["reactive oxygen species"], ["mesenchymal stem cell"]]
    docs = [sorted({c.document_id for c in e.citations}) for e in paths[0].edges]
    assert docs == [["bio-01"], ["bio-14"], ["bio-06"]]
    for p in paths:
        assert all(e.citations for e in p.edges) and p.length >= 1
    # no two consecutive passages share two concepts on the way
    assert find_paths(corpus_store, "ceria", "polycaprolactone scaffold", s=2, k=3) == []


def test_constrained_path_passes_the_required_concept(corpus_store):
    paths = find_paths(corpus_store, "cerium oxide", "PCL scaffolds", s=1, k=2, through=["collagen"])
    assert paths
    for p in paths:
        labels = [set(e.sources + e.targets + e.members) for e in p.edges]
        assert any("collagen" in m for m in labels)
        assert "cerium oxide" in labels[0] and "polycaprolactone scaffold" in labels[-1]


def test_unknown_concepts_and_same_endpoint(corpus_store):
    with pytest.raises(NotFound, match=r"'unobtainium' in the knowledge store \(field 'a'\)") as err:
        find_paths(corpus_store, "unobtainium", "PCL")
    assert err.value.field == "a"
    with pytest.raises(NotFound, match=r"field 'through.0'"):
        find_paths(corpus_store, "ceria", "PCL", through=["phlogiston"])
    with pytest.raises(InvalidInput, match="same concept"):
        find_paths(corpus_store, "PCL scaffolds", "polycaprolactone scaffold")
    with pytest.raises(InvalidInput):
        find_paths(corpus_store, "ceria", "PCL", s=0)
