"""Implicit time stepping of the diffusion–reaction system inside ``jax.lax.scan``, in the grid's diffusion modes.

Scheme: vertex-centred finite volumes on the expanding grid of :mod:`._grid` in space; in time BDF2 (second order,
L-stable, so potential steps do not ring as they do with Crank–Nicolson) after one backward-Euler start step, or
backward Euler throughout (``scheme="euler"``). For each transported variable v, in deviations c = C - bulk_v from
the bulk value (held at the outer node), a step is the tridiagonal system

    (lead V / dtau + d_v K + k_v V) c^{n+1} = (V / dtau) S^n - k_v bulk_v V 1 - sign_v J^{n+1} e_0,

with S^n = c^n (Euler, lead 1) or 2 c^n - c^{n-1} / 2 (BDF2, lead 3/2), V the diagonal of control volumes, K the
symmetric tridiagonal diffusion stiffness (the same for every variable up to the factor d_v = D_v / D_max), k_v the
first-order decay of v, and J^{n+1} the dimensionless oxidation flux at the electrode.

How it is solved: every variable's matrix is a combination of the same pair (K, V), so one generalised eigenproblem
K Φ = V Φ diag(mu) with Φᵀ V Φ = 1 diagonalises all of them at once. In the modal amplitudes a = Φᵀ V c each step is
elementwise,

    a^{n+1}_k = (S_k / dtau - k_v bulk_v s_k - sign_v J phi0_k) / (lead / dtau + d_v mu_k + k_v),

with phi0 = Φ[0] (the modes at the electrode) and s = Φᵀ V 1; the surface concentration is bulk_v + phi0 · a. This is
the exact solution of the same tridiagonal system (not an approximation), costs O(n_x) per step instead of a
sequential tridiagonal sweep, and keeps the reverse-mode tape at n_var × n_x numbers per step. For planar diffusion
the eigenproblem depends only on the static grid and is solved once in NumPy at trace time; for spherical diffusion
it depends on the traced electrode radius and is solved with ``jnp.linalg.eigh`` (differentiable).

Superposition turns the electrode boundary condition into one scalar equation for J, solved in closed form for
Nernst/Butler–Volmer/MHC (:mod:`._kinetics`), or by a few Newton iterations on the true electrode potential when the
uncompensated resistance R_u is on. The ECE mechanism has a second flux J2 (its second couple); J1 does not depend on
J2, so both stay explicit: J1 as above, then J2 from the surface values left by J1. Without ohmic drop the potential
of every step is known in advance, so the rate factors (exponentials, the MHC integral) are evaluated for all steps
at once outside the time loop.

Memory of gradients: ``checkpoint_every=k`` runs the scan in chunks of k steps under ``jax.checkpoint``, so reverse
mode keeps one state per chunk and recomputes inside it (memory ~ (n_t/k + k) states instead of n_t).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from ._grid import GridSpec, cell_geometry, rde_geometry
from ._kinetics import bv_factors, mhc_factors, rate_flux
from ._mechanisms import Transport

__all__ = [
    "Modes",
    "planar_modes",
    "spherical_modes",
    "rde_modes",
    "Operators",
    "rate_factors",
    "factor_flux",
    "rate_of_change",
    "scan_steps",
    "banded_reference",
    "NEWTON_ITERATIONS",
    "MAX_NEWTON_STEP",
    "UNROLL",
]

UNROLL = 8  # default unrolled scan steps: ~2x less loop overhead per step on CPU than 1, ~3x the compile time
NEWTON_ITERATIONS = 8  # iterations of the ohmic-drop solve per time step (quadratic convergence from a close guess)
MAX_NEWTON_STEP = 0.05  # V; damps the first Newton steps far from E0 where the current law is exponential


class Modes(eqx.Module):
    """Diffusion modes of a grid: K Φ = V Φ diag(mu), Φᵀ V Φ = 1, over the n_m = n_x - 1 unknown nodes.

    Attributes
    ----------
    mu : (n_m,) eigenvalues (dimensionless rates, > 0).
    phi0 : (n_m,) the modes at the electrode node, Φ[0].
    s : (n_m,) Φᵀ V 1, the projection of a uniform deviation (used by decay of a nonzero bulk value).
    """

    mu: jnp.ndarray
    phi0: jnp.ndarray
    s: jnp.ndarray


def _stiffness(volume, left, right):
    """Control volumes and the symmetric tridiagonal K of the unknown nodes (the outer node is Dirichlet)."""
    vol = volume[:-1]
    diag = (left + right)[:-1]
    off = -right[:-2]
    return vol, diag, off


def _modes(volume, left, right, xp) -> Modes:
    vol, diag, off = _stiffness(volume, left, right)
    root = xp.sqrt(vol)
    # symmetric form V^-1/2 K V^-1/2 (tridiagonal), eigenvectors Q; then Φ = V^-1/2 Q
    scaled_off = off / (root[:-1] * root[1:])
    if xp is np:
        # LAPACK's tridiagonal solver: ~0.4 ms, where a dense eigh of the same 65 x 65 matrix took 25-400 ms in a
        # fresh process on the loaded 2-core box (OpenBLAS threads fighting over the cores), part of every cold start
        mu, Q = scipy.linalg.eigh_tridiagonal(diag / vol, scaled_off)
    else:  # traced (spherical radius): the dense, differentiable eigh
        mu, Q = jnp.linalg.eigh(xp.diag(diag / vol) + xp.diag(scaled_off, 1) + xp.diag(scaled_off, -1))
    phi = Q / root[:, None]
    return Modes(mu=xp.asarray(mu), phi0=phi[0], s=Q.T @ root)


@functools.lru_cache(maxsize=32)
def _planar_modes_np(spec: GridSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    volume, left, right = (np.asarray(x) for x in cell_geometry(spec, None))
    m = _modes(volume, left, right, np)
    return m.mu, m.phi0, m.s


def planar_modes(spec: GridSpec) -> Modes:
    """Modes of the planar grid ``spec``: computed once in NumPy (float64) and cached per grid."""
    mu, phi0, s = _planar_modes_np(spec)
    return Modes(mu=jnp.asarray(mu), phi0=jnp.asarray(phi0), s=jnp.asarray(s))


@functools.lru_cache(maxsize=32)
def _rde_modes_np(spec: GridSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = _modes(*rde_geometry(spec), np)
    return m.mu, m.phi0, m.s


def rde_modes(spec: GridSpec) -> Modes:
    """Modes of convective diffusion to a rotating disk (:func:`._grid.rde_geometry`), in units of its diffusion
    layer: static, computed once in NumPy and cached per grid, like the planar ones."""
    mu, phi0, s = _rde_modes_np(spec)
    return Modes(mu=jnp.asarray(mu), phi0=jnp.asarray(phi0), s=jnp.asarray(s))


def spherical_modes(spec: GridSpec, rho0) -> Modes:
    """Modes of the spherical grid around a sphere of dimensionless radius ``rho0`` (traced; ``jnp.linalg.eigh``)."""
    volume, left, right = cell_geometry(spec, rho0)
    return _modes(volume, left, right, jnp)


class Operators(eqx.Module):
    """One implicit step (Euler or BDF2) in modal form, for every variable, plus the surface bookkeeping.

    Attributes
    ----------
    G : (n_var, n_m) multiplies the history amplitudes S (so the flux-free next state is G S + g).
    g : (n_var, n_m) constant source (decay of a nonzero bulk value; zero for the mechanisms here).
    sw : (n_var, n_m) change of the next amplitudes per unit oxidation flux J (sign included).
    a, b : scalars; surface c_R0 = u_R - J a and c_O0 = u_O + J b.
    sw2, a2, b2, w1, to_R2, to_O2 : ECE only (else ``None``): ``sw`` of the second couple's flux J2; its surface
        c_R2 = to_R2 · (s0 - J1 w1) - J2 a2 and c_O2 = to_O2 · (s0 - J1 w1) + J2 b2, with s0 the flux-free surface
        values of the variables and w1 (n_var,) their change per unit J1.
    feed, feed_gain : ``Transport.feed`` (target t, source s) and (n_m,) k_s / den_t, or ``None``. The target's
        equation holds the source's decay k_s C_s as a gain, so its next amplitudes are its own plus feed_gain times
        the source's (flux part included): the step stays elementwise per mode, solved source first.
    """

    G: jnp.ndarray
    g: jnp.ndarray
    sw: jnp.ndarray
    phi0: jnp.ndarray
    bulk: jnp.ndarray
    a: jnp.ndarray
    b: jnp.ndarray
    to_R: jnp.ndarray
    to_O: jnp.ndarray
    sw2: jnp.ndarray | None
    a2: jnp.ndarray | None
    b2: jnp.ndarray | None
    w1: jnp.ndarray | None
    to_R2: jnp.ndarray | None
    to_O2: jnp.ndarray | None
    feed_gain: jnp.ndarray | None
    feed: tuple[int, int] | None = eqx.field(static=True)

    def __init__(self, tr: Transport, modes: Modes, dtau, lead: float):
        den = lead / dtau + tr.d[:, None] * modes.mu[None] + tr.decay[:, None]
        self.G = (1.0 / dtau) / den
        self.g = -(tr.decay * tr.bulk)[:, None] * modes.s[None] / den
        self.sw = tr.sign[:, None] * modes.phi0[None] / den
        self.feed, self.feed_gain = tr.feed, None
        if tr.feed is not None:
            t, s = tr.feed
            self.feed_gain = tr.decay[s] / den[t]
            # the source's bulk value decays into the target too; its flux response feeds the target's
            self.g = self.g.at[t].add(self.feed_gain * tr.bulk[s] * modes.s)
            self.sw = self.sw.at[t].add(self.feed_gain * self.sw[s])
        self.phi0, self.bulk = modes.phi0, tr.bulk
        surface = self.sw @ modes.phi0
        self.a = tr.to_R @ surface
        self.b = -(tr.to_O @ surface)
        self.to_R, self.to_O = tr.to_R, tr.to_O
        self.sw2 = self.a2 = self.b2 = self.w1 = self.to_R2 = self.to_O2 = None
        if tr.sign2 is not None:
            self.sw2 = tr.sign2[:, None] * modes.phi0[None] / den
            surface2 = self.sw2 @ modes.phi0
            self.a2 = tr.to_R2 @ surface2
            self.b2 = -(tr.to_O2 @ surface2)
            self.w1 = surface
            self.to_R2, self.to_O2 = tr.to_R2, tr.to_O2

    def _flux_free(self, S):
        u = self.G * S + self.g
        if self.feed is not None:
            t, s = self.feed
            u = u.at[t].add(self.feed_gain * u[s])
        return u

    def propagate(self, S):
        """Flux-free part u of the next amplitudes from the history S, and its surface values (u_R, u_O)."""
        u = self._flux_free(S)
        surface = self.bulk + u @ self.phi0
        return u, self.to_R @ surface, self.to_O @ surface

    def propagate_two(self, S):
        """ECE: flux-free amplitudes u and the surface values of every variable (n_var,)."""
        u = self._flux_free(S)
        return u, self.bulk + u @ self.phi0

    def second_couple(self, surface, J1):
        """ECE: flux-free surface values (u_R2, u_O2) of the second couple once the first carries flux ``J1``."""
        rest = surface - J1 * self.w1
        return self.to_R2 @ rest, self.to_O2 @ rest


def rate_factors(kinetics: str, theta, alpha, lam, mhc_method: str):
    """Potential-dependent factors of the flux law, elementwise over ``theta`` (so they can be precomputed).

    Nernst: (sigmoid(theta), sigmoid(-theta)); Butler–Volmer and MHC: (f_ox, f_red) with k_ox = k0 f_ox.
    """
    if kinetics == "nernst":
        return jax.nn.sigmoid(theta), jax.nn.sigmoid(-theta)
    if kinetics == "bv":
        return bv_factors(theta, alpha)
    if kinetics == "mhc":
        return mhc_factors(theta, lam, mhc_method)
    raise ValueError(f"unknown kinetics {kinetics!r}")


def factor_flux(kinetics: str, K0, factors, u_R, u_O, a, b):
    """Oxidation flux J from precomputed ``factors`` for surface c_R0 = u_R - J a, c_O0 = u_O + J b."""
    f1, f2 = factors
    if kinetics == "nernst":
        return (f1 * u_R - f2 * u_O) / (f1 * a + f2 * b)
    return rate_flux(K0 * f1, K0 * f2, u_R, u_O, a, b)


def scan_steps(step: Callable, carry, xs, checkpoint_every: int | None, unroll: int = UNROLL):
    """``lax.scan(step, carry, xs)`` returning only the outputs; in checkpointed chunks if asked.

    ``xs`` is a pytree of arrays with leading length n_steps. With chunks, the inputs are padded by repeating their
    last entry to a whole number of chunks and the padded outputs are dropped.
    """
    n = jax.tree.leaves(xs)[0].shape[0]
    if not checkpoint_every or checkpoint_every >= n:
        return jax.lax.scan(step, carry, xs, unroll=unroll)[1]
    k = int(checkpoint_every)
    n_chunks = -(-n // k)
    pad = n_chunks * k - n

    def chunked(x):
        x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]) if pad else x
        return x.reshape((n_chunks, k) + x.shape[1:])

    @jax.checkpoint
    def run_chunk(c, x_chunk):
        return jax.lax.scan(step, c, x_chunk, unroll=unroll)

    ys = jax.lax.scan(run_chunk, carry, jax.tree.map(chunked, xs))[1]
    return jax.tree.map(lambda y: y.reshape((n_chunks * k,) + y.shape[2:])[:n], ys)


def rate_of_change(E, dt, scheme: str):
    """dE/dt at each sample with the scheme's own difference formula (0 at t = 0), V/s."""
    first = (E[1:2] - E[:1]) / dt
    if scheme == "euler":
        rest = (E[2:] - E[1:-1]) / dt
    else:
        rest = (1.5 * E[2:] - 2.0 * E[1:-1] + 0.5 * E[:-2]) / dt
    return jnp.concatenate([jnp.zeros(1), first, rest])


