"""Stochastic kinetics: CME stationary distributions vs exact laws, SSA vs CME and vs the ODE."""

from __future__ import annotations

import numpy as np
import pytest
from labwright.tools.kinetics import (
    cme_stationary,
    cme_stationary_distribution,
    compile_network,
    parse_network,
    simulate_ssa_counts,
    solve_ode,
)
from scipy import stats

BIRTH_DEATH = ["birth: 0 -> X; kf=10", "death: X -> 0; kf=1"]  # λ = k_birth/k_death = 10 molecules


def chi_square(samples: np.ndarray, pmf: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square of integer samples against pmf[0…m], bins with expected count ≥ 5 (tails pooled)."""
    expected = len(samples) * pmf
    lo, hi = np.argmax(expected >= 5), len(expected) - np.argmax(expected[::-1] >= 5) - 1
    obs = np.bincount(samples.astype(int), minlength=len(pmf))[: len(pmf)]
    o = np.concatenate([[obs[: lo + 1].sum()], obs[lo + 1 : hi], [obs[hi:].sum()]])
    e = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1 : hi], [expected[hi:].sum()]])
    chi2, pval = stats.chisquare(o, e * o.sum() / e.sum())
    return float(chi2), float(pval)


def test_cme_birth_death_is_poisson():
    # Stationary CME of 0 -> X (rate λγ), X -> 0 (rate γ n) is Poisson(λ) exactly; truncation at 60 leaves
    # a tail of ~1e-26, so the solve must match the pmf to round-off (1e-12).
    out = cme_stationary_distribution(compile_network(parse_network(BIRTH_DEATH)), np.array([0]), np.array([60]))
    np.testing.assert_allclose(out["p"], stats.poisson.pmf(out["states"][:, 0], 10.0), atol=1e-12)
    assert out["mean"][0] == pytest.approx(10.0, rel=1e-10) and out["variance"][0] == pytest.approx(10.0, rel=1e-10)
    assert out["boundary_mass"] < 1e-20


def test_cme_closed_isomerisation_is_binomial():
    # A <-> B with N = 30 molecules: stationary B ~ Binomial(N, kf/(kf + kr)) (independent molecules).
    out = cme_stationary(reactions=["A <-> B; kf=2, kr=3"], initial={"A": 30}, max_counts={"A": 30, "B": 30})
    assert out.n_states == 31
    np.testing.assert_allclose(out.marginals["B"], stats.binom.pmf(np.arange(31), 30, 0.4), atol=1e-12)


def test_ssa_matches_cme_stationary_distribution_chi_square():
    # 4000 seeded SSA runs of the birth–death process sampled at t = 20 s (relaxation e^{−20} ≈ 2e-9) vs the CME
    # stationary pmf: Pearson chi-square over bins with expected count ≥ 5 (tails pooled); require p > 0.001.
    system = compile_network(parse_network(BIRTH_DEATH))
    counts = simulate_ssa_counts(system, np.array([0]), np.array([0.0, 20.0]), n_trajectories=4000, seed=7)[:, -1, 0]
    cme = cme_stationary_distribution(system, np.array([0]), np.array([60]))
    chi2, pval = chi_square(counts, cme["p"])
    assert pval > 1e-3, (chi2, pval)
    # Poisson moments within 4 standard errors: SE(mean) = √(λ/n), SE(var) ≈ λ√(2/n).
    assert abs(counts.mean() - 10.0) < 4 * np.sqrt(10.0 / 4000)
    assert abs(counts.var() - 10.0) < 4 * 10.0 * np.sqrt(2 / 4000)


def test_ssa_mean_follows_ode_at_large_copy_numbers():
    # Dimerisation 2A <-> B, B -> C at Ω = 1000 molecules per mol/m³ (A0 = 1000 molecules): the ensemble mean of
    # 200 runs / Ω must match the ODE within 4 standard errors + 1e-3 mol/m³ (finite-Ω bias is O(1/Ω)).
    system = compile_network(parse_network(["2 A <-> B; kf=1, kr=0.5", "B -> C; kf=0.2"]))
    ts = np.linspace(0.0, 5.0, 6)
    ode = solve_ode(system, np.array([1.0, 0.0, 0.0]), ts)
    runs = simulate_ssa_counts(system, np.array([1000, 0, 0]), ts, n_trajectories=200, omega=1000.0, seed=3) / 1000.0
    se = runs.std(axis=0) / np.sqrt(200)
    assert np.all(np.abs(runs.mean(axis=0) - ode) <= 4 * se + 1e-3)
    # Atoms of A are conserved in every trajectory: A + 2B + 2C = A0.
    np.testing.assert_allclose(runs[:, :, 0] + 2 * runs[:, :, 1] + 2 * runs[:, :, 2], 1.0, atol=1e-12)


@pytest.mark.parametrize("block", [1, 7])
def test_ssa_law_is_independent_of_the_random_block_size(block):
    # Random numbers are drawn in blocks of events from each trajectory's own stream, so the block size changes
    # neither the law nor the paths. A pure death process X -> 0 (rate 1/s, 50 molecules) at t = 0.5 s is
    # Binomial(50, e^{-0.5}) exactly (independent decays); 2000 runs per block size, chi-square against the binomial
    # pmf (p > 0.001), the event count of every run equals the number of molecules that decayed, and the runs equal
    # those drawn in blocks of 64.
    import jax
    from labwright.tools.kinetics._ssa import make_ssa

    system = compile_network(parse_network(["death: X -> 0; kf=1"]))
    run = make_ssa(system, block=block)
    keys = jax.random.split(jax.random.PRNGKey(11), 2000)
    counts, events, ok = run(keys, np.array([50.0]), np.array([1.0]), np.array([0.0, 0.5]))
    left = np.asarray(counts)[:, -1, 0]
    assert np.all(np.asarray(ok))
    p = np.exp(-0.5)
    chi2, pval = chi_square(left, stats.binom.pmf(np.arange(51), 50, p))
    assert pval > 1e-3, (chi2, pval)
    # Events fired before 0.5 s = decays seen at 0.5 s, plus the one draw that crosses t_end (counted as an event).
    np.testing.assert_array_equal(np.asarray(events) - 1, 50 - left)
    default = make_ssa(system, block=64)(keys, np.array([50.0]), np.array([1.0]), np.array([0.0, 0.5]))
    np.testing.assert_array_equal(np.asarray(default[0]), np.asarray(counts))


def test_ssa_event_limit_is_exact_and_reported():
    # A birth–death process that would fire ~1,000 events; a limit of 100 (not a multiple of the block) stops every
    # run at exactly 100 events and reports it; simulate_ssa_counts raises SimulationFailed.
    import jax
    from labwright.errors import SimulationFailed
    from labwright.tools.kinetics._ssa import make_ssa

    system = compile_network(parse_network(BIRTH_DEATH))
    run = make_ssa(system, max_events=100, block=64)
    _, events, ok = run(
        jax.random.split(jax.random.PRNGKey(0), 8), np.array([0.0]), np.array([10.0, 1.0]), np.array([0.0, 50.0])
    )
    np.testing.assert_array_equal(np.asarray(events), 100)
    assert not np.any(np.asarray(ok))
    with pytest.raises(SimulationFailed, match="100 events"):
        simulate_ssa_counts(system, np.array([0]), np.array([0.0, 50.0]), n_trajectories=4, max_events=100)


def test_ssa_block_size_below_one_is_refused_by_name():
    from labwright.errors import InvalidInput
    from labwright.tools.kinetics._ssa import make_ssa

    with pytest.raises(InvalidInput, match="block"):
        make_ssa(compile_network(parse_network(BIRTH_DEATH)), block=0)


def test_ssa_path_depends_on_the_key_only_not_on_chunks_or_threads():
    # Each trajectory draws from its own stream (seeded by its key), so how trajectories are grouped into compiled
    # calls and threads changes nothing: 50 runs (not a multiple of either chunk) in chunks of 8 on 1 thread and of
    # 32 on 3 threads are identical, event for event.
    import jax
    from labwright.tools.kinetics._ssa import make_ssa

    system = compile_network(parse_network(["2 A <-> B; kf=1, kr=0.5", "B -> C; kf=0.2"]))
    keys = jax.random.split(jax.random.PRNGKey(4), 50)
    args = (np.array([200.0, 0.0, 0.0]), system.stochastic_constants(system.k, 200.0), np.linspace(0.0, 3.0, 4))
    small = make_ssa(system, chunk=8, threads=1)(keys, *args)
    large = make_ssa(system, chunk=32, threads=3)(keys, *args)
    for a, b in zip(small, large):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.asarray(small[0]).shape == (50, 4, 3) and len(set(np.asarray(small[1]).tolist())) > 10


@pytest.mark.parametrize("option", ["chunk", "threads"])
def test_ssa_chunk_and_threads_below_one_are_refused_by_name(option):
    from labwright.errors import InvalidInput
    from labwright.tools.kinetics._ssa import make_ssa

    with pytest.raises(InvalidInput, match=option):
        make_ssa(compile_network(parse_network(BIRTH_DEATH)), **{option: 0})
