"""PNG figures for kinetics tools (matplotlib, Agg backend), written atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ...errors import InvalidInput
from .._confined import save_figure
from .._files import user_path, write_errors

__all__ = ["plot_time_course", "plot_dose_response", "check_png_path", "sha256_of"]


def check_png_path(path: str | None, field: str = "plot_path") -> Path | None:
    """Validate an output path for a PNG (``.png`` suffix, parent folder creatable)."""
    if path is None:
        return None
    p = user_path(path, field=field)
    if p.suffix.lower() != ".png":
        raise InvalidInput(field, f"must end in .png, got {path!r}")
    if p.exists() and p.is_dir():
        raise InvalidInput(field, f"{path!r} is a folder")
    return p


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@write_errors("plot_path")
def _save(fig, path: Path) -> str:
    return hashlib.sha256(save_figure(fig, path)).hexdigest()


def plot_time_course(
    path: Path,
    times: np.ndarray,
    series: Mapping[str, np.ndarray],
    *,
    ylabel: str = "concentration (mol/m³)",
    title: str = "",
    observed: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> str:
    """Lines per species against time (s); optional observed points; returns the file's sha256."""
    from .._figures import subplots

    fig, ax = subplots(figsize=(6, 4))
    for name, y in series.items():
        line = ax.plot(times, y, lw=1.6, label=name)[0]
        if observed and name in observed:
            t_obs, y_obs = observed[name]
            ax.plot(t_obs, y_obs, "o", ms=3, color=line.get_color(), alpha=0.7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_dose_response(
    path: Path,
    signal: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    xlabel: str,
    title: str = "",
    markers: Sequence[str] = (),
) -> str:
    """Fraction modified against signal on a log axis; names in ``markers`` are drawn as points."""
    from .._figures import subplots

    fig, ax = subplots(figsize=(6, 4))
    for name, y in curves.items():
        style = dict(marker="o", ms=2.5, ls="none") if name in markers else dict(lw=1.6)
        ax.plot(signal, y, label=name, **style)
    for level in (0.1, 0.9):
        ax.axhline(level, color="0.7", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction modified")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
