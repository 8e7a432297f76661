"""Array aliases of the electrochemistry simulator, each with its unit (shapes in jaxtyping notation)."""

from __future__ import annotations

from jaxtyping import Array, Float

__all__ = ["Scalar", "Potential", "Current", "Times", "Conc", "Nodes"]

Scalar = Float[Array, ""]  # a 0-d float64 array (unit given where used)
Potential = Float[Array, " n_t"]  # V vs the reference electrode, one per program sample
Current = Float[Array, " n_t"]  # A, oxidation (anodic) positive, one per program sample
Times = Float[Array, " n_t"]  # s since the program started
Conc = Float[Array, "n_var n_x"]  # dimensionless c / c_bulk, one row per transported variable
Nodes = Float[Array, " n_x"]  # dimensionless distance from the electrode surface, x / L
