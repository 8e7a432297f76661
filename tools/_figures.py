"""Matplotlib figures made without pyplot.

pyplot keeps global state (the current figure, the backend) that is neither thread-safe nor ours to change: agents'
workers and workflow branches draw from several threads at once, and a user's notebook backend must stay as it is.
A bare :class:`matplotlib.figure.Figure` needs neither; ``savefig`` picks the Agg canvas for PNG by itself.
"""

from __future__ import annotations

from typing import Any


def subplots(*args: Any, figsize: tuple[float, float], **kwargs: Any) -> tuple[Any, Any]:
    """``(figure, axes)`` like ``pyplot.subplots``, for a figure pyplot never sees (nothing to close)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)
