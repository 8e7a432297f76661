"""Field types shared by every tool's input and output models.

Physical quantities are SI (see DESIGN.md "Units and signs"); each model documents the unit of each field in its
``Field(description=...)``. These aliases only encode *which values are physically possible*: finite, positive,
non-negative, a fraction. Validation failures become :class:`labwright.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ToolModel",
    "FiniteFloat",
    "PositiveFloat",
    "NonNegativeFloat",
    "Fraction",
    "PositiveInt",
]

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]


class ToolModel(BaseModel):
    """Base of tool input/output models: unknown fields are errors and NaN/inf are rejected everywhere."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)
