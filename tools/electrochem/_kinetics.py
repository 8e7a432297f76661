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
from jax.scipy.special import log_ndtr, logsumexp

__all__ = [
    "Kinetics",
    "MHCMethod",
    "bv_factors",
    "mhc_zeng",
    "mhc_zeng_log",
    "mhc_quadrature",
    "mhc_log_quadrature",
    "mhc_log_favoured",
    "mhc_factors",
    "rate_flux",
    "nernst_flux",
]

Kinetics = Literal["nernst", "bv", "mhc"]
MHCMethod = Literal["zeng", "quadrature"]

# Nodes of the double-exponential (sinh-sinh) rule on the whole real line: x = centre + scale sinh(pi/2 sinh t) with
# t on a uniform grid of step _DE_STEP. The map is fine near the centre and reaches 1e9 scales at the ends, so one
# fixed rule integrates both shapes the MHC integrand takes -- a narrow Fermi-cut peak a few k_B T wide near E0 and a
# Gaussian sqrt(2 lambda) wide past |eta| ~ lambda -- with errors ~1e-5 over lambda = 0.05-100 eV and |eta| <= 1 V
# (111 nodes; 81 nodes: ~7e-5; measured against adaptive quadrature, tests/electrochem/test_sim_mhc.py).
_DE_STEP = 0.06
_DE_T = np.arange(-3.3, 3.3 + 1e-9, _DE_STEP)
_DE_U = np.sinh(0.5 * np.pi * np.sinh(_DE_T))
_DE_LOGW = np.log(_DE_STEP * 0.5 * np.pi * np.cosh(_DE_T) * np.cosh(0.5 * np.pi * np.sinh(_DE_T)))
_PEAK_BISECTIONS = 64  # halvings of a bracket up to ~2 lambda + |eta| <= 1e4 k_B T wide: far below one node spacing


def bv_factors(theta, alpha):
    """Butler–Volmer factors (f_ox, f_red) = (exp((1-alpha) theta), exp(-alpha theta))."""
    return jnp.exp((1.0 - alpha) * theta), jnp.exp(-alpha * theta)


def mhc_zeng_log(eta, lam):
    """Logarithms (log k_ox, log k_red) of the Zeng–Smith–Bai–Bazant closed form, unnormalised.

    ``eta`` and ``lam`` in units of k_B T (eta > 0 is oxidising). k_red = sqrt(pi lam) / (1 + exp(eta)) *
    erfc((lam - sqrt(1 + sqrt(lam) + eta²)) / (2 sqrt(lam))) and k_ox(eta) = k_red(-eta); their ratio is exactly
    exp(eta). erfc is taken through ``log_ndtr`` (erfc z = 2 Phi(-sqrt 2 z)) so that it does not underflow at large
    lam, where the rates are ~exp(-lam / 4).

    Accuracy (measured against the exact integral, ``tests/electrochem/test_sim_mhc.py``): the closed form is an
    interpolation, not an expansion, and its error is not small everywhere. Relative to the exact rate (or to the
    rate normalised at eta = 0, which is what the simulator uses) the worst error over |eta| <= 1 V is

    ===============  =====  =====  =====  =====  =====  =====  =====  =====  =====  =====
    lambda (eV)      0.05   0.1    0.2    0.3    0.5    1      2      5      20     100
    rate (%)         11     8.8    4.9    3.3    7.9    26     55     121    367    1600
    normalised (%)   22     19     10     3.8    11     28     44     63     83     94
    ===============  =====  =====  =====  =====  =====  =====  =====  =====  =====  =====

    (25 °C). Zeng et al. aimed the form at lambda of a few to ~15 k_B T (their "reasonable parameters"): the rate is
    within 5 % only for lambda ~ 0.2-0.35 eV (8-14 k_B T), the normalised factor only near 0.3 eV. Above that its
    value at E0 overshoots the exact rate more and more (x1.26 at 1 eV, x4.7 at 20 eV), which is why the normalised
    error creeps towards 100 %. This is the published formula (also as coded in Bazant's MPET), not a transcription
    slip. The error is largest near E0, where the rates are smallest, and vanishes for |eta| >> lam (both saturate at
    sqrt(4 pi lam)). Use ``mhc_method="quadrature"`` (the default) for quantitative work.
    """
    sl = jnp.sqrt(lam)
    z = (lam - jnp.sqrt(1.0 + sl + eta**2)) / (2.0 * sl)
    log_erfc = jnp.log(2.0) + log_ndtr(-jnp.sqrt(2.0) * z)
    log_pref = 0.5 * jnp.log(jnp.pi * lam) + log_erfc
    return log_pref - jax.nn.softplus(-eta), log_pref - jax.nn.softplus(eta)


