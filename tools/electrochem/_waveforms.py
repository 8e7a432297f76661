"""Potential programs: cyclic and linear sweeps, potential steps, and resampled measured programs.

Each returns ``(t, E)``: sample times in s (uniform, starting at 0) and potentials in V, as NumPy float64 arrays,
ready for :func:`cv_current` with ``dt = t[1] - t[0]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...errors import InvalidInput
from ..fields import MAX_POINTS

__all__ = ["cv_waveform", "lsv_waveform", "step_waveform", "uniform_program"]


def _finite(name: str, x: float) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise InvalidInput(name, f"must be finite, got {x}")
    return x


def _positive(name: str, x: float) -> float:
    x = _finite(name, x)
    if x <= 0:
        raise InvalidInput(name, f"must be > 0, got {x:g}")
    return x


def _piecewise_linear(corners: Sequence[float], scan_rate: float, dE: float) -> tuple[np.ndarray, np.ndarray]:
    corners = np.asarray(corners, dtype=float)
    legs = np.abs(np.diff(corners))
    if np.any(legs == 0):
        raise InvalidInput("E_vertex", "each sweep must change the potential (a vertex equals its neighbour)")
    t_corner = np.concatenate([[0.0], np.cumsum(legs)]) / scan_rate
    dt = dE / scan_rate
    steps = t_corner[-1] / dt  # may be inf for a 1e308 V window: compare before converting to int
    if not steps < MAX_POINTS:
        raise InvalidInput("dE", f"{steps:.3g} samples exceed the limit of {MAX_POINTS:,}; use a larger step dE")
    n = int(round(steps)) + 1
    if n < 2:  # e.g. a 1e-99 V window: no step of dE fits, so there is no sweep to simulate
        raise InvalidInput("E_vertex", f"the sweep spans less than one potential step dE = {dE:g} V")
    t = np.arange(n) * dt
    return t, np.interp(t, t_corner, corners)


def cv_waveform(
    E_start: float,
    E_vertex: float | Sequence[float],
    scan_rate: float,
    n_cycles: int = 1,
    dE: float = 1e-3,
    E_end: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cyclic voltammetry program.

    One cycle runs E_start -> E_vertex[0] -> E_vertex[1] -> ... -> E_start (a single vertex gives the usual
    triangle); ``n_cycles`` cycles follow each other, and the last one ends at ``E_end`` (default E_start).

    Parameters
    ----------
    E_start : starting potential, V.
    E_vertex : switching potential(s), V.
    scan_rate : |dE/dt|, V/s (> 0).
    n_cycles : number of cycles (>= 1).
    dE : potential increment per sample, V (> 0); dt = dE / scan_rate.
    E_end : final potential of the last cycle, V.

    Returns
    -------
    t : (n_t,) s;  E : (n_t,) V.
    """
    E_start = _finite("E_start", E_start)
    vertices = [E_vertex] if np.ndim(E_vertex) == 0 else list(E_vertex)
    if not vertices:
        raise InvalidInput("E_vertex", "give at least one switching potential")
    vertices = [_finite("E_vertex", v) for v in vertices]
    scan_rate = _positive("scan_rate", scan_rate)
    dE = _positive("dE", dE)
    if int(n_cycles) != n_cycles or n_cycles < 1:
        raise InvalidInput("n_cycles", f"must be a positive integer, got {n_cycles}")
    corners = [E_start]
    for _ in range(int(n_cycles)):
        corners += vertices + [E_start]
    if E_end is not None:
        corners[-1] = _finite("E_end", E_end)
    return _piecewise_linear(corners, scan_rate, dE)


