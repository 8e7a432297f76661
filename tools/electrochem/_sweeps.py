"""Sweeps of a measured or simulated cyclic voltammogram: where the programmed potential switches direction.

The switching potentials are found with a hysteresis threshold, so that jitter in a measured potential (which reverses
direction for a sample or two) does not split a sweep into dozens of fragments. Peak finding, the capacitive baseline
and the fits all cut the data at these vertices.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sweep_vertices", "sweep_bounds", "sweep_directions"]


def sweep_vertices(E, *, min_reversal: float | None = None) -> np.ndarray:
    """Indices of the switching potentials of a (cyclic) sweep, robust to jitter in the measured potential.

    A vertex is the running extremum of the potential in the current sweep direction, confirmed once the potential
    has come back from it by more than ``min_reversal`` (V; default 5 % of the whole potential range). Reversals
    smaller than that are noise, not switching points.
    """
    E = np.asarray(E, dtype=float)
    threshold = 0.05 * float(np.ptp(E)) if min_reversal is None else float(min_reversal)
    vertices: list[int] = []
    direction, ext = 0, 0
    for k in range(1, E.size):
        if direction == 0:  # undecided until the potential has moved by the threshold
            if abs(E[k] - E[0]) > threshold:
                direction = 1 if E[k] > E[0] else -1
                ext = int(np.argmax(direction * E[: k + 1]))
            continue
        if direction * (E[k] - E[ext]) > 0:
            ext = k
        elif direction * (E[ext] - E[k]) > threshold:
            vertices.append(ext)
            direction = -direction
            ext = ext + int(np.argmax(direction * E[ext : k + 1]))
    return np.asarray(vertices, dtype=int)


def sweep_bounds(E) -> np.ndarray:
    """Start and end indices of every sweep: ``[0, vertices..., n - 1]``."""
    E = np.asarray(E, dtype=float)
    return np.concatenate([[0], sweep_vertices(E), [E.size - 1]]).astype(int)


def sweep_directions(E) -> np.ndarray:
    """+1 on samples of rising sweeps, -1 on falling ones (the programmed sign of dE/dt); a vertex sample belongs to
    the sweep it ends, and the first sample to the first sweep."""
    E = np.asarray(E, dtype=float)
    bounds = sweep_bounds(E)
    signs = np.zeros(E.size)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        signs[lo + 1 : hi + 1] = 1.0 if E[hi] > E[lo] else -1.0
    signs[0] = signs[min(1, E.size - 1)]
    return signs
