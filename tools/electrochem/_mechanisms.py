"""Reaction mechanisms as sets of transported variables with linear homogeneous chemistry.

Every mechanism here keeps each transported variable's equation linear and uncoupled from the others, so each one is
a separate tridiagonal system and the surface flux is the only unknown shared between them:

* ``"E"``:  O + n e⁻ ⇌ R. Variables (R, O), with their own D.
* ``"EC"``: E followed by an irreversible first-order reaction of the electrogenerated species (rate ``k_chem``):
  the product decays as -k_chem c (Nicholson & Shain, Anal. Chem. 36 (1964) 706, case "EC").
* ``"CE"``: a preceding equilibrium Y ⇌ B (forward rate ``k_chem`` = k_f, ``K_eq`` = k_f/k_b = [B]/[Y]) feeds the
  bulk species B (R or O), which is then electrolysed. Y shares B's diffusion coefficient, so the sum s = c_B + c_Y
  only diffuses and q = c_B - K_eq c_Y diffuses and relaxes at rate k_f + k_b (the classic decoupling of Koutecký
  and of Bard & Faulkner, 2nd ed., section 12.3); both see the electrode flux of B.

``bulk`` says which member of the couple is in solution at the start: ``"R"`` (first sweep anodic, oxidation
current positive) or ``"O"`` (first sweep cathodic). Concentrations are relative to ``c_bulk``, the analytical
concentration of the redox-active material (for CE: Y plus B).
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax.numpy as jnp

from ...errors import InvalidInput

__all__ = ["Mechanism", "Bulk", "MECHANISMS", "Transport", "transport_of"]

Mechanism = Literal["E", "EC", "CE"]
Bulk = Literal["R", "O"]
MECHANISMS: tuple[str, ...] = ("E", "EC", "CE")


class Transport(eqx.Module):
    """Transported variables of one mechanism (n_var of them), dimensionless.

    Attributes
    ----------
    d : (n_var,) diffusion coefficient / D_max.
    decay : (n_var,) first-order loss rate times T_tot.
    sign : (n_var,) +1 if the variable is consumed by oxidation at the electrode (R-like), -1 if produced (O-like).
    bulk : (n_var,) value at t = 0 and at the outer boundary.
    to_R, to_O : (n_var,) weights turning the variables into the concentrations of R and O.
    """

    d: jnp.ndarray
    decay: jnp.ndarray
    sign: jnp.ndarray
    bulk: jnp.ndarray
    to_R: jnp.ndarray
    to_O: jnp.ndarray


def transport_of(mechanism: str, bulk: str, d_R, d_O, k_chem, K_eq) -> Transport:
    """Build the :class:`Transport` of ``mechanism`` with bulk species ``bulk``.

    ``d_R``, ``d_O``: diffusion ratios D/D_max; ``k_chem``: first-order rate times T_tot; ``K_eq``: equilibrium
    constant of the CE pre-equilibrium. Unused arguments are ignored (but still enter the trace with zero gradient).
    """
    if bulk not in ("R", "O"):
        raise InvalidInput("bulk", f"must be 'R' or 'O', got {bulk!r}")
    zero = jnp.zeros_like(d_R)
    one = jnp.ones_like(d_R)
    start_R = bulk == "R"
    if mechanism in ("E", "EC"):
        k_O = k_chem if (mechanism == "EC" and start_R) else zero
        k_R = k_chem if (mechanism == "EC" and not start_R) else zero
        return Transport(
            d=jnp.stack([d_R, d_O]),
            decay=jnp.stack([k_R, k_O]),
            sign=jnp.array([1.0, -1.0]),
            bulk=jnp.stack([one, zero]) if start_R else jnp.stack([zero, one]),
            to_R=jnp.array([1.0, 0.0]),
            to_O=jnp.array([0.0, 1.0]),
        )
    if mechanism == "CE":
        # variables (s, q, P): s, q describe the bulk species B and its precursor Y; P is the other redox form.
        d_B, d_P = (d_R, d_O) if start_R else (d_O, d_R)
        sign_B = 1.0 if start_R else -1.0
        relax = k_chem * (1.0 + 1.0 / K_eq)
        w_B = jnp.stack([K_eq / (1.0 + K_eq), 1.0 / (1.0 + K_eq), zero])
        w_P = jnp.array([0.0, 0.0, 1.0])
        return Transport(
            d=jnp.stack([d_B, d_B, d_P]),
            decay=jnp.stack([zero, relax, zero]),
            sign=jnp.array([sign_B, sign_B, -sign_B]),
            bulk=jnp.stack([one, zero, zero]),
            to_R=w_B if start_R else w_P,
            to_O=w_P if start_R else w_B,
        )
    raise InvalidInput("mechanism", f"unknown mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}")