def banded_reference(theta, K0: float, alpha: float, d_R: float, d_O: float, spec: GridSpec, kinetics: str = "bv"):
    """The same planar E-mechanism scheme (bulk R, BDF2 after one Euler step) as a plain NumPy loop.

    Each step solves the tridiagonal systems of R and O with ``scipy.linalg.solve_banded`` (the textbook way), using
    the same superposition for the surface flux. It is the reference the modal JAX solver must reproduce and the
    peer of ``benchmarks/electrochem.py``. ``theta``: (n_t,) dimensionless potential on the uniform time grid of
    the whole program (tau from 0 to 1); returns the (n_t,) dimensionless oxidation flux J (J[0] = 0).
    """
    from scipy.linalg import solve_banded

    volume, left, right = (np.asarray(x) for x in cell_geometry(spec, None))
    n_x, n_t = volume.size, len(theta)
    dtau = 1.0 / (n_t - 1)
    d = np.array([d_R, d_O])
    bulk = np.array([1.0, 0.0])
    sign = np.array([1.0, -1.0])

    def banded(lead, v):
        ab = np.zeros((3, n_x))
        ab[1] = lead * volume / dtau + d[v] * (left + right)
        ab[0, 1:] = -d[v] * right[:-1]
        ab[2, :-1] = -d[v] * left[1:]
        ab[1, -1], ab[2, -2] = 1.0, 0.0  # outer node holds the bulk value
        return ab

    def solve(ab, rhs):
        return solve_banded((1, 1), ab, rhs)

    e0 = np.zeros(n_x)
    e0[0] = 1.0
    mats = {lead: [banded(lead, v) for v in (0, 1)] for lead in (1.0, 1.5)}
    resp = {lead: [solve(mats[lead][v], e0) for v in (0, 1)] for lead in (1.0, 1.5)}
    C = np.outer(bulk, np.ones(n_x))
    C_prev = C.copy()
    J_out = np.zeros(n_t)
    for k in range(1, n_t):
        lead = 1.0 if k == 1 else 1.5
        S = C if k == 1 else 2.0 * C - 0.5 * C_prev
        u = []
        for v in (0, 1):
            rhs = volume / dtau * S[v]
            rhs[-1] = bulk[v]
            u.append(solve(mats[lead][v], rhs))
        w = resp[lead]
        a, b = w[0][0], w[1][0]
        if kinetics == "nernst":
            s_ox, s_red = 1.0 / (1.0 + np.exp(-theta[k])), 1.0 / (1.0 + np.exp(theta[k]))
            J = (s_ox * u[0][0] - s_red * u[1][0]) / (s_ox * a + s_red * b)
        else:
            k_ox, k_red = K0 * np.exp((1.0 - alpha) * theta[k]), K0 * np.exp(-alpha * theta[k])
            J = (k_ox * u[0][0] - k_red * u[1][0]) / (1.0 + k_ox * a + k_red * b)
        C_prev = C
        C = np.stack([u[v] - J * sign[v] * w[v] for v in (0, 1)])
        J_out[k] = J
    return J_out
