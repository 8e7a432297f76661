"""The mechanism data model: a :class:`Mechanism` is an ordered list of elementary :class:`Step` objects.

A step may be written in full (``reactants`` -> ``products``, so balance can be checked), or oMeBench-style with only
its key ``intermediate`` (the species the step produces). SMILES are *not* parsed when a model is built: a proposed
mechanism with a broken SMILES must still load so that :func:`validate_mechanism` can say what is wrong with it and
the scorers can give it the credit it earns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ...errors import InvalidInput
from ..fields import Fraction, ToolModel
from ._taxonomy import STEP_TYPES, SUBTYPES, normalise_subtype, normalise_type

__all__ = ["Arrow", "Step", "Mechanism", "Level"]

Level = Literal["easy", "medium", "hard"]


class Arrow(ToolModel):
    """One curved arrow, written with atom-map numbers of the step's reactants.

    ``source`` with one number is a lone pair (or negative charge) on that atom, with two numbers the bond between
    them; ``target`` with one number is the atom receiving the pair, with two numbers the bond being formed or raised
    in order.
    """

    # An arrow starts at an atom (lone pair) or a bond (two atoms): one or two map numbers.
    source: list[int] = Field(min_length=1, max_length=2, description="Atom-map numbers the electron pair leaves.")
    # An arrow ends at an atom or between two atoms (a new bond): one or two map numbers.
    target: list[int] = Field(min_length=1, max_length=2, description="Atom-map numbers the electron pair goes to.")
    electrons: Literal[1, 2] = Field(default=2, description="Electrons moved: 2 (curly arrow) or 1 (fish-hook).")


class Step(ToolModel):
    """One elementary step."""

    reactants: list[str] = Field(default_factory=list, description="SMILES of the species the step consumes.")
    products: list[str] = Field(default_factory=list, description="SMILES of the species the step forms.")
    intermediate: str | None = Field(
        default=None,
        description="SMILES of the step's key species (oMeBench 'intermediate_smiles'); defaults to the largest "
        "product.",
    )
    type: str | None = Field(default=None, description="One of the 11 step types (e.g. 'proton_transfer').")
    subtype: str | None = Field(
        default=None, validate_default=True, description="One of the 30 subtypes (e.g. 'nucleophilic_addition')."
    )
    weight: Fraction | None = Field(default=None, description="Importance of the step in scoring; weights sum to 1.")
    arrows: list[Arrow] = Field(default_factory=list, description="Optional curved arrows (atom-map numbers).")
    description: str | None = Field(default=None, description="Plain-language rationale of the step.")

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        # Unknown types are kept for now: the subtype, validated next, may say what the type is.
        return normalise_type(value, None) if isinstance(value, str) and value.strip() else value

    @field_validator("subtype", mode="before")
    @classmethod
    def _known_subtype(cls, value: Any, info: ValidationInfo) -> Any:
        return normalise_subtype(value, info.data.get("type"))

    @model_validator(mode="after")
    def _type_from_subtype(self) -> Step:
        if self.type not in STEP_TYPES:
            if self.subtype is None and self.type is not None:
                raise InvalidInput("type", f"unknown step type {self.type!r}; known types: {', '.join(STEP_TYPES)}")
            self.type = SUBTYPES[self.subtype] if self.subtype else None
        return self

    @model_validator(mode="after")
    def _has_species(self) -> Step:
        if not self.products and not self.intermediate:
            raise ValueError("a step needs 'products' or an 'intermediate'")
        return self

    @property
    def is_full(self) -> bool:
        """True when the step lists both reactants and products (so balance can be checked)."""
        return bool(self.reactants) and bool(self.products)

    @property
    def key_smiles(self) -> str:
        """The species used to align and compare steps: ``intermediate``, else the largest product."""
        if self.intermediate:
            return self.intermediate
        return max(self.products, key=_size)


def _size(smiles: str) -> int:
    # Heavy-atom count without parsing: letters that start an element symbol, a cheap and parse-free proxy.
    from ._species import heavy_atoms

    return heavy_atoms(smiles)


class Mechanism(ToolModel):
    """A proposed or reference mechanism for one overall reaction."""

    id: str | None = Field(default=None, description="Identifier, e.g. oMeBench 'NR-001'.")
    name: str | None = Field(default=None, description="Reaction name.")
    level: Level | None = Field(default=None, description="Difficulty (oMeBench): easy, medium or hard.")
    reactants: list[str] = Field(default_factory=list, description="SMILES of the starting materials.")
    products: list[str] = Field(default_factory=list, description="SMILES of the stated final products.")
    reagents: list[str] = Field(
        default_factory=list,
        description="SMILES of catalysts, acids/bases and solvents available to every step (e.g. '[H+]', 'O').",
    )
    conditions: str | None = Field(default=None, description="Conditions as free text.")
    source: str | None = Field(default=None, description="Where the mechanism comes from (reference, model, ...).")
    description: str | None = Field(default=None, description="Free-text summary.")
    steps: list[Step] = Field(min_length=1, description="Elementary steps in order.")

    def weights(self) -> list[float]:
        """Step weights: the given ones when every step has one (not all zero), else uniform ``1/n``."""
        given = [s.weight for s in self.steps]
        # All-zero weights are placeholders (oMeBench's Template file has them), not a statement that nothing counts.
        if all(w is not None for w in given) and any(given):
            return [float(w) for w in given]  # type: ignore[arg-type]
        return [1.0 / len(self.steps)] * len(self.steps)

    @property
    def is_full(self) -> bool:
        """True when every step lists reactants and products."""
        return all(s.is_full for s in self.steps)
