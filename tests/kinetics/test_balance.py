"""Extended detailed balance (Gorban & Yablonsky, Chem. Eng. Sci. 66 (2011) 5388, arXiv:1101.5280)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from labwright.tools.kinetics import (
    PdPCParameters,
    check_detailed_balance,
    extended_detailed_balance,
    parse_network,
    pdpc_network,
)


def triangle(k1, km1, k2, km2, k3, km3):
    return parse_network([f"A <-> B; kf={k1}, kr={km1}", f"B <-> C; kf={k2}, kr={km2}", f"C <-> A; kf={k3}, kr={km3}"])


def _is_cycle(net, terms):
    """Σ c_j ν_j = 0 with the named coefficients (exact check of the returned combination)."""
    names = [r.name for r in net.reactions]
    c = np.zeros(len(names))
    for t in terms:
        c[names.index(t.reaction)] = t.coefficient
    return np.allclose(net.stoichiometric_matrix() @ c, 0.0)


def test_triangle_passes_only_when_wegscheider_holds():
    # Wegscheider: A⇌B⇌C⇌A is at detailed balance iff k1·k2·k3 = k−1·k−2·k−3.
    ok = extended_detailed_balance(triangle(1.0, 2.0, 3.0, 4.0, 8.0 / 3.0, 1.0))
    assert ok.satisfied and ok.algebraic_ok and ok.structural_ok
    assert ok.cycle_conditions == ["k+r1·k+r2·k+r3 = k-r1·k-r2·k-r3"]
    bad = extended_detailed_balance(triangle(1.0, 2.0, 3.0, 4.0, 5.0, 1.0))
    assert bad.satisfied is False and bad.algebraic_ok is False and bad.structural_ok
    assert [t.reaction for t in bad.violated_cycle] == ["r1", "r2", "r3"]
    # Deviation = ln(k1 k2 k3 / (k−1 k−2 k−3)) = ln(15/8), exact to rounding.
    assert bad.log_deviation == pytest.approx(math.log(15 / 8), rel=1e-12)


@pytest.mark.parametrize("factor", [1.0 + 1e-9, 1.0 - 1e-9])
def test_triangle_tolerance_is_relative_to_product(factor):
    # Within rtol = 1e-6 a mismatch of 1e-9 in the product still counts as balanced.
    assert extended_detailed_balance(triangle(1.0, 2.0, 3.0, 4.0, 8.0 / 3.0 * factor, 1.0)).satisfied


def test_irreversible_futile_cycle_fails_structural_condition_and_names_it():
    # Irreversible PdPC: binding steps reversible, catalysis irreversible. γ_cat1 + γ_cat2 = −(ν_bind1 + ν_bind2),
    # an oriented cycle through both irreversible steps, so the structural condition must fail.
    net = pdpc_network(PdPCParameters())
    rep = extended_detailed_balance(net)
    assert rep.structural_ok is False and rep.satisfied is False
    coeffs = {t.reaction: t.coefficient for t in rep.offending_combination}
    assert coeffs == {
        "kinase_binding": 1.0,
        "kinase_catalysis": 1.0,
        "phosphatase_binding": 1.0,
        "phosphatase_catalysis": 1.0,
    }
    assert _is_cycle(net, rep.offending_combination)
    assert "kinase_catalysis" in rep.message


def test_irreversible_step_in_span_of_reversible_ones():
    net = parse_network(["A <-> B", "B <-> C", "A -> C"])
    rep = extended_detailed_balance(net)
    assert not rep.structural_ok
    coeffs = {t.reaction: t.coefficient for t in rep.offending_combination}
    assert coeffs == {"r1": -1.0, "r2": -1.0, "r3": 1.0}  # A→C then back C→B→A
    assert _is_cycle(net, rep.offending_combination)
    assert rep.algebraic_ok  # the reversible part A ⇌ B ⇌ C has no cycle: nothing to check without constants
    assert rep.satisfied is False  # decided by the structural condition alone
    # With a reversible cycle but no constants, the algebraic verdict stays open and the structural one decides.
    open_cycle = extended_detailed_balance(parse_network(["A <-> B", "B <-> C", "C <-> A", "A -> D"]))
    assert open_cycle.structural_ok and open_cycle.algebraic_ok is None and open_cycle.satisfied is None
    assert open_cycle.cycle_conditions == ["k+r1·k+r2·k+r3 = k-r1·k-r2·k-r3"]


def test_michaelis_menten_with_irreversible_product_step_passes():
    rep = check_detailed_balance(reactions=["E + S <-> ES; kf=100, kr=1", "ES -> E + P; kf=10"])
    assert rep.satisfied and rep.structural_ok and rep.offending_combination == []
    assert rep.irreversible == ["r2"]
    # Without constants the verdict is the same: the reversible part has no cycle, so Wegscheider asks nothing.
    bare = check_detailed_balance(reactions=["E + S <-> ES", "ES -> E + P"])
    assert bare.satisfied and bare.algebraic_ok and bare.cycle_conditions == []


def test_reversible_pdpc_balanced_only_at_zero_phosphorylation_potential():
    # Qian (2003): equilibrium iff γ = a1 k1 a2 k2 / (d1 k−1 d2 k−2) = 1 (ΔG = 0).
    p = PdPCParameters(km2=1.0, km1=100 * 5 * 100 * 5 / (5 * 5 * 1.0))
    assert extended_detailed_balance(pdpc_network(p)).satisfied
    rep = extended_detailed_balance(pdpc_network(p.model_copy(update={"km2": 2.0})))
    assert rep.structural_ok and rep.algebraic_ok is False
    assert len(rep.violated_cycle) == 4
    assert abs(rep.log_deviation) == pytest.approx(math.log(2.0), rel=1e-12)


def test_parallel_irreversible_route_beside_a_reversible_one_violates_the_structural_condition():
    # A ⇌ B with A → B: γ(A→B) = B − A lies in span{ν(A⇌B)}, so the convex hull of the irreversible vectors meets the
    # reversible span (Gorban & Yablonsky 2011, structural condition): A → B then B → A is an oriented cycle, which no
    # limit of a detailed-balanced system can contain, whatever the constants.
    net = parse_network(["A <-> B; kf=1, kr=1", "A -> B; kf=1"])
    rep = extended_detailed_balance(net)
    assert rep.structural_ok is False and rep.satisfied is False and rep.irreversible == ["r2"]
    assert {t.reaction: t.coefficient for t in rep.offending_combination} == {"r1": -1.0, "r2": 1.0}
    assert _is_cycle(net, rep.offending_combination)
    # The reversible part alone (one reaction) has no cycle, so its Wegscheider conditions are empty.
    assert rep.algebraic_ok is True and rep.cycle_conditions == []


def test_parallel_irreversible_routes_with_same_direction_pass():
    # Two A → B routes (e.g. catalysed and uncatalysed limits): the hull {B − A} misses span{} = {0}; a third,
    # opposite route B → A closes the cycle ½γ1 + ½γ3 = 0 and must fail.
    assert extended_detailed_balance(parse_network(["A -> B; kf=1", "A -> B; kf=3"])).satisfied is True
    rep = extended_detailed_balance(parse_network(["A -> B", "A -> B", "B -> A"]))
    assert rep.structural_ok is False
    assert _is_cycle(parse_network(["A -> B", "A -> B", "B -> A"]), rep.offending_combination)


@pytest.mark.parametrize(("k2", "km2", "balanced"), [(3.0, 6.0, True), (3.0, 1.0, False)])
def test_parallel_reversible_routes_need_equal_equilibrium_constants(k2, km2, balanced):
    # Two reversible routes A ⇌ B form the cycle (r1, −r2); Wegscheider: k+r1·k-r2 = k-r1·k+r2, i.e. both routes
    # must share K = k+/k− (one equilibrium constant per overall transformation).
    net = parse_network(["A <-> B; kf=1, kr=2", f"A <-> B; kf={k2}, kr={km2}"])
    rep = extended_detailed_balance(net)
    assert rep.structural_ok and rep.satisfied is balanced
    assert rep.cycle_conditions in (["k+r1·k-r2 = k-r1·k+r2"], ["k-r1·k+r2 = k+r1·k-r2"])
    if not balanced:
        # |ln K1 − ln K2| = |ln(1/2) − ln(3/1)| = ln 6; the sign depends on the orientation of the cycle basis.
        assert abs(rep.log_deviation) == pytest.approx(math.log(6.0), rel=1e-12)
