"""Field types shared by every tool's input and output models.

Physical quantities are SI (see DESIGN.md "Units and signs"); each model documents the unit of each field in its
``Field(description=...)``. These aliases only encode *which values are physically possible*: finite, positive,
non-negative, a fraction. Validation failures become :class:`labwright.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

from ..errors import InvalidInput

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
    "MAX_TEXT_CHARS",
    "MAX_NAME_CHARS",
    "MAX_SMILES_CHARS",
    "MAX_POINTS",
    "MAX_LIST_ITEMS",
    "MAX_PATH_CHARS",
    "MAX_CURVES",
    "MAX_SCAN_RATE",
    "ScanRate",
    "MAX_DIFFUSIVITY",
    "Diffusivity",
    "Trace",
    "Capped",
    "Text",
    "Name",
    "PathStr",
    "SmilesText",
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


# ---------------------------------------------------------------------------------------------- input-size limits
# Limits that keep every tool call bounded in time and memory (issue 12, "every public tool, every input"). Each
# states why a real user never needs more; a violation is an InvalidInput naming the field and carrying the reason.

MAX_TEXT_CHARS = 1_000_000
"""Free text (a document to ingest, a description): 1 MB of text is a few hundred pages, far beyond one passage."""

MAX_NAME_CHARS = 1_000
"""Names, labels, identifiers, units and equations: nobody names a concept or a column in more than 1,000 characters."""

MAX_SMILES_CHARS = 2_000
"""SMILES: RDKit's canonical ranking grows ~quadratically with atoms (2,000 C: 0.16 s; 10,000: 2.8 s, 100,000: > 150 s),
and InChI, whose key these tools report, stops at 1,024 atoms; 2,000 characters holds any molecule that has one."""

MAX_POINTS = 2_000_000
"""Samples in one trace (E, I, t, concentrations): a day of 20 Hz logging; 2·10⁶ float64 is 16 MB per array."""

MAX_LIST_ITEMS = 10_000
"""Items in a list of structured things (reactions, events, steps, concepts): ten thousand is a genome-scale network
or a large curated corpus; more belongs in a file or a batch of calls."""

MAX_PATH_CHARS = 4_096
"""File paths: PATH_MAX on Linux."""

MAX_CURVES = 100
"""Curves analysed or fitted together (one per scan rate or step): studies use 3-10; 100 leaves ample room."""


@dataclass(frozen=True)
class Capped:
    """``Annotated`` metadata: at most ``limit`` characters (strings) or items (lists, objects), for the stated reason.

    Checked *before* the value itself is validated, so that a 100,000-item list of models is refused at once instead
    of after 100,000 model validations; the JSON schema shows the limit as ``maxLength``/``maxItems``/``maxProperties``.

    >>> Reactions = Annotated[list[ReactionSpec], Capped(MAX_LIST_ITEMS, "a genome-scale network has ~10^4")]
    """

    limit: int
    why: str

    def _check(self, value: Any) -> Any:
        if isinstance(value, (str, bytes, list, tuple, dict)) and len(value) > self.limit:
            unit = "characters" if isinstance(value, (str, bytes)) else "items"
            raise InvalidInput("", f"{len(value):,} {unit} exceed the limit of {self.limit:,} ({self.why})")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        js = handler(schema)
        key = {"string": "maxLength", "array": "maxItems", "object": "maxProperties"}.get(js.get("type"))
        if key:
            js[key] = self.limit
        return js


def _no_nul(value: str) -> str:
    # No file name holds a NUL byte (open() raises ValueError), and SQLite would cut the name there.
    if "\x00" in value:
        raise InvalidInput("", "a path cannot contain a NUL byte (\\x00)")
    return value


def _utf8(value: str) -> str:
    # A lone surrogate (e.g. "\ud800") is a valid Python str but has no UTF-8 form: SQLite and files cannot store it.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidInput("", f"{value[err.start]!r} at position {err.start} has no UTF-8 encoding") from None
    return value


Text = Annotated[
    str, Capped(MAX_TEXT_CHARS, "1 MB of text is a few hundred pages; split longer documents"), AfterValidator(_utf8)
]
Name = Annotated[str, Capped(MAX_NAME_CHARS, "no name, label, unit or equation needs more"), AfterValidator(_utf8)]
PathStr = Annotated[str, Capped(MAX_PATH_CHARS, "PATH_MAX on Linux"), AfterValidator(_no_nul)]


def not_smiles_text(value: str) -> str | None:
    """Why ``value`` cannot be SMILES text, or None: SMILES is printable ASCII by definition (OpenSMILES 3.1);
    anything else cannot parse, and RDKit's log of such input crashes its Python logging bridge (a SystemError) on
    characters it cannot decode."""
    bad = next((i for i, ch in enumerate(value) if not " " <= ch <= "~"), None)
    return None if bad is None else f"SMILES is printable ASCII only; {value[bad]!r} at position {bad} is not"


def _printable_ascii(value: str) -> str:
    if (why := not_smiles_text(value.strip())) is not None:
        raise InvalidInput("", why)
    return value


SmilesText = Annotated[
    str,
    Capped(MAX_SMILES_CHARS, "RDKit's canonical ranking grows ~quadratically; InChI stops at 1,024 atoms"),
    AfterValidator(_printable_ascii),
]
"""A SMILES string of bounded length, not yet parsed (see ``MAX_SMILES_CHARS``)."""
Trace = Annotated[
    list[FiniteFloat], Field(min_length=1), Capped(MAX_POINTS, "a day of 20 Hz logging; 16 MB per float64 array")
]
"""A sampled quantity (potential, current, time) as a list of finite floats of bounded length."""

MAX_SEED = 2**63 - 1
"""Random seeds: JAX's PRNGKey and NumPy's generators take a non-negative signed 64-bit integer."""
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]  # a larger seed overflows the C long JAX converts it to
"""A reproducible random seed, 0 ≤ seed ≤ ``MAX_SEED``."""

MAX_POTENTIAL = 100.0
"""Electrode potentials, V: potentiostats' compliance stays within ±100 V; a larger value is a unit or parse error."""


