"""Field types shared by every tool's input and output models.

Physical quantities are SI (see DESIGN.md "Units and signs"); each model documents the unit of each field in its
``Field(description=...)``. These aliases only encode *which values are physically possible*: finite, positive,
non-negative, a fraction. Validation failures become :class:`labwright.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ToolModel",
    "FiniteFloat",
    "PositiveFloat",
    "NonNegativeFloat",
    "Fraction",
    "PositiveInt",
    "PathAccess",
    "ReadPath",
    "WritePath",
    "PlotPath",
]

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]


@dataclass(frozen=True)
class PathAccess:
    """Marks a string field as a path and says how the tool uses it, so the policy gate confines it (see
    :mod:`labwright.tools._paths`): ``read`` a data file, ``write`` a file, ``plot`` a PNG or a folder of them,
    ``store_read`` / ``store_write`` a knowledge store. labwright's own tools are also classified by field name; a
    plugin's path fields are confined when typed with these aliases."""

    use: Literal["read", "write", "plot", "store_read", "store_write"]


ReadPath = Annotated[str, PathAccess("read")]
WritePath = Annotated[str, PathAccess("write")]
PlotPath = Annotated[str, PathAccess("plot")]


class ToolModel(BaseModel):
    """Base of tool input/output models: unknown fields are errors and NaN/inf are rejected everywhere."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)
