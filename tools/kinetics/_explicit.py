"""Explicit Runge–Kutta steps for the lanes-last batch program (:mod:`._lanes`): non-stiff models.

Many SBML models are not stiff. The Kholodenko MAPK oscillator (BIOMD0000000010) has no Jacobian eigenvalue below
−0.6 s⁻¹ over its 4,000 s course, so an explicit method's stability limit (h ≈ 3.3/0.6 s for Dopri8) is never the
step size's bound; accuracy is. There a Rosenbrock step's Jacobian, LU and solves are wasted work: 1,000 parameter
sets at an error of 1.5e-8 (relative to each species' range) took Rodas5P 0.46–0.50 ms per lane and Dopri8 0.14 ms
(``benchmarks/kinetics.py`` [3], chunks of 64 on one thread). On a stiff model an explicit method's steps shrink to
its stability limit instead and the solve runs into ``max_steps`` (``ok`` False): use Rodas4/Rodas5P there.

The tableaus are diffrax's (``Tsit5``, ``Dopri5``, ``Dopri8``: Tsitouras 2011, Dormand & Prince 1980, Prince &
Dormand 1981), read from the solver classes, so single solves (diffrax, with reverse-mode gradients) and lanes use
the same coefficients. All three are FSAL: the last stage is f at the new point, which is the next step's first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import diffrax as dfx
import jax
import numpy as np

__all__ = ["EXPLICIT", "ExplicitTableau", "explicit_tableau", "explicit_stages"]

EXPLICIT: dict[str, type[dfx.AbstractERK]] = {"Tsit5": dfx.Tsit5, "Dopri5": dfx.Dopri5, "Dopri8": dfx.Dopri8}


@dataclass(frozen=True)
class ExplicitTableau:
    """Butcher tableau of an FSAL explicit method: ``a`` rows of stages 2…s (the last row is the solution's weights),
    nodes ``c`` (s,), error weights ``b_error`` (s,), and the step-size controller's exponent −1/order."""

    a: tuple[np.ndarray, ...]
    c: np.ndarray
    b_error: np.ndarray
    exponent: float


def explicit_tableau(name: str) -> ExplicitTableau:
    """The tableau of diffrax's ``name`` (one of :data:`EXPLICIT`)."""
    cls = EXPLICIT[name]
    t = cls.tableau
    # FSAL (last stage = f at the solution), which explicit_stages relies on, holds for all three.
    assert t.fsal and np.allclose(t.a_lower[-1], t.b_sol[:-1]) and t.b_sol[-1] == 0.0
    return ExplicitTableau(
        a=tuple(np.asarray(row, dtype=float) for row in t.a_lower),
        c=np.concatenate([[0.0], np.asarray(t.c, dtype=float)]),
        b_error=np.asarray(t.b_error, dtype=float),
        exponent=-1.0 / cls().order(None),
    )


def explicit_stages(
    tab: ExplicitTableau, f_at: Callable, y: jax.Array, h: jax.Array, fy: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One step of size h from y with f(t, y) = ``fy`` known: (y₁, error estimate, f(t + h, y₁)).

    ``f_at(c, yi)`` is f at (t + c h, yi). Shapes as :func:`._rosenbrock.stage_sum` (lanes last: h (L,)).
    """
    ks = [fy]
    yi = y
    for i, row in enumerate(tab.a):
        yi = y + sum((h * row[j]) * ks[j] for j in range(len(row)) if row[j] != 0.0)
        ks.append(f_at(tab.c[i + 1], yi))
    # FSAL: the last stage's point is y₁ and its f is the next step's first stage.
    err = sum((h * tab.b_error[j]) * ks[j] for j in range(len(ks)) if tab.b_error[j] != 0.0)
    return yi, err, ks[-1]