def _potentials_in_range(values: list[float]) -> list[float]:
    bad = next((i for i, v in enumerate(values) if abs(v) > MAX_POTENTIAL), None)
    if bad is not None:
        raise InvalidInput(
            "",
            f"point {bad} is {values[bad]:g} V, over ±{MAX_POTENTIAL:g} V: no potentiostat applies it (mV read as V?)",
        )
    return values


PotentialTrace = Annotated[Trace, AfterValidator(_potentials_in_range)]
"""Electrode potentials in V, each within ±``MAX_POTENTIAL``."""

MAX_SCAN_RATE = 1e7
"""Scan rates, V/s: fast-scan voltammetry at nanoelectrodes reaches ~10⁶ V/s; beyond 10⁷ the formulas overflow."""


def _scan_rate_in_range(value: float) -> float:
    if value > MAX_SCAN_RATE:
        raise InvalidInput("", f"{value:g} V/s is above {MAX_SCAN_RATE:g} V/s, faster than any voltammetry (~1e6 V/s)")
    return value


ScanRate = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_scan_rate_in_range)]
"""A positive scan rate in V/s, at most ``MAX_SCAN_RATE``."""

MAX_DIFFUSIVITY = 1e-3
"""Diffusion coefficients, m²/s: ~1e-9 in liquids, ~1e-5 in gases; 1e-3 is beyond any medium."""


def _diffusivity_in_range(value: float) -> float:
    if value > MAX_DIFFUSIVITY:
        raise InvalidInput("", f"{value:g} m²/s is above {MAX_DIFFUSIVITY:g} m²/s (liquids ~1e-9, gases ~1e-5)")
    return value


Diffusivity = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_diffusivity_in_range)]
"""A positive diffusion coefficient in m²/s, at most ``MAX_DIFFUSIVITY``."""
