"""SplitMix64 uniforms of the SSA (tools/kinetics/_random.py): reference outputs, uniformity, independence."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from labwright.tools.kinetics._random import seeds_from_keys, uniforms
from scipy import stats


def test_splitmix64_reproduces_the_reference_stream():
    # First four outputs of Vigna's reference splitmix64.c (prng.di.unimi.it) from state 0; our uniforms are their
    # top 53 bits over 2^53. The state then advances by 4 gammas (mod 2^64).
    reference = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC]
    u, state = uniforms(jnp.zeros(1, dtype=jnp.uint64), 4)
    np.testing.assert_array_equal(np.asarray(u[:, 0]), [(z >> 11) * 2.0**-53 for z in reference])
    assert int(state[0]) == (4 * 0x9E3779B97F4A7C15) % 2**64
    # Drawing 2 then 2 continues the same stream as drawing 4 at once (blocks never change the numbers).
    a, s = uniforms(jnp.zeros(1, dtype=jnp.uint64), 2)
    b, _ = uniforms(s, 2)
    np.testing.assert_array_equal(np.concatenate([a, b])[:, 0], np.asarray(u[:, 0]))


def test_uniforms_are_uniform_and_uncorrelated_within_and_across_streams():
    # 64 streams seeded from jax.random.split keys, 4096 draws each (262,144 numbers): Kolmogorov–Smirnov against
    # U(0, 1) on all and on each stream (p > 1e-4 for all 65 tests: a false alarm has probability < 1 %), lag-1
    # autocorrelation within streams and correlation between neighbouring streams within 4 standard errors (1/√n).
    keys = jax.random.split(jax.random.PRNGKey(2026), 64)
    u, _ = uniforms(seeds_from_keys(keys), 4096)
    u = np.asarray(u)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-4
    assert min(stats.kstest(u[:, lane], "uniform").pvalue for lane in range(64)) > 1e-4
    z = u - 0.5
    lag1 = np.sum(z[1:] * z[:-1]) / np.sum(z * z)
    across = np.sum(z[:, 1:] * z[:, :-1]) / np.sum(z * z)
    assert abs(lag1) < 4 / np.sqrt(z.size) and abs(across) < 4 / np.sqrt(z.size)
    # Distinct keys give distinct streams; the same key the same stream.
    seeds = np.asarray(seeds_from_keys(keys))
    assert len(set(seeds.tolist())) == 64
    np.testing.assert_array_equal(seeds, np.asarray(seeds_from_keys(jax.random.split(jax.random.PRNGKey(2026), 64))))


def test_typed_keys_and_raw_key_data_seed_the_same_streams():
    typed = jax.random.split(jax.random.key(5), 8)
    np.testing.assert_array_equal(
        np.asarray(seeds_from_keys(typed)), np.asarray(seeds_from_keys(jax.random.key_data(typed)))
    )
