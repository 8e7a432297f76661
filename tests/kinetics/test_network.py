"""Parser, stoichiometry, graph and conservation laws of reaction networks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.kinetics import integer_nullspace, parse_network, parse_reaction, rate_constant_unit

PDPC = [
    "W + E1 <-> E1W; kf=100, kr=5",
    "E1W -> W* + E1; kf=5",
    "W* + E2 <-> E2W*; kf=100, kr=5",
    "E2W* -> W + E2; kf=5",
]


def test_parse_reaction_fields():
    r = parse_reaction("bind: E + 2 S <-> ES2 ; kf=1e3, kr=2")
    assert r.name == "bind" and r.reversible
    assert r.reactants == {"E": 1, "S": 2} and r.products == {"ES2": 1}
    assert (r.k_forward, r.k_reverse) == (1e3, 2.0)
    assert r.order == 3 and rate_constant_unit(r.order) == "(m³/mol)^2/s"
    assert parse_reaction("2A+B -> C").reactants == {"A": 2, "B": 1}
    assert parse_reaction("0 -> X; k=3").reactants == {}


def test_stoichiometric_matrix_and_graph():
    net = parse_network(PDPC)
    assert net.species == ["W", "E1", "E1W", "W*", "E2", "E2W*"]
    n = net.stoichiometric_matrix()
    assert n.shape == (6, 4)
    np.testing.assert_array_equal(n[:, 0], [-1, -1, 1, 0, 0, 0])
    g = net.graph()
    assert g.nodes["r2"]["kind"] == "reaction" and g.nodes["W"]["bipartite"] == 0
    # Bipartite: every edge joins a species and a reaction (networkx's own check on the species node set).
    assert nx.bipartite.is_bipartite_node_set(g.to_undirected(), net.species)
    assert g.number_of_edges() == 12  # 3 species per reaction (no catalyst appears on both sides here)
    assert g.has_edge("E1W", "r2") and g.has_edge("r2", "W*") and g["r2"]["W*"]["stoichiometry"] == 1


def test_conservation_laws_are_nonnegative_integer_basis():
    net = parse_network(PDPC)
    laws = net.conservation_laws()
    # Kinase total, phosphatase total, substrate total (W in any form): the three P-invariants of the cycle.
    assert {net.describe_law(r) for r in laws} == {"E1 + E1W", "E2 + E2W*", "W + E1W + W* + E2W*"}
    assert not np.any(laws @ net.stoichiometric_matrix())
    assert parse_network(["0 -> X; k=1", "X -> 0; k=1"]).conservation_laws().shape == (0, 1)


def test_conservation_law_with_mixed_signs_when_no_semipositive_basis_exists():
    # 0 -> A + B makes A and B together; only A − B is conserved (no non-negative invariant): the exact integer
    # basis must then be returned instead.
    net = parse_network(["0 -> A + B; k=1", "A + B <-> C; kf=1, kr=1"])
    laws = net.conservation_laws()
    assert laws.tolist() == [[1, -1, 0]] and net.describe_law(laws[0]) == "A - B"
    assert not np.any(laws @ net.stoichiometric_matrix())


def test_integer_nullspace_exact():
    # A + B -> C and C -> A + D, D -> B: left null space of N (species x reactions), exact integers.
    n = np.array([[-1, 1, 0], [-1, 0, 1], [1, -1, 0], [0, 1, -1]])
    basis = integer_nullspace(n.T)
    assert len(basis) == 2 and all(isinstance(x, int) for v in basis for x in v)
    assert not np.any(np.array(basis) @ n)


@pytest.mark.parametrize(
    ("reactions", "species", "field", "match"),
    [
        (["A + 1.5 B -> C"], None, "reactions.0", "non-integer"),
        (["A + -2 B -> C"], None, "reactions.0", "negative"),
        (["0 A + B -> C"], None, "reactions.0", "zero"),
        (["r: A -> B", "r: B -> C"], None, "reactions.1", "duplicated reaction name"),
        (["A -> B", "B -> C"], ["A", "B"], "reactions.1 (r2)", "unknown species 'C'"),
        (["A -> B; kf=-1"], None, "reactions.0", "> 0"),
        (["A -> B; kr=1"], None, "reactions.0", "irreversible"),
        (["A B"], None, "reactions.0", "arrow"),
        (["A -> 2$"], None, "reactions.0", "invalid species"),
    ],
)
def test_parser_errors_name_the_field(reactions, species, field, match):
    with pytest.raises(InvalidInput, match=match) as err:
        parse_network(reactions, species=species)
    assert err.value.field == field


@pytest.mark.parametrize(
    "reactions",
    [["A <-> B", "A -> B"], ["A <-> B", "B -> A"], ["A -> B", "A -> B"], ["A <-> B", "B <-> A"]],
)
def test_parallel_reactions_are_kept_as_written(reactions):
    # Networks as written: a reversible step and a parallel irreversible (or second) route between the same species
    # are separate columns of N; whether they can coexist thermodynamically is extended detailed balance's question.
    net = parse_network(reactions)
    assert net.n_reactions == 2 and net.species == ["A", "B"]
    n = net.stoichiometric_matrix()
    assert abs(n[:, 0]).tolist() == abs(n[:, 1]).tolist() == [1, 1]
    assert net.conservation_laws().tolist() == [[1, 1]]