def lsv_waveform(E_start: float, E_end: float, scan_rate: float, dE: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Linear sweep from ``E_start`` to ``E_end`` (V) at ``scan_rate`` (V/s), ``dE`` V per sample."""
    E_start, E_end = _finite("E_start", E_start), _finite("E_end", E_end)
    if E_start == E_end:
        raise InvalidInput("E_end", "must differ from E_start")
    return _piecewise_linear([E_start, E_end], _positive("scan_rate", scan_rate), _positive("dE", dE))


def step_waveform(
    E_steps: float | Sequence[float],
    durations: float | Sequence[float],
    dt: float,
    E_initial: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Potential-step (chronoamperometry) program.

    The cell rests at ``E_initial`` at t = 0 (default: the first step's potential, i.e. nothing happens before the
    step), then holds ``E_steps[i]`` for ``durations[i]`` seconds in turn.

    Parameters
    ----------
    E_steps : potential(s) of the step(s), V.
    durations : how long each is held, s (> 0; a multiple of ``dt`` is rounded to the nearest sample).
    dt : sampling interval, s.
    E_initial : potential at t = 0, V.

    Returns
    -------
    t : (n_t,) s;  E : (n_t,) V; E[0] = E_initial and E[k >= 1] the stepped potential.
    """
    steps = [E_steps] if np.ndim(E_steps) == 0 else list(E_steps)
    times = [durations] if np.ndim(durations) == 0 else list(durations)
    if len(steps) != len(times) or not steps:
        raise InvalidInput("durations", f"need one duration per step; got {len(times)} for {len(steps)} steps")
    dt = _positive("dt", dt)
    # Count the samples before allocating any: durations = [1e308] with dt = 1e-300 once asked for 1.78 PiB.
    counts = [_positive("durations", t_k) / dt for t_k in times]
    if not sum(counts) < MAX_POINTS:
        raise InvalidInput("dt", f"{sum(counts):.3g} samples exceed the limit of {MAX_POINTS:,}; use a larger dt")
    values = [np.array([_finite("E_initial", steps[0] if E_initial is None else E_initial)])]
    for E_k, t_k, n_k in zip(steps, times, counts, strict=True):
        if round(n_k) < 1:
            raise InvalidInput("durations", f"{t_k} s is shorter than one time step dt = {dt} s")
        values.append(np.full(int(round(n_k)), _finite("E_steps", E_k)))
    E = np.concatenate(values)
    return np.arange(E.size) * dt, E


def uniform_program(t: Sequence[float], E: Sequence[float], dt: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Resample a measured potential program (``t`` s, ``E`` V) onto a uniform time grid starting at t[0] = 0.

    ``dt`` defaults to the median spacing of ``t``; ``t`` must increase strictly.
    """
    t = np.asarray(t, dtype=float)
    E = np.asarray(E, dtype=float)
    if t.ndim != 1 or t.shape != E.shape or t.size < 3:
        raise InvalidInput("t", f"t and E must be 1-D of equal length >= 3; got {t.shape} and {E.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(E))):
        raise InvalidInput("E" if np.all(np.isfinite(t)) else "t", "contains non-finite values")
    if np.any(np.diff(t) <= 0):
        raise InvalidInput("t", f"must increase strictly (fails at index {int(np.argmin(np.diff(t) > 0)) + 1})")
    dt = float(np.median(np.diff(t))) if dt is None else _positive("dt", dt)
    grid = uniform_steps(t[-1] - t[0], dt, "dt", hint="; use a larger dt")
    return grid, np.interp(grid + t[0], t, E)


def uniform_steps(span: float, dt: float, field: str, *, hint: str = "") -> np.ndarray:
    """Times 0, dt, 2 dt, ... not past ``span`` (s, with 1e-9 of a step to spare for round-off), shape (n,).

    The count is compared before it becomes an int or an allocation: a span of 1e308 s is an :class:`InvalidInput`
    naming ``field`` (``hint`` is appended to its reason), not an OverflowError or a 1e300-sample array.
    """
    steps = span / dt
    if not steps < MAX_POINTS:
        raise InvalidInput(field, f"{steps:.3g} samples exceed the limit of {MAX_POINTS:,}{hint}")
    return np.arange(int(math.floor(steps + 1e-9)) + 1) * dt