def mhc_zeng(eta, lam):
    """Zeng–Smith–Bai–Bazant closed form of the MHC rates, unnormalised, (k_ox, k_red); see :func:`mhc_zeng_log`."""
    log_ox, log_red = mhc_zeng_log(eta, lam)
    return jnp.exp(log_ox), jnp.exp(log_red)


def _integrand_peak(c, lam):
    """Maximum of g(x) = -(x - c)²/(4 lam) - log(1 + e^x), the log of the Chidsey integrand (c = lam - |eta|).

    g is strictly concave and g'(x) = (c - x)/(2 lam) - sigmoid(x) changes sign inside [c - 2 lam, max(c, 0)], so a
    fixed number of bisections finds it (branch-free under jit and vmap).
    """

    def halve(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        rising = (c - mid) / (2.0 * lam) - jax.nn.sigmoid(mid) > 0
        return jnp.where(rising, mid, lo), jnp.where(rising, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _PEAK_BISECTIONS, halve, (c - 2.0 * lam, jnp.maximum(c, 0.0)))
    return 0.5 * (lo + hi)


def mhc_log_favoured(eta_abs, lam):
    """log ∫ exp(-(x - lam + |eta|)²/(4 lam)) / (1 + e^x) dx: the log rate in the favoured direction.

    The double-exponential rule is centred on the integrand's peak x* and scaled by its curvature there,
    1 / sqrt(1/(2 lam) + sigmoid(x*)(1 - sigmoid(x*))) (between ~2 k_B T near E0 and sqrt(2 lam) far from it); the
    sum is a log-sum-exp, so nothing under- or overflows up to lam ~ 1e4 k_B T. Centre and scale are placement only
    (the integral does not depend on them), so gradients see them as constants and flow through the integrand:
    the derivative is the same rule applied to the differentiated integrand.
    """
    eta_abs, lam = jnp.broadcast_arrays(jnp.asarray(eta_abs, dtype=float), jnp.asarray(lam, dtype=float))
    c = lam - eta_abs
    centre = jax.lax.stop_gradient(_integrand_peak(c, lam))
    s = jax.nn.sigmoid(centre)
    scale = jax.lax.stop_gradient(1.0 / jnp.sqrt(0.5 / lam + s * (1.0 - s)))
    x = centre[..., None] + scale[..., None] * jnp.asarray(_DE_U)
    log_g = -((x - c[..., None]) ** 2) / (4.0 * lam[..., None]) - jax.nn.softplus(x)
    return logsumexp(log_g + jnp.asarray(_DE_LOGW), axis=-1) + jnp.log(scale)


def mhc_log_quadrature(eta, lam):
    """(log k_ox, log k_red) of the Chidsey integral, unnormalised, by :func:`mhc_log_favoured`.

    The favoured direction is integrated; the other follows from detailed balance (k_ox / k_red = exp(eta), exact for
    the Chidsey integral), so both stay accurate far from E0 where one rate is exp(-|eta|) times the other.
    """
    eta = jnp.asarray(eta, dtype=float)
    big = mhc_log_favoured(jnp.abs(eta), lam)
    small = big - jnp.abs(eta)
    return jnp.where(eta >= 0, big, small), jnp.where(eta >= 0, small, big)


def mhc_quadrature(eta, lam):
    """MHC rates (k_ox, k_red), unnormalised, by quadrature of the Chidsey integral (:func:`mhc_log_quadrature`).

    The rates themselves underflow for lam >~ 2800 k_B T (~72 eV at 25 °C); :func:`mhc_factors` works in logs.
    """
    log_ox, log_red = mhc_log_quadrature(eta, lam)
    return jnp.exp(log_ox), jnp.exp(log_red)


def mhc_factors(theta, lam, method: MHCMethod = "quadrature"):
    """MHC factors (f_ox, f_red) = k(theta) / k(0), so that k0 keeps its meaning as the rate at E0.

    The ratio is taken in logs, so it stays finite when both rates underflow (large lam).
    """
    law = mhc_zeng_log if method == "zeng" else mhc_log_quadrature
    log_ox, log_red = law(theta, lam)
    log_k0, _ = law(jnp.zeros_like(jnp.asarray(theta, dtype=float)), lam)
    return jnp.exp(log_ox - log_k0), jnp.exp(log_red - log_k0)


def rate_flux(k_ox, k_red, u_R, u_O, a, b):
    """Oxidation flux J for finite rates: J = k_ox c_R0 - k_red c_O0 with c_R0 = u_R - J a, c_O0 = u_O + J b."""
    return (k_ox * u_R - k_red * u_O) / (1.0 + k_ox * a + k_red * b)


def nernst_flux(theta, u_R, u_O, a, b):
    """Oxidation flux J that makes the surface Nernstian, c_O0 / c_R0 = exp(theta) (the k0 -> inf limit)."""
    s_ox, s_red = jax.nn.sigmoid(theta), jax.nn.sigmoid(-theta)
    return (s_ox * u_R - s_red * u_O) / (s_ox * a + s_red * b)
