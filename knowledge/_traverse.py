"""Traversal of a hypergraph under s-adjacency, without building the s-line graph.

Two hyperedges are *s-adjacent* when they share at least ``s`` nodes. HyperNetX answers s-queries by materialising
the s-line graph (incidence × incidenceᵀ), whose size grows with the square of hub degrees. Here every edge is
instead linked to its *s-subsets* (the sets of ``s`` of its nodes; for ``s = 1`` simply its nodes), giving a
bipartite graph edges ↔ subsets whose size is linear in the input for the small edges text extraction produces:

- two edges are s-adjacent exactly when they contain a common s-subset, so s-components are the connected
  components of the bipartite graph restricted to edges (one sparse union pass, no pairwise products);
- an s-distance of ``d`` hops is a bipartite distance of ``2 d``; in a breadth-first search each subset is
  expanded once, so a search touches every incidence at most once per constraint stage.

All arrays use dense positions (0 … n_edges-1, 0 … n_nodes-1); :class:`HyperIndex` maps them to caller ids.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import InvalidInput, NotFound
from ._gc import gc_paused

__all__ = [
    "HyperIndex",
    "EdgePath",
    "s_components",
    "s_edge_distance",
    "s_shortest_path",
    "k_shortest_s_paths",
    "MAX_SUBSETS",
]

MAX_SUBSETS = 40_000_000
"""Refuse an s for which the edges would have more s-subsets than this in total (memory guard)."""


def _gather(ptr: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate CSR rows ``rows``; return (values, position in ``rows`` each value came from)."""
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return idx[:0], np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(rows)), lens)
    offs = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(starts, lens)
    return idx[offs], owner


