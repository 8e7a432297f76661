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
* ``"ECcat"`` (EC′, catalytic): E followed by the pseudo-first-order regeneration of the bulk species from the
  electrogenerated one by a catalyst Z in large excess (O + Z -> R + Z' for bulk R; rate ``k_chem`` = k' c_Z, 1/s).
  Variables (B, P), each with its own D: P (the electrogenerated form) diffuses and decays at k_chem, and B (the
  bulk form) gains what P loses (``Transport.feed``; the solver's step is then triangular in the shared modes, still
  exact). At large k_chem / (F v / RT) the wave is S-shaped; the steady reaction layer (P = P0 exp(-x √(k/D_P)),
  B(0) = 0 at the plateau) gives i = n F A c D_B √(k_chem / D_P), Savéant & Vianello's (1965) n F A c √(D k_chem)
  for equal D (Bard & Faulkner, 2nd ed., §12.3.2).
* ``"ECE"``: O1 + n e⁻ ⇌ R1 (at E0), R1 -> O2 (first order, ``k_chem``), O2 + n e⁻ ⇌ R2 (at E0_2); mirrored for
  ``bulk="R"`` (R1 ⇌ O1 + n e⁻, O1 -> R2, R2 ⇌ O2 + n e⁻). The bulk species diffuses with its own D, and every
  electrogenerated species (the intermediate P, its product Q and the final product) with the other one, so that
  s = c_P + c_Q only diffuses while c_P diffuses and decays: four uncoupled variables (bulk, P, s, final). The
  second couple has its own oxidation flux J2 (``sign2``); the surface c of its members are ``to_R2``, ``to_O2``.
  Cross reactions in solution (disproportionation R1 + O2 -> O1 + R2) are not modelled.

``bulk`` says which member of the couple is in solution at the start: ``"R"`` (first sweep anodic, oxidation
current positive) or ``"O"`` (first sweep cathodic). Concentrations are relative to ``c_bulk``, the analytical
concentration of the redox-active material (for CE: Y plus B). Mechanism ``"E"`` may also hold the other member in
the bulk (``other``: its concentration relative to c_bulk, e.g. c_O / c_R for bulk R); the other mechanisms have a
chemical step that would consume it in the bulk, so for them it must be 0.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax.numpy as jnp

from ...errors import InvalidInput

__all__ = ["Mechanism", "Bulk", "MECHANISMS", "Transport", "transport_of"]

Mechanism = Literal["E", "EC", "CE", "ECE", "ECcat"]
Bulk = Literal["R", "O"]
MECHANISMS: tuple[str, ...] = ("E", "EC", "CE", "ECE", "ECcat")


class Transport(eqx.Module):
    """Transported variables of one mechanism (n_var of them), dimensionless.

    Attributes
    ----------
    d : (n_var,) diffusion coefficient / D_max.
    decay : (n_var,) first-order loss rate times T_tot.
    sign : (n_var,) +1 if the variable is consumed by oxidation at the electrode (R-like), -1 if produced (O-like).
    bulk : (n_var,) value at t = 0 and at the outer boundary.
    to_R, to_O : (n_var,) weights turning the variables into the concentrations of R and O.
    sign2, to_R2, to_O2 : (n_var,) for ECE only (else ``None``): the signs of the second couple's oxidation flux and
        the weights giving its R2 and O2 (``sign``, ``to_R``, ``to_O`` then describe the first couple).
    feed : static ``(target, source)`` or ``None``: what variable ``source`` loses by its decay, variable ``target``
        gains (a first-order conversion of one transported species into another; ECcat only).
    """

    d: jnp.ndarray
    decay: jnp.ndarray
    sign: jnp.ndarray
    bulk: jnp.ndarray
    to_R: jnp.ndarray
    to_O: jnp.ndarray
    sign2: jnp.ndarray | None = None
    to_R2: jnp.ndarray | None = None
    to_O2: jnp.ndarray | None = None
    feed: tuple[int, int] | None = eqx.field(static=True, default=None)


def transport_of(mechanism: str, bulk: str, d_R, d_O, k_chem, K_eq, other=0.0) -> Transport:
    """Build the :class:`Transport` of ``mechanism`` with bulk species ``bulk``.

    ``d_R``, ``d_O``: diffusion ratios D/D_max; ``k_chem``: first-order rate times T_tot; ``K_eq``: equilibrium
    constant of the CE pre-equilibrium; ``other``: bulk concentration of the other member of the couple relative to
    c_bulk (mechanism ``"E"`` only; the caller refuses it elsewhere). Unused arguments are ignored (but still enter
    the trace with zero gradient).
    """
    if bulk not in ("R", "O"):
        raise InvalidInput("bulk", f"must be 'R' or 'O', got {bulk!r}")
    zero = jnp.zeros_like(d_R)
    one = jnp.ones_like(d_R)
    start_R = bulk == "R"
    if mechanism in ("E", "EC"):
        k_O = k_chem if (mechanism == "EC" and start_R) else zero
        k_R = k_chem if (mechanism == "EC" and not start_R) else zero
        rest = zero + other
        return Transport(
            d=jnp.stack([d_R, d_O]),
            decay=jnp.stack([k_R, k_O]),
            sign=jnp.array([1.0, -1.0]),
            bulk=jnp.stack([one, rest]) if start_R else jnp.stack([rest, one]),
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
    if mechanism == "ECcat":
        # variables (B, P): the electrode turns the bulk species B into P, and P turns back into B at k_chem (the
        # catalyst's regeneration): P decays, and what it loses B gains (``feed``), each with its own D.
        d_B, d_P = (d_R, d_O) if start_R else (d_O, d_R)
        sign_B = 1.0 if start_R else -1.0  # B is consumed by oxidation when it is R
        first, second = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
        return Transport(
            d=jnp.stack([d_B, d_P]),
            decay=jnp.stack([zero, k_chem]),
            sign=jnp.array([sign_B, -sign_B]),
            bulk=jnp.stack([one, zero]),
            to_R=first if start_R else second,
            to_O=second if start_R else first,
            feed=(0, 1),
        )
    if mechanism == "ECE":
        # variables (B, P, s = P + Q, F): bulk species, intermediate, s, final product. For bulk O: B = O1, P = R1,
        # Q = O2, F = R2; for bulk R: B = R1, P = O1, Q = R2, F = O2. P decays into Q at k_chem; s only diffuses.
        d_B, d_P = (d_R, d_O) if start_R else (d_O, d_R)
        sB = 1.0 if start_R else -1.0  # B is consumed by oxidation when it is R1
        e = jnp.eye(4)
        return Transport(
            d=jnp.stack([d_B, d_P, d_P, d_P]),
            decay=jnp.stack([zero, k_chem, zero, zero]),
            sign=jnp.array([sB, -sB, -sB, 0.0]),  # couple 1: B and P (hence s) change with J1
            bulk=jnp.stack([one, zero, zero, zero]),
            to_R=e[0] if start_R else e[1],
            to_O=e[1] if start_R else e[0],
            sign2=jnp.array([0.0, 0.0, sB, -sB]),  # couple 2: Q (inside s) and F change with J2
            to_R2=(e[2] - e[1]) if start_R else e[3],
            to_O2=e[3] if start_R else (e[2] - e[1]),
        )
    raise InvalidInput("mechanism", f"unknown mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}")
