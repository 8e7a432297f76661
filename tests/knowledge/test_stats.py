"""Discrete power-law fit (Clauset, Shalizi & Newman, SIAM Review 51, 661 (2009)) on samples of known exponent."""

from __future__ import annotations

import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.knowledge import HyperIndex, fit_power_law, hypergraph_stats
from scipy.special import zeta


def sample_discrete_power_law(alpha: float, x_min: int, n: int, seed: int, x_max: int = 1_000_000) -> np.ndarray:
    """Exact inverse-CDF sampling of p(x) = x^-alpha / zeta(alpha, x_min) (tail above x_max is < 1e-8 here)."""
    xs = np.arange(x_min, x_max)
    cdf = np.cumsum(xs**-alpha) / zeta(alpha, x_min)
    u = np.random.default_rng(seed).random(n)
    return xs[np.minimum(np.searchsorted(cdf, u), len(xs) - 1)]


@pytest.mark.parametrize(("alpha", "seed"), [(2.5, 1), (2.0, 2), (3.0, 3)])
def test_mle_recovers_the_exponent_with_fixed_x_min(alpha, seed):
    data = sample_discrete_power_law(alpha, 1, 5000, seed)
    fit = fit_power_law(data, x_min=1)
    # standard error (alpha - 1)/sqrt(n) ≈ 0.02-0.03; allow 3.5 sigma
    assert abs(fit.alpha - alpha) < 3.5 * fit.sigma, fit
    assert fit.ks < 0.03


def test_ks_selects_x_min_of_the_power_law_tail():
    # below x = 10 uniform noise, above it a power law with alpha = 2.2 (CSN section 3.3)
    tail = sample_discrete_power_law(2.2, 10, 3000, 4)
    noise = np.random.default_rng(5).integers(1, 10, 2000)
    fit = fit_power_law(np.concatenate([tail, noise]))
    assert 8 <= fit.x_min <= 14
    assert abs(fit.alpha - 2.2) < 0.1
    assert fit.n_tail >= 2000


def test_bad_data_is_invalid_input():
    with pytest.raises(InvalidInput, match="at least 10"):
        fit_power_law([1, 2, 3])
    with pytest.raises(InvalidInput, match="non-negative integers"):
        fit_power_law([1.5, 2, 3] * 10)
    with pytest.raises(InvalidInput, match="non-negative integers"):
        fit_power_law([-1, 2, 3] * 10)


def test_hypergraph_stats_counts():
    ix = HyperIndex.from_dict({"e1": "abc", "e2": "cd", "e3": "c"})
    st = hypergraph_stats(ix, fit=False)
    assert st["nodes"] == 4 and st["edges"] == 3 and st["incidences"] == 6
    assert st["degree_distribution"] == {1: 3, 3: 1}
    assert st["edge_size_distribution"] == {1: 1, 2: 1, 3: 1}
