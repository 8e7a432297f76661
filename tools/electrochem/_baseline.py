"""Capacitive (double-layer charging) baseline of a cyclic voltammogram, estimated from the programmed sweep.

Charging the double layer draws i_c = C_dl dE/dt: +C_dl v on a rising sweep and −C_dl v on a falling one
(Bard & Faulkner, *Electrochemical Methods*, 2nd ed. (2001) §6.2.4, |i_c| = A C_d v). At a switching potential the
sweep direction flips in one sample, so i_c jumps by 2 C_dl v, while the faradaic current cannot jump: it is set by the
potential and the surface concentrations, and both are continuous in time. Half the step of the measured current at
each vertex, with the faradaic trend on either side removed by extrapolating a low-order polynomial in time from each
side to the switching instant, is therefore C_dl v itself, without any model of the faradaic wave. The estimate of
every vertex is reported and their median used, which tolerates a vertex spoiled by an instrument range change.

The samples right after a vertex are skipped (:data:`SKIP_AFTER_VERTEX`): the instrument's filter and the cell's
R_u C_dl time constant round the step off there, and the simulator's second-order difference of the potential
overshoots for one sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidInput
from ._sweeps import sweep_bounds, sweep_directions

__all__ = ["CapacitiveBaseline", "capacitive_baseline", "SKIP_AFTER_VERTEX"]

SKIP_AFTER_VERTEX = 1  # samples after the switching sample left out of the right-hand fit (filter/RC rounding)
_FIT_ORDER = 2  # quadratic in time on each side: the faradaic current bends near a vertex (t^-1/2 decay)


@dataclass(frozen=True, eq=False)  # holds an array: compared by identity, never elementwise by accident
class CapacitiveBaseline:
    """Double-layer charging baseline of a CV.

    Attributes
    ----------
    charging_current : float
        C_dl v, A (>= 0 for a capacitor): the magnitude of the charging current.
    C_dl : float
        Double-layer capacitance, F (total, not per area); NaN when the scan rate is unknown.
    scan_rate : float or None
        V/s, the sweep rate used to turn ``charging_current`` into ``C_dl``.
    current : numpy.ndarray
        Baseline at every sample, A: +C_dl v on rising sweeps, −C_dl v on falling ones (oxidation positive).
    per_vertex : tuple of float
        C_dl v from each switching potential, A (their median is ``charging_current``).
    """

    charging_current: float
    C_dl: float
    scan_rate: float | None
    current: np.ndarray
    per_vertex: tuple[float, ...]

    def summary(self) -> dict[str, float | list[float] | None]:
        """JSON-ready numbers (no per-sample array): C_dl (F), charging current (A), scan rate (V/s)."""
        return {
            "C_dl": None if math.isnan(self.C_dl) else self.C_dl,
            "charging_current": self.charging_current,
            "scan_rate": self.scan_rate,
            "per_vertex": list(self.per_vertex),
        }


def _extrapolate(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """Value at ``at`` of the least-squares polynomial (order :data:`_FIT_ORDER`, less for few points) through x, y."""
    order = min(_FIT_ORDER, x.size - 2)
    scale = float(np.ptp(x)) or 1.0  # fit in a scaled variable: well conditioned whatever the units of time
    coef = np.polynomial.polynomial.polyfit((x - at) / scale, y, order)
    return float(coef[0])


def _vertex_step(t: np.ndarray, i: np.ndarray, k: int, window: int) -> float | None:
    """Step of the current across vertex ``k`` (right limit minus left limit), A; ``None`` with too few samples."""
    left = slice(max(0, k - window + 1), k + 1)
    right = slice(k + 1 + SKIP_AFTER_VERTEX, min(t.size, k + 1 + SKIP_AFTER_VERTEX + window))
    if t[left].size < 3 or t[right].size < 3:
        return None
    at = 0.5 * (t[k] + t[k + 1])  # the direction flips between the switching sample and the next
    return _extrapolate(t[right], i[right], at) - _extrapolate(t[left], i[left], at)


def capacitive_baseline(E, i, *, t=None, scan_rate: float | None = None, window: int | None = None):
    """Estimate the double-layer charging current of a CV from the current step at its switching potentials.

    Parameters
    ----------
    E, i : array_like, shape (n,)
        Potential (V) and current (A, oxidation positive), in time order; at least one switching potential.
    t : array_like, shape (n,), optional
        Sample times, s; without them the samples are taken as evenly spaced.
    scan_rate : float, optional
        V/s; gives ``C_dl`` = charging current / scan rate. Estimated from ``t`` when absent.
    window : int, optional
        Samples fitted on each side of a vertex; default 4 % of the shortest sweep, at least 5.

    Returns
    -------
    CapacitiveBaseline

    Raises
    ------
    InvalidInput
        Arrays of unequal shape or non-finite values (field ``i``/``t``), no switching potential (``E``), or a scan
        rate that is not positive (``scan_rate``).
    """
    E = np.asarray(E, dtype=float)
    i = np.asarray(i, dtype=float)
    if E.shape != i.shape or E.ndim != 1 or E.size < 10:
        raise InvalidInput("i", f"E and i must be 1-D of equal length >= 10; got {E.shape} and {i.shape}")
    if not (np.all(np.isfinite(E)) and np.all(np.isfinite(i))):
        raise InvalidInput("i", "E and i must be finite")
    if scan_rate is not None and not (math.isfinite(scan_rate) and scan_rate > 0):
        raise InvalidInput("scan_rate", f"must be a positive number of V/s, got {scan_rate!r}")
    if t is None:
        t = np.arange(E.size, dtype=float)
        times_known = False
    else:
        t = np.asarray(t, dtype=float)
        if t.shape != E.shape or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InvalidInput("t", "times must be finite, increasing and as long as E")
        times_known = True
    bounds = sweep_bounds(E)
    vertices = bounds[1:-1]
    if vertices.size == 0:
        raise InvalidInput("E", "no switching potential: a capacitive baseline needs a cyclic sweep")
    shortest = int(np.min(np.diff(bounds)))
    w = max(5, shortest // 25) if window is None else int(window)
    signs = sweep_directions(E)
    per_vertex = []
    for k in vertices:
        step = _vertex_step(t, i, int(k), w)
        if step is not None:
            # rising -> falling steps the charging current down by 2 C v, falling -> rising up by 2 C v
            per_vertex.append(-0.5 * step * signs[k])
    if not per_vertex:
        raise InvalidInput("E", "too few samples around the switching potentials to estimate the charging current")
    charging = float(np.median(per_vertex))
    if scan_rate is None and times_known:
        scan_rate = float(np.median(np.abs(np.diff(E)) / np.diff(t)))
    C_dl = charging / scan_rate if scan_rate else math.nan
    return CapacitiveBaseline(charging, C_dl, scan_rate, charging * signs, tuple(per_vertex))
