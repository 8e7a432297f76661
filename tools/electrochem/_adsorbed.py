"""A surface-confined (adsorbed) redox couple O_ads + n e⁻ ⇌ R_ads: no diffusion, only the surface coverages.

With f the fraction of the total coverage Gamma (mol/m²) in the reduced form,

    df/dt = -k_ox f + k_red (1 - f),    i = -n F A Gamma df/dt    (oxidation positive),

and k_ox = k_s f_ox(theta), k_red = k_s f_red(theta), the same Butler–Volmer / MHC / Nernst factors as the diffusing
couple (:mod:`._kinetics`) but with k_s in 1/s (Laviron, J. Electroanal. Chem. 101 (1979) 19). Within one time step
the potential is held at the step's midpoint, where the equation is linear with constant coefficients and is
integrated exactly: f' = f_eq + (f - f_eq) exp(-(k_ox + k_red) dt), f_eq = k_red / (k_ox + k_red). So a fast couple
(k_s dt >> 1) is as stable as a slow one, and Nernst (k_s -> inf) is f = f_eq. The current of each step is its
charge over dt, and the sample's current the mean of the two steps around it (second order at the sample times).

Limits the tests check: reversible i_p = n² F² v A Gamma / (4 R T) with no peak separation and a 90.6 / n mV
half-width; irreversible E_pa = E0 + RT/((1 - alpha) n F) ln((1 - alpha) n F v / (R T k_s)) (Laviron 1979).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InvalidInput
from ._kinetics import Kinetics, MHCMethod
from ._solver import rate_factors
from ._types import Current, Potential
from ._units import FARADAY, f_over_rt, lambda_to_kt

__all__ = ["adsorbed_cv_current"]


def _reduced_fraction(factors, k_s, dt, f_start, kinetics: str):
    """Fraction f of the coverage in the reduced form after each step (exact within a step), shape (n_steps,)."""
    f_ox, f_red = factors
    if kinetics == "nernst":  # factors are (sigmoid(theta), sigmoid(-theta)): the surface is at equilibrium
        return f_red
    k_sum = k_s * (f_ox + f_red)
    f_eq = f_red / (f_ox + f_red)
    decay = jnp.exp(-k_sum * dt)

    def step(f, inputs):
        eq, d = inputs
        f_next = eq + (f - eq) * d
        return f_next, f_next

    return jax.lax.scan(step, f_start, (f_eq, decay))[1]


@jax.jit(static_argnames=("kinetics", "mhc_method"))
def _current(E, dt, cell: dict, kinetics: str, mhc_method: str):
    E = jnp.asarray(E, dtype=jnp.float64)
    nf = cell["n"] * f_over_rt(cell["T"])
    start = cell["start_reduced"]
    if start is None:  # at rest: the coverage in equilibrium with the first potential
        start = jax.nn.sigmoid(-nf * (E[0] - cell["E0"]))
    start = jnp.asarray(start, dtype=jnp.float64)
    mid = 0.5 * (E[1:] + E[:-1])
    lam = lambda_to_kt(cell["lambda_eV"], cell["T"])
    factors = rate_factors(kinetics, nf * (mid - cell["E0"]), cell["alpha"], lam, mhc_method)
    f = jnp.concatenate([start[None], _reduced_fraction(factors, cell["k_s"], dt, start, kinetics)])
    per_step = -cell["n"] * FARADAY * cell["area"] * cell["gamma"] * jnp.diff(f) / dt  # charge of each step / dt
    # at sample k the mean of the steps on either side; the last sample takes its one neighbour; sample 0 is rest
    i = jnp.concatenate([jnp.zeros(1), 0.5 * (per_step[1:] + per_step[:-1]), per_step[-1:]])
    return i + cell["C_dl"] * jnp.gradient(E, dt).at[0].set(0.0)


# (lowest allowed, strict?) of each field; None: any finite value
_RULES = {
    "E0": (None, False), "k_s": (0.0, True), "alpha": (0.0, True), "gamma": (0.0, True), "area": (0.0, True),
    "T": (0.0, True), "n": (0.0, True), "lambda_eV": (0.0, True), "C_dl": (0.0, False),
}  # fmt: skip


def _check(cell: dict, E, dt) -> None:
    for name, (lo, strict) in _RULES.items():
        x = cell[name]
        if isinstance(x, jax.core.Tracer):
            continue
        x = float(x)
        if not math.isfinite(x) or (lo is not None and (x <= lo if strict else x < lo)):
            raise InvalidInput(name, f"must be finite and {'>' if strict else '>='} {lo:g}, got {x}")
    if not isinstance(cell["alpha"], jax.core.Tracer) and float(cell["alpha"]) >= 1.0:
        raise InvalidInput("alpha", f"must be < 1, got {cell['alpha']}")
    start = cell["start_reduced"]
    if start is not None and not isinstance(start, jax.core.Tracer) and not 0.0 <= float(start) <= 1.0:
        raise InvalidInput("start_reduced", f"is a fraction in [0, 1], got {start}")
    if not isinstance(E, jax.core.Tracer):
        arr = np.asarray(E, dtype=float)
        if arr.ndim != 1 or arr.size < 3 or not np.all(np.isfinite(arr)):
            raise InvalidInput("E", "must be a finite 1-D potential program with >= 3 samples")
    if not isinstance(dt, jax.core.Tracer) and not (math.isfinite(float(dt)) and float(dt) > 0):
        raise InvalidInput("dt", f"time step must be positive and finite, got {dt}")


def adsorbed_cv_current(
    E: Potential,
    dt,
    *,
    E0=0.0,
    k_s=1.0,
    alpha=0.5,
    gamma=1e-6,
    area=1e-6,
    T=298.15,
    n=1.0,
    lambda_eV=1.0,
    C_dl=0.0,
    start_reduced=None,
    kinetics: Kinetics = "bv",
    mhc_method: MHCMethod = "quadrature",
) -> Current:
    """Current (A, oxidation positive) of a surface-confined couple under the potential program ``E`` (V).

    Parameters
    ----------
    E : (n_t,) applied potential, V vs reference, sampled every ``dt`` s (n_t >= 3).
    E0 : formal potential of the adsorbed couple, V.
    k_s : standard rate constant of the surface reaction, 1/s (ignored for ``kinetics="nernst"``).
    alpha : transfer coefficient (Butler–Volmer).
    gamma : total surface coverage Gamma_O + Gamma_R, mol/m² (1e-6 mol/m² = 1e-10 mol/cm², about a monolayer).
    area : electrode area, m².  T : temperature, K.  n : electrons.  lambda_eV : reorganisation energy, eV (MHC).
    C_dl : double-layer capacitance, F (adds C_dl dE/dt).
    start_reduced : fraction of the coverage reduced at t = 0; ``None`` (default): in equilibrium with ``E[0]``.
    kinetics, mhc_method : as for :func:`cv_current`.

    Returns
    -------
    (n_t,) current in A; sample 0 is the charging current only.

    All arguments but the static ``kinetics``/``mhc_method`` may be traced (jit, grad, vmap).

    Raises
    ------
    InvalidInput
        For a concrete impossible value (gamma <= 0, NaN, alpha outside (0, 1), dt <= 0, ...), naming the field.
    """
    if kinetics not in ("nernst", "bv", "mhc"):
        raise InvalidInput("kinetics", f"must be nernst, bv or mhc; got {kinetics!r}")
    cell = {"E0": E0, "k_s": k_s, "alpha": alpha, "gamma": gamma, "area": area, "T": T, "n": n,
            "lambda_eV": lambda_eV, "C_dl": C_dl, "start_reduced": start_reduced}  # fmt: skip
    _check(cell, E, dt)
    return _current(E, dt, cell, kinetics, mhc_method)
