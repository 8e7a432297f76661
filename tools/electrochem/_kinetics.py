"""Heterogeneous electron-transfer laws for O + n e⁻ ⇌ R, in dimensionless form.

``theta = n F (E - E0) / (R T)``; rates are returned relative to the standard rate constant k0, as the factors
``(f_ox, f_red)`` such that k_ox = k0 f_ox and k_red = k0 f_red (so f_ox / f_red = exp(theta): detailed balance).

* Butler–Volmer: f_ox = exp((1 - alpha) theta), f_red = exp(-alpha theta).
* Marcus–Hush–Chidsey (MHC), reorganisation energy lambda in units of k_B T; oxidation with overpotential eta:
  k_ox(eta) ∝ ∫ exp[-(x - lambda + eta)² / (4 lambda)] / (1 + exp(x)) dx  and  k_red(eta) = k_ox(-eta).
  Evaluated either by quadrature (:func:`mhc_quadrature`) or by the closed form of Zeng, Smith, Bai & Bazant,
  J. Electroanal. Chem. 735 (2014) 77 (:func:`mhc_zeng`). Both are normalised by their value at eta = 0.
* Nernst: the surface is at equilibrium; handled by :func:`nernst_flux`.

The surface-flux helpers solve the one-unknown boundary condition left after the superposition in :mod:`._solver`:
with surface concentrations c_R0 = u_R - J a and c_O0 = u_O + J b (a, b > 0), the oxidation flux J is explicit.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erfc

__all__ = [
    "Kinetics",
    "MHCMethod",
    "bv_factors",
    "mhc_zeng",
    "mhc_quadrature",
    "mhc_factors",
    "rate_flux",
    "nernst_flux",
]

Kinetics = Literal["nernst", "bv", "mhc"]
MHCMethod = Literal["zeng", "quadrature"]

# Trapezoid nodes on the unit interval for the MHC integral (the integrand is smooth and decays like a Gaussian at
# both ends, so the trapezoid rule converges geometrically).
_N_QUAD = 241
_UNIT = np.linspace(0.0, 1.0, _N_QUAD)
_TRAP = np.full(_N_QUAD, 1.0 / (_N_QUAD - 1))
_TRAP[[0, -1]] *= 0.5


def bv_factors(theta, alpha):
    """Butler–Volmer factors (f_ox, f_red) = (exp((1-alpha) theta), exp(-alpha theta))."""
    return jnp.exp((1.0 - alpha) * theta), jnp.exp(-alpha * theta)


def mhc_zeng(eta, lam):
    """Zeng–Smith–Bai–Bazant closed form of the MHC rates, unnormalised, (k_ox, k_red).

    ``eta`` and ``lam`` in units of k_B T (eta > 0 is oxidising). k_red = sqrt(pi lam) / (1 + exp(eta)) *
    erfc((lam - sqrt(1 + sqrt(lam) + eta²)) / (2 sqrt(lam))) and k_ox(eta) = k_red(-eta); their ratio is exactly
    exp(eta). Error vs the exact integral is below a few per cent for lam >~ 3 k_B T (ZSBB 2014, Fig. 2).
    """
    sl = jnp.sqrt(lam)
    arg = erfc((lam - jnp.sqrt(1.0 + sl + eta**2)) / (2.0 * sl))
    pref = jnp.sqrt(jnp.pi * lam)
    k_red = pref * jax.nn.sigmoid(-eta) * arg
    k_ox = pref * jax.nn.sigmoid(eta) * arg
    return k_ox, k_red


def _mhc_favoured(eta_abs, lam):
    """∫ exp(-(x - lam + |eta|)²/(4 lam)) / (1 + e^x) dx: the rate in the favoured direction (unnormalised).

    With x = lam - |eta| + 2 sqrt(lam) y the Gaussian is exp(-y²); the Fermi factor shifts the mass of the integrand
    to y in [-sqrt(lam), 0], so the trapezoid rule runs over y in [-sqrt(lam) - 7, 7].
    """
    eta_abs, lam = jnp.broadcast_arrays(jnp.asarray(eta_abs), jnp.asarray(lam))
    sl = jnp.sqrt(lam)
    lo, hi = -sl - 7.0, 7.0
    y = lo[..., None] + (hi - lo)[..., None] * jnp.asarray(_UNIT)
    x = (lam - eta_abs)[..., None] + 2.0 * sl[..., None] * y
    integrand = jnp.exp(-(y**2)) * jax.nn.sigmoid(-x)
    return 2.0 * sl * (hi - lo) * jnp.sum(jnp.asarray(_TRAP) * integrand, axis=-1)


def mhc_quadrature(eta, lam):
    """MHC rates (k_ox, k_red), unnormalised, by trapezoid quadrature of the Chidsey integral.

    The favoured direction is integrated; the other follows from detailed balance (k_ox / k_red = exp(eta)), which
    keeps both accurate far from E0 where one rate underflows the quadrature.
    """
    eta = jnp.asarray(eta)
    big = _mhc_favoured(jnp.abs(eta), lam)
    small = big * jnp.exp(-jnp.abs(eta))
    k_ox = jnp.where(eta >= 0, big, small)
    k_red = jnp.where(eta >= 0, small, big)
    return k_ox, k_red


def mhc_factors(theta, lam, method: MHCMethod = "zeng"):
    """MHC factors (f_ox, f_red) = k(theta) / k(0), so that k0 keeps its meaning as the rate at E0."""
    law = mhc_zeng if method == "zeng" else mhc_quadrature
    k_ox, k_red = law(theta, lam)
    k0, _ = law(jnp.zeros_like(theta), lam)
    return k_ox / k0, k_red / k0


def rate_flux(k_ox, k_red, u_R, u_O, a, b):
    """Oxidation flux J for finite rates: J = k_ox c_R0 - k_red c_O0 with c_R0 = u_R - J a, c_O0 = u_O + J b."""
    return (k_ox * u_R - k_red * u_O) / (1.0 + k_ox * a + k_red * b)


def nernst_flux(theta, u_R, u_O, a, b):
    """Oxidation flux J that makes the surface Nernstian, c_O0 / c_R0 = exp(theta) (the k0 -> inf limit)."""
    s_ox, s_red = jax.nn.sigmoid(theta), jax.nn.sigmoid(-theta)
    return (s_ox * u_R - s_red * u_O) / (s_ox * a + s_red * b)
