"""The chemical master equation on a truncated state space: sparse generator and stationary distribution.

States reachable from the initial copy numbers are enumerated breadth-first, keeping each species at or below a cap
(transitions that would leave the box are dropped, a reflecting truncation). The generator Q (``Q[i, j]`` = rate
i → j, rows summing to zero) is a ``scipy.sparse`` matrix; the stationary distribution solves πQ = 0, Σπ = 1 by a
sparse LU solve of Qᵀ with one balance equation replaced by the normalisation. The probability of states at the
truncation boundary is reported so the caller can judge the truncation error.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...errors import InvalidInput, SimulationFailed
from ._massaction import MassActionSystem

__all__ = ["enumerate_states", "cme_generator", "cme_stationary_distribution"]


def _propensities(system: MassActionSystem, n: np.ndarray, c: np.ndarray) -> np.ndarray:
    factors = np.ones(system.orders.shape[0])
    for i, count in enumerate(n):
        for j, order in enumerate(system.orders[:, i]):
            for m in range(order):
                factors[j] *= max(count - m, 0)
    return c * factors


def enumerate_states(
    system: MassActionSystem, n0: np.ndarray, caps: np.ndarray, c: np.ndarray, max_states: int = 200_000
) -> tuple[np.ndarray, list[tuple[int, int, float]], np.ndarray]:
    """Reachable states, transitions (i, j, rate) and a boundary flag per state.

    Raises
    ------
    InvalidInput
        If more than ``max_states`` states are reachable (lower the caps).
    """
    jumps = system.net.T.astype(np.int64)
    start = tuple(int(v) for v in n0)
    index = {start: 0}
    states = [start]
    boundary = [False]
    transitions: list[tuple[int, int, float]] = []
    queue = deque([start])
    while queue:
        s = queue.popleft()
        i = index[s]
        a = _propensities(system, np.array(s), c)
        for j, rate in enumerate(a):
            if rate <= 0:
                continue
            t = tuple(int(x) for x in np.array(s) + jumps[j])
            if any(x < 0 for x in t) or any(x > cap for x, cap in zip(t, caps)):
                boundary[i] = True
                continue
            if t not in index:
                if len(states) >= max_states:
                    raise InvalidInput("max_counts", f"more than {max_states} reachable states; lower the caps")
                index[t] = len(states)
                states.append(t)
                boundary.append(False)
                queue.append(t)
            transitions.append((i, index[t], float(rate)))
    return np.array(states, dtype=np.int64), transitions, np.array(boundary)


def cme_generator(n_states: int, transitions: list[tuple[int, int, float]]) -> sp.csr_matrix:
    """Generator Q (n_states, n_states), Q[i, j] = rate i → j for i ≠ j, rows summing to zero."""
    if transitions:
        rows, cols, rates = (np.array(v) for v in zip(*transitions))
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
        rates = np.zeros(0)
    q = sp.coo_matrix((rates, (rows, cols)), shape=(n_states, n_states)).tocsr()
    q.sum_duplicates()
    return (q - sp.diags(np.asarray(q.sum(axis=1)).ravel())).tocsr()


def cme_stationary_distribution(
    system: MassActionSystem,
    n0: np.ndarray,
    caps: np.ndarray,
    *,
    omega: float = 1.0,
    k: np.ndarray | None = None,
    max_states: int = 200_000,
) -> dict[str, np.ndarray | float]:
    """Stationary distribution of the CME on the states reachable from ``n0`` within ``caps``.

    Parameters
    ----------
    n0
        Initial copy numbers (fixes conserved totals), shape (n_s,).
    caps
        Largest copy number kept per species, shape (n_s,).
    omega
        System size Ω, molecules per (mol/m³); constants become c = k Ω^(1 − order).

    Returns
    -------
    dict
        ``states`` (n, n_s) int, ``p`` (n,) probabilities, ``mean`` and ``variance`` (n_s,) copy numbers,
        ``boundary_mass`` (probability on states whose transitions were cut by the caps).

    Raises
    ------
    SimulationFailed
        If the linear solve fails (e.g. a reducible chain with several closed classes).
    """
    n0 = np.asarray(n0, dtype=float)
    caps = np.asarray(caps, dtype=np.int64)
    if n0.shape != caps.shape or np.any(n0 < 0) or np.any(n0 != np.round(n0)) or np.any(n0 > caps):
        raise InvalidInput("initial", "copy numbers must be non-negative integers not above max_counts")
    k = system.k if k is None else np.asarray(k, dtype=float)
    if not np.all(np.isfinite(k)):
        raise InvalidInput("reactions", "every rate constant is needed for the CME")
    c = system.stochastic_constants(k, omega)
    states, transitions, boundary = enumerate_states(system, n0, caps, c, max_states)
    q = cme_generator(len(states), transitions)
    a = q.T.tolil()
    a[0, :] = np.ones(len(states))  # replace one balance equation by Σπ = 1
    b = np.zeros(len(states))
    b[0] = 1.0
    p = spla.spsolve(a.tocsc(), b)
    if not np.all(np.isfinite(p)) or np.min(p) < -1e-8:
        raise SimulationFailed("CME stationary solve failed: the truncated chain may have several closed classes")
    p = np.clip(p, 0.0, None)
    p /= p.sum()
    mean = p @ states
    variance = p @ (states - mean) ** 2
    return {
        "states": states,
        "p": p,
        "mean": mean,
        "variance": variance,
        "boundary_mass": float(p[boundary].sum()),
    }