def _distinct(keys: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Positions of one occurrence of each distinct key, in O(len(keys)) (``scratch`` is indexable by every key).

    Scatter then gather: the last writer of each key wins, and exactly one position per key reads its own index
    back. No sort, so hub-sized frontiers stay linear.
    """
    idx = np.arange(len(keys))
    scratch[keys] = idx
    return np.flatnonzero(scratch[keys] == idx)


def _check_s(s: int) -> int:
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
        raise InvalidInput("s", f"s must be an integer ≥ 1 (edges are s-adjacent when they share ≥ s nodes); got {s!r}")
    return int(s)


@dataclass
class _SubsetIndex:
    """Bipartite incidence edges × s-subsets in CSR both ways."""

    e2s_ptr: np.ndarray
    e2s: np.ndarray
    s2e_ptr: np.ndarray
    s2e: np.ndarray
    n_subsets: int


@dataclass
class HyperIndex:
    """Immutable in-memory incidence index of a hypergraph (CSR edge→nodes and node→edges).

    Build it with :meth:`from_incidences` or :meth:`from_dict`. ``edge_ids``/``node_ids`` hold the caller's ids of
    the dense positions; ``edge_pos``/``node_pos`` map back.
    """

    edge_ids: list
    node_ids: list
    e_ptr: np.ndarray
    e_nodes: np.ndarray
    n_ptr: np.ndarray
    n_edges: np.ndarray
    _subsets: dict[int, _SubsetIndex] = field(default_factory=dict, repr=False)
    _edge_pos: dict | None = field(default=None, repr=False)
    _node_pos: dict | None = field(default=None, repr=False)

    @classmethod
    def from_incidences(
        cls, edge_of: np.ndarray, node_of: np.ndarray, edge_ids: Sequence, node_ids: Sequence
    ) -> HyperIndex:
        """Build from parallel arrays of dense edge and node positions (one entry per incidence).

        Parameters
        ----------
        edge_of, node_of : ndarray of int, shape (n_incidences,)
            Dense edge position and node position of each incidence; duplicates are dropped.
        edge_ids, node_ids : sequence
            Caller ids of the dense positions, lengths n_edges and n_nodes.
        """
        n_e, n_n = len(edge_ids), len(node_ids)
        edge_of = np.asarray(edge_of, dtype=np.int64)
        node_of = np.asarray(node_of, dtype=np.int64)
        inc = sp.csr_matrix((np.ones(len(edge_of), dtype=np.int8), (edge_of, node_of)), shape=(n_e, n_n))
        inc.sum_duplicates()
        inc.sort_indices()
        inc_t = inc.T.tocsr()
        inc_t.sort_indices()
        return cls(
            list(edge_ids),
            list(node_ids),
            inc.indptr.astype(np.int64),
            inc.indices.astype(np.int64),
            inc_t.indptr.astype(np.int64),
            inc_t.indices.astype(np.int64),
        )

    @classmethod
    def from_dict(cls, edges: Mapping[Hashable, Iterable[Hashable]]) -> HyperIndex:
        """Build from ``{edge_id: [node_id, ...]}`` (the HyperNetX set-system form)."""
        edge_ids = list(edges)
        node_pos: dict[Hashable, int] = {}
        e_of: list[int] = []
        n_of: list[int] = []
        for i, e in enumerate(edge_ids):
            for v in edges[e]:
                e_of.append(i)
                n_of.append(node_pos.setdefault(v, len(node_pos)))
        return cls.from_incidences(
            np.array(e_of, dtype=np.int64), np.array(n_of, dtype=np.int64), edge_ids, list(node_pos)
        )

    # ------------------------------------------------------------------ lookups
    @property
    def n_edges_total(self) -> int:
        return len(self.edge_ids)

    @property
    def n_nodes_total(self) -> int:
        return len(self.node_ids)

    @property
    def sizes(self) -> np.ndarray:
        """Number of nodes in each edge, shape (n_edges,)."""
        return np.diff(self.e_ptr)

    @property
    def degrees(self) -> np.ndarray:
        """Number of edges at each node, shape (n_nodes,)."""
        return np.diff(self.n_ptr)

    def edge_pos(self, edge_id: Hashable) -> int:
        if self._edge_pos is None:
            self._edge_pos = {e: i for i, e in enumerate(self.edge_ids)}
        try:
            return self._edge_pos[edge_id]
        except KeyError:
            raise NotFound(f"no hyperedge {edge_id!r}") from None

    def node_pos(self, node_id: Hashable) -> int:
        if self._node_pos is None:
            self._node_pos = {v: i for i, v in enumerate(self.node_ids)}
        try:
            return self._node_pos[node_id]
        except KeyError:
            raise NotFound(f"no node {node_id!r}") from None

    def nodes_of(self, e: int) -> np.ndarray:
        """Dense node positions of edge position ``e`` (sorted)."""
        return self.e_nodes[self.e_ptr[e] : self.e_ptr[e + 1]]

    def edges_of(self, v: int) -> np.ndarray:
        """Dense edge positions containing node position ``v`` (sorted)."""
        return self.n_edges[self.n_ptr[v] : self.n_ptr[v + 1]]

    def contains_mask(self, v: int) -> np.ndarray:
        """Boolean mask over edges: which edges contain node position ``v``."""
        mask = np.zeros(self.n_edges_total, dtype=bool)
        mask[self.edges_of(v)] = True
        return mask

    # ------------------------------------------------------------------ s-subsets
    def subsets(self, s: int) -> _SubsetIndex:
        """The edges × s-subsets incidence (cached per s)."""
        s = _check_s(s)
        if s in self._subsets:
            return self._subsets[s]
        if s == 1:
            idx = _SubsetIndex(self.e_ptr, self.e_nodes, self.n_ptr, self.n_edges, self.n_nodes_total)
        else:
            idx = self._build_subsets(s)
        self._subsets[s] = idx
        return idx

    def _build_subsets(self, s: int) -> _SubsetIndex:
        sizes = self.sizes
        total = sum(math.comb(int(k), s) * int(c) for k, c in zip(*np.unique(sizes, return_counts=True)))
        if total > MAX_SUBSETS:
            raise InvalidInput("s", f"s = {s} needs {total:,} s-subsets (limit {MAX_SUBSETS:,}); use a larger s")
        keys_parts, edge_parts = [], []
        n_n = max(self.n_nodes_total, 1)
        encodable = s * math.log2(n_n) < 62  # not n_n**s: a huge s made that power run for minutes
        for k in np.unique(sizes):
            k = int(k)
            if k < s:
                continue
            es = np.flatnonzero(sizes == k)
            mat = self.e_nodes[self.e_ptr[es][:, None] + np.arange(k)[None, :]]  # (n_k, k), rows sorted
            combos = np.array(list(itertools.combinations(range(k), s)), dtype=np.int64)  # (c, s)
            sub = mat[:, combos].reshape(-1, s)  # (n_k * c, s)
            if encodable:
                key = np.zeros(len(sub), dtype=np.int64)
                for j in range(s):
                    key = key * n_n + sub[:, j]
                keys_parts.append(key)
            else:
                keys_parts.append(sub)
            edge_parts.append(np.repeat(es, len(combos)))
        if not edge_parts:
            empty = np.zeros(0, dtype=np.int64)
            return _SubsetIndex(
                np.zeros(self.n_edges_total + 1, dtype=np.int64), empty, np.zeros(1, np.int64), empty, 0
            )
        edge_of = np.concatenate(edge_parts)
        if encodable:
            _, sub_of = np.unique(np.concatenate(keys_parts), return_inverse=True)
        else:
            _, sub_of = np.unique(np.concatenate(keys_parts), axis=0, return_inverse=True)
        sub_of = sub_of.reshape(-1)
        n_s = int(sub_of.max()) + 1
        b = sp.csr_matrix((np.ones(len(edge_of), dtype=np.int8), (edge_of, sub_of)), shape=(self.n_edges_total, n_s))
        bt = b.T.tocsr()
        return _SubsetIndex(
            b.indptr.astype(np.int64),
            b.indices.astype(np.int64),
            bt.indptr.astype(np.int64),
            bt.indices.astype(np.int64),
            n_s,
        )

    def neighbours(self, e: int, s: int) -> np.ndarray:
        """Dense positions of edges s-adjacent to edge position ``e`` (excluding ``e``), sorted."""
        sub = self.subsets(s)
        subs = sub.e2s[sub.e2s_ptr[e] : sub.e2s_ptr[e + 1]]
        nb, _ = _gather(sub.s2e_ptr, sub.s2e, subs)
        nb = np.unique(nb)
        return nb[nb != e]


# ---------------------------------------------------------------------- components
def s_components(ix: HyperIndex, s: int = 1) -> list[list[int]]:
    """s-connected components of the edges, as lists of dense edge positions.

    Every edge belongs to exactly one component; an edge with fewer than ``s`` nodes is a singleton (as in
    HyperNetX's ``s_connected_components(s, edges=True, return_singletons=True)``). Components are sorted by size,
    largest first, ties by smallest member.

    Notes
    -----
    Cost is linear in the number of (edge, s-subset) incidences: one sparse connected-components pass over the
    bipartite graph edges ↔ s-subsets.
    """
    sub = ix.subsets(s)
    n_e = ix.n_edges_total
    rows = np.repeat(np.arange(n_e), np.diff(sub.e2s_ptr))
    cols = n_e + sub.e2s
    n = n_e + sub.n_subsets
    graph = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    if n_e == 0:
        return []
    _, labels = connected_components(graph, directed=False)
    labels = labels[:n_e]
    order = np.argsort(labels, kind="stable")  # edges grouped by component, ascending within each
    sizes = np.bincount(labels)
    starts = np.cumsum(sizes) - sizes
    present = np.flatnonzero(sizes)  # every component holds an edge, but be safe
    rank = present[np.lexsort((order[starts[present]], -sizes[present]))]  # largest first, then smallest member
    # one conversion to Python ints and plain slicing: hundreds of thousands of singletons stay cheap
    flat = order.tolist()
    bounds = zip(starts[rank].tolist(), (starts + sizes)[rank].tolist())
    with gc_paused():  # hundreds of thousands of new lists would otherwise trigger repeated full collections
        return [flat[a:b] for a, b in bounds]


# ---------------------------------------------------------------------- breadth-first search
@dataclass
class EdgePath:
    """A sequence of s-adjacent hyperedges (dense positions) and the nodes shared at each hop."""

    edges: list[int]
    hops: list[list[int]]  # hops[i] = dense node positions in edges[i] ∩ edges[i+1]

    @property
    def length(self) -> int:
        """Number of hops (edges - 1)."""
        return len(self.edges) - 1


def _hops(ix: HyperIndex, edges: list[int]) -> list[list[int]]:
    return [
        np.intersect1d(ix.nodes_of(a), ix.nodes_of(b), assume_unique=True).tolist()
        for a, b in zip(edges[:-1], edges[1:])
    ]


def _advance(stage: np.ndarray, edges: np.ndarray, required: list[np.ndarray]) -> np.ndarray:
    """Stage after entering ``edges``: pass every next required node that the edge contains, in order."""
    stage = stage.copy()
    for _ in range(len(required)):
        active = stage < len(required)
        if not active.any():
            break
        hit = np.zeros(len(stage), dtype=bool)
        for j in np.unique(stage[active]):
            sel = stage == j
            hit[sel] = required[j][edges[sel]]
        if not hit.any():
            break
        stage = stage + hit
    return stage


def _bfs(
    ix: HyperIndex,
    starts: np.ndarray,
    goal: np.ndarray,
    s: int,
    required: list[np.ndarray],
    max_hops: int | None = None,
) -> list[int] | None:
    """Shortest edge sequence from any edge in ``starts`` to any edge of ``goal`` passing the required nodes.

    The search runs on the product of edges and constraint stages (stage j = the first j required nodes have been
    passed, in order); each (subset, stage) is expanded once.
    """
    sub = ix.subsets(s)
    n_e, m = ix.n_edges_total, len(required)
    parent = np.full((m + 1, n_e), -2, dtype=np.int64)  # -2 unvisited, -1 start, else parent state index
    seen_sub = np.zeros((m + 1, max(sub.n_subsets, 1)), dtype=bool)
    scratch_sub = np.empty((m + 1) * max(sub.n_subsets, 1), dtype=np.int64)  # never read before written
    scratch_edge = np.empty((m + 1) * n_e, dtype=np.int64)
    fe = np.asarray(starts, dtype=np.int64)
    fj = _advance(np.zeros(len(fe), dtype=np.int64), fe, required)
    parent[fj, fe] = -1
    depth = 0
    while len(fe):
        done = (fj == m) & goal[fe]
        if done.any():
            k = int(np.flatnonzero(done)[0])
            state = int(fj[k]) * n_e + int(fe[k])
            path = []
            while state >= 0:
                path.append(state % n_e)
                state = int(parent[state // n_e, state % n_e])
            return path[::-1]
        if max_hops is not None and depth >= max_hops:
            return None
        depth += 1
        subs, owner = _gather(sub.e2s_ptr, sub.e2s, fe)
        sj = fj[owner]
        keep = ~seen_sub[sj, subs]
        subs, owner, sj = subs[keep], owner[keep], sj[keep]
        first = _distinct(sj * sub.n_subsets + subs, scratch_sub)
        subs, owner, sj = subs[first], owner[first], sj[first]
        seen_sub[sj, subs] = True
        nxt, via = _gather(sub.s2e_ptr, sub.s2e, subs)
        nj = _advance(sj[via], nxt, required)
        keep = parent[nj, nxt] == -2
        nxt, via, nj = nxt[keep], via[keep], nj[keep]
        first = _distinct(nj * n_e + nxt, scratch_edge)
        nxt, via, nj = nxt[first], via[first], nj[first]
        src = owner[via]
        parent[nj, nxt] = fj[src] * n_e + fe[src]
        fe, fj = nxt, nj
    return None


class _Side:
    """One direction of the bidirectional search: visited marks, levels and parent pointers."""

    def __init__(self, ix: HyperIndex, sub: _SubsetIndex, roots: np.ndarray):
        n_e, n_s = ix.n_edges_total, max(sub.n_subsets, 1)
        self.edge_seen = np.zeros(n_e, dtype=bool)
        self.sub_seen = np.zeros(n_s, dtype=bool)
        self.edge_level = np.empty(n_e, dtype=np.int64)  # valid where edge_seen
        self.edge_via = np.empty(n_e, dtype=np.int64)  # subset that reached the edge (-1 for roots)
        self.sub_via = np.empty(n_s, dtype=np.int64)  # edge that first expanded the subset
        self.frontier = np.unique(np.asarray(roots, dtype=np.int64))
        self.edge_seen[self.frontier] = True
        self.edge_level[self.frontier] = 0
        self.edge_via[self.frontier] = -1
        self.level = 0

    def expand(self, sub: _SubsetIndex, scratch_sub: np.ndarray, scratch_edge: np.ndarray) -> np.ndarray:
        """Advance one level; return the newly reached edges."""
        subs, owner = _gather(sub.e2s_ptr, sub.e2s, self.frontier)
        keep = ~self.sub_seen[subs]
        subs, owner = subs[keep], owner[keep]
        first = _distinct(subs, scratch_sub)
        subs, owner = subs[first], owner[first]
        self.sub_seen[subs] = True
        self.sub_via[subs] = self.frontier[owner]
        nxt, via = _gather(sub.s2e_ptr, sub.s2e, subs)
        keep = ~self.edge_seen[nxt]
        nxt, via = nxt[keep], via[keep]
        first = _distinct(nxt, scratch_edge)
        nxt, via = nxt[first], via[first]
        self.level += 1
        self.edge_seen[nxt] = True
        self.edge_level[nxt] = self.level
        self.edge_via[nxt] = subs[via]
        self.frontier = nxt
        return nxt

    def chain(self, e: int) -> list[int]:
        """Edges from a root to ``e``."""
        out = [e]
        while self.edge_via[e] >= 0:
            e = int(self.sub_via[self.edge_via[e]])
            out.append(e)
        return out[::-1]


def _bidirectional(ix: HyperIndex, starts: np.ndarray, goals: np.ndarray, s: int) -> list[int] | None:
    """Shortest s-path from any edge of ``starts`` to any edge of ``goals`` by two searches that meet.

    Each step advances the side with the smaller frontier by one level; a path through an edge reached by both
    sides has length level_A + level_B. Every path of length ≤ L_A + L_B has been seen once both sides have
    completed those levels, so the search stops when the best meeting is no longer than that.
    """
    if len(starts) == 0 or len(goals) == 0:
        return None
    sub = ix.subsets(s)
    a, b = _Side(ix, sub, starts), _Side(ix, sub, goals)
    scratch_sub = np.empty(max(sub.n_subsets, 1), dtype=np.int64)
    scratch_edge = np.empty(ix.n_edges_total, dtype=np.int64)
    best, meet = math.inf, -1
    both = np.flatnonzero(b.edge_seen[a.frontier])
    if len(both):
        best, meet = 0, int(a.frontier[both[0]])
    while best > a.level + b.level and len(a.frontier) and len(b.frontier):
        x, y = (a, b) if len(a.frontier) <= len(b.frontier) else (b, a)
        new = x.expand(sub, scratch_sub, scratch_edge)
        hit = new[y.edge_seen[new]]
        if len(hit):
            k = int(np.argmin(y.edge_level[hit]))
            length = x.level + int(y.edge_level[hit[k]])
            if length < best:
                best, meet = length, int(hit[k])
    if meet < 0:
        return None
    return a.chain(meet) + b.chain(meet)[::-1][1:]


def _endpoint_edges(ix: HyperIndex, v: int) -> np.ndarray:
    return ix.edges_of(v)


def s_edge_distance(ix: HyperIndex, e1: int, e2: int, s: int = 1) -> float:
    """Hops between edge positions ``e1`` and ``e2`` in the s-line graph; ``inf`` when not s-connected.

    Matches HyperNetX's ``Hypergraph.edge_distance(e1, e2, s)``.
    """
    s = _check_s(s)
    path = _bidirectional(ix, np.array([e1]), np.array([e2]), s)
    return math.inf if path is None else float(len(path) - 1)


def s_shortest_path(ix: HyperIndex, a: int, b: int, s: int = 1, through: Sequence[int] = ()) -> EdgePath | None:
    """A shortest s-path of hyperedges from node position ``a`` to node position ``b``.

    The path starts at an edge containing ``a``, ends at an edge containing ``b``, consecutive edges share ≥ ``s``
    nodes, and the nodes ``through`` appear in its edges in the order given (node-intersection constraints).
    Returns ``None`` when no such path exists. Without constraints the result is a simple path; with constraints
    it is a shortest *walk*, which may enter an edge twice when a required node forces a detour
    (:func:`k_shortest_s_paths` returns simple paths only).
    """
    s = _check_s(s)
    if not through:
        path = _bidirectional(ix, _endpoint_edges(ix, a), _endpoint_edges(ix, b), s)
        return None if path is None else EdgePath(path, _hops(ix, path))
    required = [ix.contains_mask(v) for v in through]
    path = _bfs(ix, _endpoint_edges(ix, a), ix.contains_mask(b), s, required)
    return None if path is None else EdgePath(path, _hops(ix, path))


def _distance_to(ix: HyperIndex, v: int, s: int) -> np.ndarray:
    """Hops from every edge to the nearest edge containing node ``v`` (large value where unreachable)."""
    sub = ix.subsets(s)
    n_e = ix.n_edges_total
    dist = np.full(n_e, np.iinfo(np.int32).max // 4, dtype=np.int64)
    fe = ix.edges_of(v)
    dist[fe] = 0
    seen_sub = np.zeros(max(sub.n_subsets, 1), dtype=bool)
    scratch_sub = np.empty(max(sub.n_subsets, 1), dtype=np.int64)
    scratch_edge = np.empty(n_e, dtype=np.int64)
    d = 0
    while len(fe):
        d += 1
        subs, _ = _gather(sub.e2s_ptr, sub.e2s, fe)
        subs = subs[~seen_sub[subs]]
        subs = subs[_distinct(subs, scratch_sub)]
        seen_sub[subs] = True
        nxt, _ = _gather(sub.s2e_ptr, sub.s2e, subs)
        nxt = nxt[dist[nxt] > d]
        nxt = nxt[_distinct(nxt, scratch_edge)]
        dist[nxt] = d
        fe = nxt
    return dist


def k_shortest_s_paths(
    ix: HyperIndex,
    a: int,
    b: int,
    s: int = 1,
    k: int = 3,
    through: Sequence[int] = (),
    max_extra_hops: int = 2,
    max_expansions: int = 20_000,
) -> list[EdgePath]:
    """Up to ``k`` shortest simple s-paths from node ``a`` to node ``b`` (dense positions), shortest first.

    Paths are minimal: only the last edge reaches the goal (``b`` after every required node), and without
    constraints only the first edge contains ``a``. Lengths range from the
    shortest length up to ``max_extra_hops`` more. The enumeration is a depth-first search bounded by exact
    distances to the remaining required nodes and to ``b``, computed once by breadth-first searches; it stops after
    ``max_expansions`` edge expansions.
    """
    s = _check_s(s)
    if k < 1:
        raise InvalidInput("k", f"k must be ≥ 1, got {k}")
    first = s_shortest_path(ix, a, b, s, through)
    if first is None:
        return []
    if k == 1 and not through:  # an unconstrained breadth-first path is already simple and minimal
        return [first]
    stops = [*through, b]
    dist = np.stack([_distance_to(ix, v, s) for v in stops])  # (m + 1, n_edges)
    # tail[j]: fewest hops from any edge holding stops[j] to the final goal through the later stops.
    tail = np.zeros(len(stops), dtype=np.int64)
    for j in range(len(stops) - 2, -1, -1):
        tail[j] = dist[j + 1][ix.edges_of(stops[j])].min() + tail[j + 1]
    required = [ix.contains_mask(v) for v in through]
    goal, start_mask = ix.contains_mask(b), ix.contains_mask(a)
    m = len(through)
    found: list[list[int]] = []
    budget = [max_expansions]

    def bound(e: int, j: int) -> int:
        return int(dist[j][e]) + tail[j]

    def dfs(path: list[int], j: int, limit: int) -> None:
        if len(found) >= k or budget[0] <= 0:
            return
        e = path[-1]
        if j == m and goal[e]:
            if len(path) - 1 == limit:
                found.append(list(path))
            return
        used = len(path) - 1
        budget[0] -= 1
        nb = ix.neighbours(e, s)
        if m == 0:  # a later edge holding `a` would make a shorter path; with constraints it may be needed
            nb = nb[~start_mask[nb]]
        nj = _advance(np.full(len(nb), j, dtype=np.int64), nb, required)
        ok = used + 1 + dist[nj, nb] + tail[nj] <= limit
        for f, jj in zip(nb[ok].tolist(), nj[ok].tolist()):
            if f in path:
                continue
            path.append(f)
            dfs(path, jj, limit)
            path.pop()
            if len(found) >= k:
                return

    shortest = first.length
    for limit in range(shortest, shortest + max_extra_hops + 1):
        for e0 in ix.edges_of(a).tolist():
            j0 = int(_advance(np.zeros(1, dtype=np.int64), np.array([e0]), required)[0])
            if bound(e0, j0) <= limit:
                dfs([e0], j0, limit)
            if len(found) >= k or budget[0] <= 0:
                break
        if len(found) >= k or budget[0] <= 0:
            break
    return [EdgePath(p, _hops(ix, p)) for p in found]
