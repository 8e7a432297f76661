"""Mass-action kinetics in JAX: a network compiled to arrays, rates and right-hand side.

Every reversible reaction is split into two *directed* reactions (forward, then reverse). With reactant orders
``a[j, i]`` and net stoichiometry ``S[i, j]`` the deterministic model is

    dx/dt = S v(x),   v_j = k_j ∏_i x_i^{a_ji}                         (x in mol/m³, v in mol/(m³·s))

The model is written out term by term from the network's (sparse) orders and stoichiometry: integer powers as
repeated products, so the rate and its derivatives stay finite at x = 0 (``x**0.0`` as a float power would give a
NaN gradient there), and dx_i/dt as a sum over the reactions that change species i. XLA:CPU fuses such scalar
arithmetic into one kernel, where a gather from a power table and a dense ``S @ v`` were three kernels per call:
the right-hand side of BIOMD0000000010 took 0.82 µs as a dense product and 0.03 µs written out, and a Rodas4 step
calls it seven times. Falling factorials give the stochastic propensities the same way (see :mod:`._ssa`).

JAX precision: stiff kinetics and Newton solves need float64; :mod:`labwright.tools` turns on ``jax_enable_x64``
(``tools/_runtime.py``) before this package is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np

from ._network import ReactionNetwork, _rref

__all__ = ["MassActionSystem", "compile_network"]


@dataclass(frozen=True, eq=False)
class MassActionSystem:
    """A network compiled to arrays (NumPy constants, closed over by jitted JAX code).

    Attributes
    ----------
    species : tuple of str
        Species order of the state vector, length n_s.
    labels : tuple of str
        Directed-reaction labels ``"name.k_forward"`` / ``"name.k_reverse"``, length n_d.
    orders : ndarray of int, shape (n_d, n_s)
        Reactant orders of each directed reaction.
    net : ndarray of float, shape (n_s, n_d)
        Net stoichiometry of each directed reaction.
    k : ndarray of float, shape (n_d,)
        Rate constants from the network (NaN where not given), units per order (see :mod:`._network`).
    conservation : ndarray of int, shape (n_c, n_s)
        Conservation-law basis (rows c with cᵀ S = 0).
    independent_rows : tuple of int
        Species whose balance equations are linearly independent (rank(S) of them).
    """

    species: tuple[str, ...]
    labels: tuple[str, ...]
    orders: np.ndarray
    net: np.ndarray
    k: np.ndarray
    conservation: np.ndarray
    independent_rows: tuple[int, ...]

    @property
    def n_species(self) -> int:
        return len(self.species)

    def key(self) -> tuple:
        """Hashable identity of the structure (for caches of compiled solvers)."""
        return (self.species, self.labels, self.orders.tobytes(), self.net.tobytes())

    def rates(self, x: jax.Array, k: jax.Array) -> jax.Array:
        """Directed reaction rates v (mol/(m³·s)), shape (n_d,), for concentrations x (mol/m³), shape (n_s,)."""
        xs = [x[..., i] for i in range(self.n_species)]
        factors = ([xs[i] for i, a in orders for _ in range(a)] for orders in self._reactant_orders)
        return k * jnp.stack([_product(f, xs[0]) for f in factors], axis=-1)

    def rhs(self, t: jax.Array, x: jax.Array, k: jax.Array) -> jax.Array:
        """dx/dt (mol/(m³·s)), shape (n_s,); signature ``(t, y, args)`` as diffrax expects."""
        del t
        v = self.rates(x, k)
        return jnp.stack([sparse_dot(row, v) for row in self._net_rows], axis=-1)

    @cached_property
    def _reactant_orders(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        return tuple(tuple((i, int(a)) for i, a in enumerate(row) if a) for row in self.orders)

    @cached_property
    def _net_rows(self) -> tuple[tuple[tuple[int, float], ...], ...]:
        return sparse_rows(self.net)

    def propensities(self, n: jax.Array, c: jax.Array) -> jax.Array:
        """Stochastic propensities (1/s), shape (n_d,), for copy numbers n (float array of integers).

        ``c`` are per-molecule constants: a_j = c_j ∏_i n_i (n_i − 1) … (n_i − a_ji + 1).
        """
        ns = [n[..., i] for i in range(self.n_species)]
        # n_i (n_i − 1) … (n_i − a + 1), each factor clipped at 0 (fewer molecules than the order: no reaction).
        factors = (
            [jnp.maximum(ns[i] - o, 0.0) for i, a in orders for o in range(a)] for orders in self._reactant_orders
        )
        return c * jnp.stack([_product(f, ns[0]) for f in factors], axis=-1)

    def stochastic_constants(self, k: np.ndarray, omega: float) -> np.ndarray:
        """Per-molecule constants c_j = k_j Ω^(1 − order_j) for system size Ω (molecules per mol/m³)."""
        order = self.orders.sum(axis=1)
        return np.asarray(k, dtype=float) * float(omega) ** (1.0 - order)


def sparse_rows(matrix: np.ndarray) -> tuple[tuple[tuple[int, float], ...], ...]:
    """Each row of a (mostly zero) matrix as its ``(column, value)`` pairs, for :func:`sparse_dot`."""
    return tuple(tuple((j, float(v)) for j, v in enumerate(row) if v != 0.0) for row in np.asarray(matrix))


def sparse_dot(row: tuple[tuple[int, float], ...], v: jax.Array) -> jax.Array:
    """Σ_j c_j v[j] over a sparse row written out term by term (see the module notes on why not ``S @ v``)."""
    terms = [v[..., j] if c == 1.0 else -v[..., j] if c == -1.0 else c * v[..., j] for j, c in row]
    return sum(terms[1:], terms[0]) if terms else jnp.zeros_like(v[..., 0])


def _product(factors: list[jax.Array], like: jax.Array) -> jax.Array:
    """The product of ``factors`` by repeated multiplication (1 for none, shaped like ``like``): integer powers stay
    exact and differentiable at 0, where a float power would give a NaN gradient."""
    out = factors[0] if factors else jnp.ones_like(like)
    for f in factors[1:]:
        out = out * f
    return out


def _independent_rows(net: np.ndarray) -> tuple[int, ...]:
    # Exact elimination: the pivot columns of Sᵀ are species whose balance rows of S are independent.
    if net.size == 0:
        return ()
    _, pivots = _rref([[Fraction(int(v)) for v in row] for row in net.T])
    return tuple(pivots)


def compile_network(network: ReactionNetwork) -> MassActionSystem:
    """Compile a :class:`ReactionNetwork` to a :class:`MassActionSystem` (directed reactions, arrays)."""
    idx = network.index
    labels, orders, nets, ks = [], [], [], []
    for r in network.reactions:
        a = np.zeros(network.n_species, dtype=np.int64)
        b = np.zeros(network.n_species, dtype=np.int64)
        for s, c in r.reactants.items():
            a[idx[s]] = c
        for s, c in r.products.items():
            b[idx[s]] = c
        labels.append(f"{r.name}.k_forward")
        orders.append(a)
        nets.append(b - a)
        ks.append(np.nan if r.k_forward is None else r.k_forward)
        if r.reversible:
            labels.append(f"{r.name}.k_reverse")
            orders.append(b)
            nets.append(a - b)
            ks.append(np.nan if r.k_reverse is None else r.k_reverse)
    net_int = np.array(nets, dtype=np.int64).T
    return MassActionSystem(
        species=tuple(network.species),
        labels=tuple(labels),
        orders=np.array(orders, dtype=np.int64),
        net=net_int.astype(float),
        k=np.array(ks, dtype=float),
        conservation=network.conservation_laws(),
        independent_rows=_independent_rows(network.stoichiometric_matrix()),
    )
