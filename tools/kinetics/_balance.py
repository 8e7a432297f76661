"""Extended detailed balance for networks with reversible and irreversible reactions (Gorban & Yablonsky).

Gorban and Yablonsky ("Extended detailed balance for systems with irreversible reactions", Chem. Eng. Sci. 66
(2011) 5388; arXiv:1101.5280) obtain irreversible steps as limits of reversible ones with detailed balance and prove
that such a mechanism must satisfy two conditions:

* **structural**: the convex hull of the stoichiometric vectors γ_i of the irreversible reactions does not meet the
  linear span of the vectors ν_j of the reversible ones; equivalently no oriented cycle uses an irreversible step.
  Decided here by the linear program  find λ ≥ 0, Σλ = 1, μ free  with  Σ λ_i γ_i = Σ μ_j ν_j  (scipy ``linprog``,
  HiGHS dual simplex so a feasible answer is a sparse vertex). A feasible point *is* the offending combination;
  it is rescaled to small integers where exact.
* **algebraic** (Wegscheider): the reversible part obeys detailed balance, i.e. for every integer vector c in the
  null space of the reversible stoichiometric matrix (every cycle), Σ c_j ln(k⁺_j / k⁻_j) = 0. Checking an exact
  integer basis of that null space is sufficient, because the condition is linear in c.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from pydantic import Field
from scipy.optimize import linprog

from ..fields import ToolModel
from ._network import ReactionNetwork, integer_nullspace

__all__ = ["ReactionTerm", "DetailedBalanceReport", "extended_detailed_balance"]


class ReactionTerm(ToolModel):
    """One reaction in a combination; a negative coefficient means the reaction runs backwards."""

    reaction: str = Field(description="Reaction name.")
    equation: str = Field(description="The reaction as written.")
    coefficient: float = Field(description="Multiplier of the reaction's stoichiometric vector (dimensionless).")


class DetailedBalanceReport(ToolModel):
    """Result of the extended detailed-balance check."""

    satisfied: bool | None = Field(
        description="Both conditions hold (None if the structural one holds but the algebraic one could not be "
        "evaluated for lack of constants)."
    )
    structural_ok: bool = Field(description="No oriented cycle through an irreversible reaction.")
    offending_combination: list[ReactionTerm] = Field(
        default_factory=list,
        description="When structural_ok is False: coefficients c with Σ c_j γ_j = 0 (irreversible ones > 0).",
    )
    algebraic_ok: bool | None = Field(
        description="Wegscheider condition on every cycle of the reversible part (None: constants missing)."
    )
    violated_cycle: list[ReactionTerm] = Field(
        default_factory=list, description="When algebraic_ok is False: integer cycle c with Σ c_j ln K_j ≠ 0."
    )
    log_deviation: float | None = Field(
        default=None, description="Σ c_j ln(k⁺_j/k⁻_j) on the violated cycle (dimensionless; 0 at detailed balance)."
    )
    cycle_conditions: list[str] = Field(
        default_factory=list, description="Wegscheider conditions of a cycle basis, e.g. 'k+r1·k+r2 = k-r1·k-r2'."
    )
    irreversible: list[str] = Field(default_factory=list, description="Names of irreversible reactions.")
    message: str = Field(description="Plain-language verdict.")


def _integer_ratios(values: np.ndarray, max_den: int = 1000) -> list[Fraction]:
    scale = np.max(np.abs(values)) if values.size else 1.0
    return [Fraction(float(v / scale)).limit_denominator(max_den) for v in values]


def _as_integers(fracs: list[Fraction]) -> list[int]:
    lcm = 1
    for f in fracs:
        lcm = lcm * f.denominator // math.gcd(lcm, f.denominator)
    ints = [int(f * lcm) for f in fracs]
    g = 0
    for x in ints:
        g = math.gcd(g, abs(x))
    return [x // g for x in ints] if g > 1 else ints


def _structural(net: ReactionNetwork, tol: float) -> list[tuple[int, float]] | None:
    """Offending combination as (reaction index, coefficient) pairs, or None if the condition holds."""
    n = net.stoichiometric_matrix().astype(float)
    irr = [j for j, r in enumerate(net.reactions) if not r.reversible]
    rev = [j for j, r in enumerate(net.reactions) if r.reversible]
    if not irr:
        return None
    G, V = n[:, irr], n[:, rev]
    n_i, n_r = len(irr), len(rev)
    # Variables [λ (n_i, ≥ 0), μ (n_r, free)]:  G λ − V μ = 0,  Σ λ = 1.
    a_eq = np.vstack([np.hstack([G, -V]), np.hstack([np.ones(n_i), np.zeros(n_r)])])
    b_eq = np.concatenate([np.zeros(n.shape[0]), [1.0]])
    bounds = [(0, None)] * n_i + [(None, None)] * n_r
    res = linprog(np.zeros(n_i + n_r), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds")
    if res.status == 2:  # infeasible: the hull misses the span
        return None
    if res.status != 0:
        raise RuntimeError(f"linprog failed deciding the structural condition: {res.message}")
    lam, mu = res.x[:n_i], res.x[n_i:]
    coeffs = np.zeros(net.n_reactions)
    coeffs[irr] = lam
    coeffs[rev] = -mu
    coeffs[np.abs(coeffs) < tol] = 0.0
    ints = _as_integers(_integer_ratios(coeffs))
    if not np.any(n.astype(np.int64) @ np.array(ints, dtype=np.int64)):
        coeffs = np.array(ints, dtype=float)  # exact small-integer oriented cycle
    return [(j, float(c)) for j, c in enumerate(coeffs) if c != 0]


def _k_label(name: str, sign: str) -> str:
    return f"k{sign}{name}"


def extended_detailed_balance(network: ReactionNetwork, *, rtol: float = 1e-6) -> DetailedBalanceReport:
    """Check the structural and algebraic conditions of extended detailed balance.

    Parameters
    ----------
    network
        Any mix of reversible and irreversible reactions. Constants are needed only for the algebraic condition.
    rtol
        Tolerance on |Σ c_j ln K_j| (≈ relative mismatch of the two rate-constant products around a cycle).

    Returns
    -------
    DetailedBalanceReport
    """
    eq = {r.name: r.equation() for r in network.reactions}
    structural = _structural(network, tol=1e-9)
    offending = [
        ReactionTerm(reaction=network.reactions[j].name, equation=eq[network.reactions[j].name], coefficient=c)
        for j, c in (structural or [])
    ]
    rev = [r for r in network.reactions if r.reversible]
    cycles = (
        integer_nullspace(network.stoichiometric_matrix()[:, [network.reactions.index(r) for r in rev]]) if rev else []
    )
    conditions = []
    for c in cycles:
        lhs = [
            f"{_k_label(r.name, '+' if ci > 0 else '-')}" + (f"^{abs(ci)}" if abs(ci) > 1 else "")
            for r, ci in zip(rev, c)
            if ci
        ]
        rhs = [
            f"{_k_label(r.name, '-' if ci > 0 else '+')}" + (f"^{abs(ci)}" if abs(ci) > 1 else "")
            for r, ci in zip(rev, c)
            if ci
        ]
        conditions.append(f"{'·'.join(lhs)} = {'·'.join(rhs)}")
    have_constants = all(r.k_forward is not None and r.k_reverse is not None for r in rev)
    algebraic_ok: bool | None = None
    violated: list[ReactionTerm] = []
    deviation = None
    if not cycles:
        algebraic_ok = True  # no cycle in the reversible part: the Wegscheider conditions are empty
    elif have_constants:
        log_k = np.array([math.log(r.k_forward) - math.log(r.k_reverse) for r in rev])
        algebraic_ok = True
        for c in cycles:
            dev = float(np.dot(c, log_k))
            if abs(dev) > rtol:
                algebraic_ok = False
                deviation = dev
                violated = [
                    ReactionTerm(reaction=r.name, equation=eq[r.name], coefficient=float(ci))
                    for r, ci in zip(rev, c)
                    if ci
                ]
                break
    structural_ok = structural is None
    # A structural violation decides the verdict even when the constants needed for Wegscheider are missing.
    satisfied = False if not structural_ok else algebraic_ok
    parts = []
    if structural_ok:
        parts.append("structural condition holds (no oriented cycle through an irreversible step)")
    else:
        combo = " + ".join(f"{t.coefficient:g}×{t.reaction}" for t in offending)
        parts.append(f"structural condition violated: {combo} = 0 is an oriented cycle through irreversible steps")
    if algebraic_ok is None:
        need = "; ".join(conditions) if conditions else "nothing (no cycles)"
        parts.append(f"algebraic condition not evaluated (constants missing); it requires {need}")
    elif algebraic_ok:
        parts.append(f"Wegscheider conditions hold on {len(cycles)} independent cycle(s)")
    else:
        parts.append(
            f"Wegscheider condition violated on cycle {[t.reaction for t in violated]}: "
            f"Σ c ln(k+/k-) = {deviation:.3g} ≠ 0"
        )
    return DetailedBalanceReport(
        satisfied=satisfied,
        structural_ok=structural_ok,
        offending_combination=offending,
        algebraic_ok=algebraic_ok,
        violated_cycle=violated,
        log_deviation=deviation,
        cycle_conditions=conditions,
        irreversible=[r.name for r in network.reactions if not r.reversible],
        message="; ".join(parts) + ".",
    )
