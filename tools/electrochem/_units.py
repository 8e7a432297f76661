"""The one place where SI quantities become dimensionless simulator variables and back.

Scales (``T_tot`` is the duration of the potential program, ``D_max = max(D_O, D_R)``):

=====================  ==========================================  ==============================
quantity               dimensionless form                          SI recovered as
=====================  ==========================================  ==============================
distance x [m]         X = x / L,  L = sqrt(D_max T_tot)           x = X L
time t [s]             tau = t / T_tot                             t = tau T_tot
concentration [mol/m³] C = c / c_bulk                              c = C c_bulk
potential E [V]        theta = n F (E - E0) / (R T)                E = E0 + theta R T / (n F)
rate constant k [m/s]  K = k L / D_max                             k = K D_max / L
chemical rate [1/s]    k_chem T_tot
flux j [mol/(m² s)]    J = j L / (D_max c_bulk)                    i = n F A c_bulk D_max J / L
radius r0 [m]          rho0 = r0 / L
=====================  ==========================================  ==============================

Every function here is pure and traceable, so gradients flow from the SI parameters through these conversions.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from ._types import Scalar

__all__ = [
    "FARADAY",
    "GAS_CONSTANT",
    "BOLTZMANN_EV",
    "Scales",
    "make_scales",
    "rde_layer",
    "LEVICH_VELOCITY",
    "f_over_rt",
    "lambda_to_kt",
    "theta_of",
    "rate_to_dimless",
    "chem_to_dimless",
    "flux_to_current",
]

FARADAY = 96485.33212  # C/mol (CODATA 2018, exact by SI definition of e and N_A)
GAS_CONSTANT = 8.314462618  # J/(mol K) (CODATA 2018, exact)
BOLTZMANN_EV = 8.617333262e-5  # eV/K (CODATA 2018)


class Scales(eqx.Module):
    """Scales that turn one simulation into dimensionless form (all traced JAX scalars).

    Attributes
    ----------
    L : length scale sqrt(D_max T_tot), m (rotating disk: the diffusion layer delta).
    T_tot : time scale: the duration of the program, s (rotating disk: delta² / D_max).
    D_max : the larger diffusion coefficient, m²/s.
    nf : n F / (R T), 1/V.
    i_scale : n F A c_bulk D_max / L, A (current per unit dimensionless flux).
    """

    L: Scalar
    T_tot: Scalar
    D_max: Scalar
    nf: Scalar
    i_scale: Scalar


def f_over_rt(T: Scalar) -> Scalar:
    """F / (R T) in 1/V for temperature ``T`` in K."""
    return FARADAY / (GAS_CONSTANT * T)


def lambda_to_kt(lambda_eV: Scalar, T: Scalar) -> Scalar:
    """Reorganisation energy from eV to units of k_B T (dimensionless)."""
    return lambda_eV / (BOLTZMANN_EV * T)


LEVICH_VELOCITY = 0.51023  # v_x = -0.51023 omega^3/2 nu^-1/2 x² near a rotating disk (Bard & Faulkner eq. 9.3.19)


def rde_layer(D, omega, nu):
    """Convective diffusion layer delta = (3 D / (0.51023 omega^3/2 nu^-1/2))^1/3 of a rotating disk, m.

    D in m²/s, omega in rad/s, nu (kinematic viscosity) in m²/s. The Levich current is n F A D c / (Gamma(4/3) delta)
    = 0.6205 n F A D^2/3 omega^1/2 nu^-1/6 c."""
    return (3.0 * D * jnp.sqrt(nu) / (LEVICH_VELOCITY * omega**1.5)) ** (1.0 / 3.0)


def make_scales(params, dt: Scalar, n_samples: int, geometry: str = "planar") -> Scales:
    """Scales for ``params`` (an :class:`~labwright.tools.electrochem.ECParams`) and a program of ``n_samples``
    samples spaced ``dt`` seconds apart (duration ``(n_samples - 1) dt``).

    For the rotating disk (``geometry="rde"``) the length is the diffusion layer delta (:func:`rde_layer`) and the
    time scale delta² / D_max, so that its grid is fixed in units of delta whatever the rotation rate."""
    D_max = jnp.maximum(params.D_O, params.D_R)
    if geometry == "rde":
        L = rde_layer(D_max, params.omega, params.nu)
        T_tot = L**2 / D_max
    else:
        T_tot = dt * (n_samples - 1)
        L = jnp.sqrt(D_max * T_tot)
    nf = params.n * f_over_rt(params.T)
    i_scale = params.n * FARADAY * params.area * params.c_bulk * D_max / L
    return Scales(L=L, T_tot=T_tot, D_max=D_max, nf=nf, i_scale=i_scale)


def theta_of(E, E0, scales: Scales):
    """Dimensionless potential n F (E - E0) / (R T) for ``E`` in V."""
    return scales.nf * (E - E0)


def rate_to_dimless(k: Scalar, scales: Scales) -> Scalar:
    """Heterogeneous rate constant in m/s to K = k L / D_max."""
    return k * scales.L / scales.D_max


def chem_to_dimless(k_chem: Scalar, scales: Scales) -> Scalar:
    """First-order rate constant in 1/s to k_chem T_tot."""
    return k_chem * scales.T_tot


def flux_to_current(J, scales: Scales):
    """Dimensionless oxidation flux J to current in A (anodic positive)."""
    return J * scales.i_scale
