"""Implicit time stepping of the diffusion–reaction system inside ``jax.lax.scan``.

Scheme: vertex-centred finite volumes on the expanding grid of :mod:`._grid` in space; in time BDF2 (second order,
L-stable, so potential steps do not ring as they do with Crank–Nicolson) after one backward-Euler start step, or
backward Euler throughout (``scheme="euler"``). For each transported variable v a step is the tridiagonal system

    M_v C_v^{n+1} = (V / dtau) S_v^n + bulk e_last - sign_v J^{n+1} e_0,

with S^n = C^n (Euler) or 2 C^n - C^{n-1} / 2 (BDF2, whose M carries 3/2 V / dtau on the diagonal),

where J^{n+1} is the (dimensionless) oxidation flux at the electrode. M_v does not change during a run, so it is
inverted once per simulation (a batched ``tridiagonal_solve`` against the identity) and the step becomes
C^{n+1} = G C^n + g - J^{n+1} sign w, with w = M^{-1} e_0: superposition turns the boundary condition into one
scalar equation for J, solved in closed form for Nernst/Butler–Volmer/MHC (:mod:`._kinetics`) or by a few Newton
iterations on the true electrode potential when the uncompensated resistance R_u is on. For the grid sizes used here
(tens to a couple of hundred nodes) the dense matrix–vector product is faster on CPU than a tridiagonal solve per
step, and its reverse-mode derivative stores only C^n per step.

Memory of gradients: ``checkpoint_every=k`` runs the scan in chunks of k steps under ``jax.checkpoint``, so reverse
mode keeps one state per chunk and recomputes inside it (memory ~ (n_t/k + k) states instead of n_t).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ._kinetics import bv_factors, mhc_factors, nernst_flux, rate_flux
from ._mechanisms import Transport

__all__ = [
    "step_operators",
    "Operators",
    "flux_law",
    "rate_of_change",
    "scan_steps",
    "NEWTON_ITERATIONS",
    "MAX_NEWTON_STEP",
]

_UNROLL = 4  # unrolled scan steps: less loop overhead per step on CPU
NEWTON_ITERATIONS = 8  # iterations of the ohmic-drop solve per time step (quadratic convergence from a close guess)
MAX_NEWTON_STEP = 0.05  # V; damps the first Newton steps far from E0 where the current law is exponential


def step_operators(tr: Transport, volume, left, right, dtau, lead: float = 1.0):
    """Matrices of one implicit step for every variable.

    ``lead`` is the weight of C^{n+1} in the time difference: 1 for backward Euler, 3/2 for BDF2 (whose right-hand
    side state is then 2 C^n - C^{n-1} / 2).

    Returns
    -------
    G : (n_var, n_x, n_x) maps C^n to the part of C^{n+1} that does not depend on the flux.
    g : (n_var, n_x) contribution of the bulk held at the outer node.
    w : (n_var, n_x) response of C^{n+1} to a unit flux out through the electrode (M^{-1} e_0).
    """
    n_var, n_x = tr.d.shape[0], volume.shape[0]
    mass = volume / dtau
    diag = lead * mass[None] + tr.d[:, None] * (left + right)[None] + tr.decay[:, None] * volume[None]
    lower = -tr.d[:, None] * left[None]
    upper = -tr.d[:, None] * right[None]
    # outer node: Dirichlet (identity row), the bulk value enters through g
    diag = diag.at[:, -1].set(1.0)
    lower = lower.at[:, -1].set(0.0)
    eye = jnp.broadcast_to(jnp.eye(n_x), (n_var, n_x, n_x))
    m_inv = jax.lax.linalg.tridiagonal_solve(lower, diag, upper, eye)
    rhs_scale = mass.at[-1].set(0.0)
    G = m_inv * rhs_scale[None, None, :]
    g = m_inv[:, :, -1] * tr.bulk[:, None]
    w = m_inv[:, :, 0]
    return G, g, w


def flux_law(kinetics: str, K0, alpha, lam, mhc_method: str) -> Callable:
    """``J(theta, u_R, u_O, a, b)``: oxidation flux for surface concentrations c_R0 = u_R - J a, c_O0 = u_O + J b."""
    if kinetics == "nernst":
        return nernst_flux
    if kinetics == "bv":

        def bv(theta, u_R, u_O, a, b):
            f_ox, f_red = bv_factors(theta, alpha)
            return rate_flux(K0 * f_ox, K0 * f_red, u_R, u_O, a, b)

        return bv
    if kinetics == "mhc":

        def mhc(theta, u_R, u_O, a, b):
            f_ox, f_red = mhc_factors(theta, lam, mhc_method)
            return rate_flux(K0 * f_ox, K0 * f_red, u_R, u_O, a, b)

        return mhc
    raise ValueError(f"unknown kinetics {kinetics!r}")


def scan_steps(step: Callable, carry, xs, checkpoint_every: int | None):
    """``lax.scan(step, carry, xs)`` returning only the outputs; in checkpointed chunks if asked.

    ``xs`` is a pytree of arrays with leading length n_steps. With chunks, the inputs are padded by repeating their
    last entry to a whole number of chunks and the padded outputs are dropped.
    """
    n = jax.tree.leaves(xs)[0].shape[0]
    if not checkpoint_every or checkpoint_every >= n:
        return jax.lax.scan(step, carry, xs, unroll=_UNROLL)[1]
    k = int(checkpoint_every)
    n_chunks = -(-n // k)
    pad = n_chunks * k - n

    def chunked(x):
        x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]) if pad else x
        return x.reshape((n_chunks, k) + x.shape[1:])

    @jax.checkpoint
    def run_chunk(c, x_chunk):
        return jax.lax.scan(step, c, x_chunk)

    ys = jax.lax.scan(run_chunk, carry, jax.tree.map(chunked, xs))[1]
    return jax.tree.map(lambda y: y.reshape((n_chunks * k,) + y.shape[2:])[:n], ys)


class Operators(eqx.Module):
    """One step's matrices plus the surface bookkeeping derived from them."""

    G: jnp.ndarray
    g: jnp.ndarray
    w: jnp.ndarray
    sw: jnp.ndarray
    a: jnp.ndarray
    b: jnp.ndarray
    to_R: jnp.ndarray
    to_O: jnp.ndarray

    def __init__(self, G, g, w, tr):
        self.G, self.g, self.w = G, g, w
        self.sw = tr.sign[:, None] * w
        self.a = tr.to_R @ self.sw[:, 0]
        self.b = -(tr.to_O @ self.sw[:, 0])
        self.to_R, self.to_O = tr.to_R, tr.to_O

    def propagate(self, S):
        """Flux-free part u of the next state from the history state S, and its surface values (u_R, u_O)."""
        u = jnp.einsum("vij,vj->vi", self.G, S) + self.g
        return u, self.to_R @ u[:, 0], self.to_O @ u[:, 0]


def rate_of_change(E, dt, scheme: str):
    """dE/dt at each sample with the scheme's own difference formula (0 at t = 0), V/s."""
    first = (E[1:2] - E[:1]) / dt
    if scheme == "euler":
        rest = (E[2:] - E[1:-1]) / dt
    else:
        rest = (1.5 * E[2:] - 2.0 * E[1:-1] + 0.5 * E[:-2]) / dt
    return jnp.concatenate([jnp.zeros(1), first, rest])
