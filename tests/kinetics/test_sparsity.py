"""Structural Jacobian patterns read from jaxprs, column groups and the compressed Jacobian (kinetics/_sparsity.py)."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.kinetics import compile_network, parse_network, read_sbml
from labwright.tools.kinetics._sparsity import column_groups, compressed_jacobian, dense_rows, jacobian_pattern

SBML_DIR = Path(__file__).resolve().parents[2] / "examples" / "data" / "sbml"
MODELS = sorted(p.stem for p in SBML_DIR.glob("*.xml"))


def random_network(seed: int, n_species: int = 9, n_reactions: int = 14):
    """A random mass-action network (orders 1–2, some reversible) written as reaction strings."""
    rng = np.random.default_rng(seed)
    names = [f"S{i}" for i in range(n_species)]
    lines = []
    for _ in range(n_reactions):
        left = rng.choice(names, size=rng.integers(1, 3), replace=False)
        right = rng.choice([s for s in names if s not in left], size=rng.integers(1, 3), replace=False)
        arrow = "<->" if rng.random() < 0.5 else "->"
        rates = "kf=1.5, kr=0.7" if arrow == "<->" else "kf=2.0"
        lines.append(f"{' + '.join(left)} {arrow} {' + '.join(right)}; {rates}")
    return compile_network(parse_network(lines))


def numeric_support(jac_fn, points) -> np.ndarray:
    """Entries that are nonzero at any of the points."""
    return np.any([np.asarray(jac_fn(p)) != 0.0 for p in points], axis=0)


@pytest.mark.parametrize("seed", range(4))
def test_mass_action_pattern_is_exactly_what_the_stoichiometry_says(seed):
    # An independent derivation: ∂f_i/∂y_j can be nonzero exactly when some reaction changes species i (net
    # stoichiometry ≠ 0) and has species j among its reactants (order > 0). The jaxpr reading must give that pattern,
    # no more and no less, and the numeric Jacobian at random positive states must be nonzero only inside it.
    system = random_network(seed)
    expected = ((system.net != 0).astype(int) @ (system.orders > 0).astype(int)) > 0
    y0 = jnp.ones(system.n_species)
    pattern = jacobian_pattern(lambda y, k: system.rhs(0.0, y, k), y0, jnp.asarray(system.k))
    np.testing.assert_array_equal(pattern, expected)
    rng = np.random.default_rng(seed)
    points = [jnp.asarray(rng.uniform(0.1, 2.0, system.n_species)) for _ in range(3)]
    support = numeric_support(lambda y: jax.jacfwd(lambda yy: system.rhs(0.0, yy, jnp.asarray(system.k)))(y), points)
    assert not np.any(support & ~pattern)


@pytest.mark.parametrize("name", MODELS)
def test_sbml_patterns_contain_every_nonzero_derivative(name):
    # The curated BioModels (rate laws with divisions, powers, compartments): at random positive states and ×/÷ 2
    # parameters no numeric derivative falls outside the pattern, and the pattern is sparse where the model is
    # (BIOMD0000000010: 26 of 64 entries).
    model = read_sbml(SBML_DIR / f"{name}.xml")
    x0, q = model.prepare(jnp.asarray(model.parameter_values))
    pattern = jacobian_pattern(lambda y, t, qq: model.rhs(t, y, qq), x0, jnp.asarray(0.0), q)
    rng = np.random.default_rng(3)
    for _ in range(4):
        y = jnp.asarray(rng.uniform(0.05, 2.0, x0.shape) * (1.0 + np.asarray(x0)))
        qq = q * jnp.asarray(2.0 ** rng.uniform(-1, 1, q.shape))
        support = np.asarray(jax.jacfwd(model.rhs, argnums=1)(0.0, y, qq)) != 0.0
        assert not np.any(support & ~pattern)
    if name == "BIOMD0000000010":
        assert pattern.sum() == 26


def test_rules_for_nested_calls_selects_and_unknown_primitives():
    # f0 = softplus(y0·y1) in a nested jit: read through the jit, and the custom_jvp softplus depends on all of its
    # operand, which is y0·y1 only; f1 = where(y2 > 0, y3, y0): the predicate counts (conservative, never wrong);
    # f2 = (A @ y)[2] with A's row 2 = e_4: a dot is taken as dense (every input); f3 = y[i] with i traced: a
    # dynamic index is dense; f4 = cumsum: unknown to the rules, hence dense. Each row must contain the numeric
    # support.
    a = jnp.eye(5)

    def f(y, i):
        inner = jax.jit(lambda u, v: jax.nn.softplus(u * v))(y[0], y[1])
        return jnp.stack(
            [
                inner,
                jnp.where(y[2] > 0, y[3], y[0]),
                (a @ (y * y))[2],
                jax.lax.dynamic_index_in_dim(y, i, 0, False),
                jnp.cumsum(y)[1],
            ]
        )

    y = jnp.arange(1.0, 6.0)
    pattern = jacobian_pattern(f, y, jnp.asarray(2))
    np.testing.assert_array_equal(pattern[0], [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(pattern[1], [1, 0, 1, 1, 0])
    assert pattern[2:].all()
    support = numeric_support(lambda yy: jax.jacfwd(f)(yy, 2), [y, -y, y[::-1]])
    assert not np.any(support & ~pattern)


def test_column_groups_share_no_row_and_cover_every_column():
    # Diagonal: one group; tridiagonal: three (the chromatic number of its column graph); dense: one per column;
    # a zero column belongs to no group. In every case no two columns of a group meet in a row.
    n = 7
    tri = np.eye(n, dtype=bool) | np.eye(n, k=1, dtype=bool) | np.eye(n, k=-1, dtype=bool)
    zero_col = np.eye(n, dtype=bool)
    zero_col[:, 3] = False
    rng = np.random.default_rng(0)
    cases = [(np.eye(n, dtype=bool), 1), (tri, 3), (np.ones((n, n), dtype=bool), n), (zero_col, 1)]
    cases += [(rng.random((n, n)) < 0.3, None) for _ in range(5)]
    for pattern, count in cases:
        groups = column_groups(pattern)
        if count is not None:
            assert len(groups) == count
        covered = sorted(j for g in groups for j in g)
        assert covered == [j for j in range(n) if pattern[:, j].any()]
        for g in groups:
            assert np.all(pattern[:, g].sum(axis=1) <= 1)


@pytest.mark.parametrize("name", MODELS)
def test_compressed_jacobian_equals_dense_forward_mode(name):
    # One solve's layout (entries scalars) and lanes stored last (entries (L,)): the compressed Jacobian equals
    # jax.jacfwd to 1e-13 relative at random states, entry for entry, with structural zeros exactly zero.
    model = read_sbml(SBML_DIR / f"{name}.xml")
    x0, q = model.prepare(jnp.asarray(model.parameter_values))
    t = jnp.asarray(0.0)
    pattern, jac = compressed_jacobian(lambda y, tt, qq: model.rhs(tt, y, qq), x0, t, q)
    rng = np.random.default_rng(1)
    ys = jnp.asarray(rng.uniform(0.05, 2.0, (5, x0.shape[0])) * (1.0 + np.asarray(x0)))
    qs = q[None, :] * jnp.asarray(2.0 ** rng.uniform(-1, 1, (5, q.shape[0])))
    reference = np.stack([np.asarray(jax.jacfwd(model.rhs, argnums=1)(t, y, qq)) for y, qq in zip(ys, qs)])
    single = np.stack([np.asarray(dense_rows(jac(y, (t, qq)), y)) for y, qq in zip(ys, qs)])
    lanes = np.moveaxis(np.asarray(dense_rows(jac(ys.T, (jnp.zeros(5), qs)), ys.T)), -1, 0)
    for got in (single, lanes):
        np.testing.assert_allclose(got, reference, rtol=1e-13, atol=1e-13 * np.abs(reference).max())
        assert np.all(got[:, ~pattern] == 0.0)


def test_programs_with_control_flow_callbacks_and_whole_vector_use_still_differentiate_exactly():
    # A right-hand side that a reader of rate laws would not expect: a cond on the state, a fori_loop, a host callback
    # (with its own derivative rule) and a matrix product of the whole vector. Rules for these are conservative (dense
    # rows); the compressed Jacobian must still equal jax.jacfwd exactly, in one solve's layout and lanes last.
    a = jnp.asarray(np.random.default_rng(4).normal(size=(4, 4)))

    @jax.custom_jvp
    def host_square(v):
        shape = jax.ShapeDtypeStruct(v.shape, v.dtype)
        return jax.pure_callback(lambda u: np.asarray(u) ** 2, shape, v, vmap_method="sequential")

    host_square.defjvps(lambda g, ans, v: 2.0 * v * g)  # callbacks have no derivative of their own

    def f(y, k):
        branch = jax.lax.cond(y[0] > 0, lambda: y[1] * k, lambda: -y[2])
        looped = jax.lax.fori_loop(0, 3, lambda i, c: c * y[3] + 1.0, 1.0)
        return jnp.stack([branch, looped, host_square(y[1]), (a @ y)[0]])

    y = jnp.asarray([0.5, -1.2, 2.0, 0.7])
    k = jnp.asarray(3.0)
    pattern, jac = compressed_jacobian(f, y, k)
    reference = np.asarray(jax.jacfwd(f)(y, k))
    np.testing.assert_allclose(np.asarray(dense_rows(jac(y, (k,)), y)), reference, rtol=1e-14, atol=1e-14)
    ys = jnp.stack([y, -y, 2 * y], axis=1)  # (n, L)
    ks = jnp.asarray([3.0, 1.0, -2.0])
    lanes = np.moveaxis(np.asarray(dense_rows(jac(ys, (ks,)), ys)), -1, 0)
    for lane in range(3):
        expected = np.asarray(jax.jacfwd(f)(ys[:, lane], ks[lane]))
        np.testing.assert_allclose(lanes[lane], expected, rtol=1e-14, atol=1e-14)
    assert pattern[1].all()  # the loop body slices y itself: the conservative rule gives the whole row


def test_a_loop_is_not_read_as_one_pass_of_its_body():
    # Rotating a three-entry carry twice sends y2 to the first output; one pass of the body would say y1, and the
    # Jacobian would then miss its only nonzero entry in that row. Loops take the conservative rule.
    def f(y):
        a, b, c = jax.lax.fori_loop(0, 2, lambda i, s: (s[1], s[2], s[0]), (y[0], y[1], y[2]))
        return jnp.stack([a, b, c])

    y = jnp.asarray([1.0, 2.0, 3.0])
    pattern, jac = compressed_jacobian(f, y)
    reference = np.asarray(jax.jacfwd(f)(y))
    assert not np.any((reference != 0) & ~pattern)
    np.testing.assert_array_equal(np.asarray(dense_rows(jac(y, ()), y)), reference)
