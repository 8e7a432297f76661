"""Degree statistics and the discrete power-law fit of Clauset, Shalizi & Newman.

References
----------
.. [1] A. Clauset, C. R. Shalizi, M. E. J. Newman, "Power-law distributions in empirical data", SIAM Review 51,
   661–703 (2009), arXiv:0706.1062 — eq. (3.5) (discrete likelihood), section 3.3 (x_min by minimising the
   Kolmogorov–Smirnov distance), eq. (3.6) (approximate standard error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import zeta

from ..errors import InvalidInput
from ._traverse import HyperIndex

__all__ = ["PowerLawFit", "fit_power_law", "degree_distribution", "hypergraph_stats"]


@dataclass(frozen=True)
class PowerLawFit:
    """Discrete power law p(x) = x^-alpha / zeta(alpha, x_min) for x >= x_min.

    Attributes
    ----------
    alpha : float
        Maximum-likelihood exponent.
    x_min : int
        Lower bound of the power-law tail (chosen by KS distance unless fixed).
    n_tail : int
        Number of observations >= x_min.
    ks : float
        Kolmogorov–Smirnov distance between the tail data and the fitted law.
    sigma : float
        Approximate standard error of alpha, (alpha - 1) / sqrt(n_tail).
    log_likelihood : float
    """

    alpha: float
    x_min: int
    n_tail: int
    ks: float
    sigma: float
    log_likelihood: float


def _fit_alpha(tail: np.ndarray, x_min: int, bounds: tuple[float, float]) -> tuple[float, float]:
    n, sum_log = len(tail), float(np.log(tail).sum())

    def nll(a: float) -> float:
        return n * np.log(zeta(a, x_min)) + a * sum_log

    res = minimize_scalar(nll, bounds=bounds, method="bounded", options={"xatol": 1e-7})
    return float(res.x), -float(res.fun)


def _ks(tail: np.ndarray, alpha: float, x_min: int) -> float:
    values, counts = np.unique(tail, return_counts=True)
    empirical = np.cumsum(counts) / len(tail)
    model = 1.0 - zeta(alpha, values + 1.0) / zeta(alpha, x_min)
    return float(np.max(np.abs(empirical - model)))


def fit_power_law(
    data: np.ndarray | list[int],
    *,
    x_min: int | None = None,
    min_tail: int = 10,
    max_candidates: int = 60,
    alpha_bounds: tuple[float, float] = (1.0001, 8.0),
) -> PowerLawFit:
    """Fit a discrete power law to positive integers by maximum likelihood, choosing ``x_min`` by KS distance.

    Parameters
    ----------
    data
        Observations (e.g. node degrees), integers >= 1; zeros are ignored.
    x_min
        Fix the lower bound instead of scanning candidates.
    min_tail
        Smallest tail size a candidate ``x_min`` may leave.
    max_candidates
        At most this many candidate ``x_min`` values (spread over the distinct values) are tried.

    Raises
    ------
    InvalidInput
        Fewer than ``min_tail`` positive observations, or non-integer / negative data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.floor(rng.pareto(1.5, 20_000) + 1).astype(int)  # roughly alpha = 2.5
    >>> 2.2 < fit_power_law(x).alpha < 2.8
    True
    """
    x = np.asarray(data)
    if x.size and (not np.issubdtype(x.dtype, np.number) or np.any(x < 0) or np.any(x != np.round(x))):
        raise InvalidInput("data", "power-law data must be non-negative integers")
    x = x[x > 0].astype(np.int64)
    if len(x) < min_tail:
        raise InvalidInput("data", f"need at least {min_tail} positive observations, got {len(x)}")
    if x_min is not None:
        candidates = np.array([int(x_min)])
    else:
        distinct = np.unique(x)
        sorted_x = np.sort(x)
        tail_size = len(x) - np.searchsorted(sorted_x, distinct, side="left")
        distinct = distinct[tail_size >= min_tail]
        if len(distinct) > max_candidates:
            distinct = np.unique(distinct[np.linspace(0, len(distinct) - 1, max_candidates).astype(int)])
        candidates = distinct
    best: PowerLawFit | None = None
    for xm in candidates.tolist():
        tail = x[x >= xm]
        if len(tail) < min_tail or len(np.unique(tail)) < 2:
            continue
        alpha, ll = _fit_alpha(tail, xm, alpha_bounds)
        d = _ks(tail, alpha, xm)
        if best is None or d < best.ks:
            best = PowerLawFit(alpha, int(xm), len(tail), d, float((alpha - 1) / np.sqrt(len(tail))), ll)
    if best is None:
        raise InvalidInput("data", "no x_min leaves a tail with at least two distinct values")
    return best


def degree_distribution(ix: HyperIndex) -> dict[int, int]:
    """Number of nodes with each degree (degree = number of hyperedges containing the node)."""
    values, counts = np.unique(ix.degrees, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def hypergraph_stats(ix: HyperIndex, *, fit: bool = True) -> dict:
    """Sizes, degree and edge-size distributions, and (when there is enough data) the power-law fit of degrees."""
    deg, size = ix.degrees, ix.sizes
    out = {
        "nodes": ix.n_nodes_total,
        "edges": ix.n_edges_total,
        "incidences": int(size.sum()),
        "mean_degree": float(deg.mean()) if len(deg) else 0.0,
        "max_degree": int(deg.max()) if len(deg) else 0,
        "mean_edge_size": float(size.mean()) if len(size) else 0.0,
        "max_edge_size": int(size.max()) if len(size) else 0,
        "degree_distribution": degree_distribution(ix),
        "edge_size_distribution": {int(v): int(c) for v, c in zip(*np.unique(size, return_counts=True))},
        "power_law": None,
    }
    if fit:
        try:
            out["power_law"] = fit_power_law(deg).__dict__
        except InvalidInput:
            out["power_law"] = None
    return out
