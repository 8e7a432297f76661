"""The mechanism tools for agents and the CLI (mechanist role): validate, score, compare, oMeS."""

from __future__ import annotations

from pydantic import Field, model_validator

from ...errors import InvalidInput
from ..fields import Fraction, PathStr, ToolModel
from ..registry import Cost, tool
from ._checks import ValidationReport, validate_mechanism
from ._compare import Comparison, compare_mechanisms
from ._io import load_mechanism
from ._model import Mechanism
from ._omes import omes
from ._score import MechanismScore, ScoreWeights, score_mechanism

__all__ = [
    "MechanismSource",
    "ValidateMechanismInput",
    "ScoreMechanismInput",
    "CompareMechanismsInput",
    "OMeSInput",
    "OMeSOutput",
    "validate_mechanism_tool",
    "score_mechanism_tool",
    "compare_mechanisms_tool",
    "omes_score_tool",
]


class MechanismSource(ToolModel):
    """A mechanism given inline or as a file path (our YAML/JSON format, or one oMeBench record)."""

    mechanism: Mechanism | None = Field(default=None, description="The mechanism itself.")
    path: PathStr | None = Field(default=None, description="Path to a .yaml/.yml/.json mechanism file.")

    @model_validator(mode="after")
    def _exactly_one(self) -> MechanismSource:
        if (self.mechanism is None) == (self.path is None):
            raise ValueError("give exactly one of 'mechanism' or 'path'")
        return self

    def load(self) -> Mechanism:
        return self.mechanism if self.mechanism is not None else load_mechanism(self.path or "")


def _load(src: MechanismSource, name: str) -> Mechanism:
    """Load a source, naming it in any error (``prediction.path``)."""
    try:
        return src.load()
    except InvalidInput as err:
        raise InvalidInput(f"{name}.{err.field}", err.reason) from None


def _cost(*mechs: MechanismSource) -> Cost:
    n = 1
    for m in mechs:
        n *= len(m.mechanism.steps) if m.mechanism is not None else 10
    return Cost(seconds=0.002 + 0.0005 * n)


class ValidateMechanismInput(MechanismSource):
    pass


@tool(name="validate_mechanism", cost=lambda inp: _cost(inp))
def validate_mechanism_tool(inp: ValidateMechanismInput) -> ValidationReport:
    """Check a mechanism step by step: SMILES validity (naming atoms with bad valence), element and charge balance
    (naming what is missing, e.g. 'products lack H2O'), continuity of species and formation of the stated products."""
    return validate_mechanism(inp.load())


class ScoreMechanismInput(ToolModel):
    prediction: MechanismSource = Field(description="The proposed mechanism.")
    reference: MechanismSource = Field(description="The reference mechanism (step weights taken from it).")
    weights: ScoreWeights = Field(default_factory=ScoreWeights, description="Weights of the score components.")
    tau: Fraction = Field(default=0.6, description="Tanimoto threshold for similarity credit (oMeS: 0.6).")
    # Radii used in practice are 1-3 (oMeS: 2); by 6 bonds the environment is a whole small molecule.
    radius: int = Field(default=2, ge=0, le=6, description="Morgan fingerprint radius, bonds (oMeS: 2).")
    # Under 64 bits collisions dominate the Tanimoto score; 16,384 is far past where it stops changing.
    n_bits: int = Field(default=2048, ge=64, le=16384, description="Morgan fingerprint length, bits (oMeS: 2048).")


@tool(name="score_mechanism", cost=lambda inp: _cost(inp.prediction, inp.reference))
def score_mechanism_tool(inp: ScoreMechanismInput) -> MechanismScore:
    """Score a proposed mechanism against a reference: total in [0, 1] with a breakdown (validity, balance,
    alignment, similarity, logic, continuity) and a plain-language diagnosis of every step."""
    return score_mechanism(
        _load(inp.prediction, "prediction"),
        _load(inp.reference, "reference"),
        weights=inp.weights,
        tau=inp.tau,
        radius=inp.radius,
        n_bits=inp.n_bits,
    )


class CompareMechanismsInput(ToolModel):
    first: MechanismSource = Field(description="First mechanism.")
    second: MechanismSource = Field(description="Second mechanism.")
    tau: Fraction = Field(default=0.6, description="Tanimoto threshold for similarity credit.")


@tool(name="compare_mechanisms", cost=lambda inp: _cost(inp.first, inp.second))
def compare_mechanisms_tool(inp: CompareMechanismsInput) -> Comparison:
    """Compare two mechanisms for one reaction: step alignment, shared and distinct intermediates, and scores with
    each taken as the reference in turn."""
    return compare_mechanisms(_load(inp.first, "first"), _load(inp.second, "second"), tau=inp.tau)


class OMeSInput(ToolModel):
    gold: MechanismSource = Field(description="Gold mechanism (weights from its steps, uniform when absent).")
    prediction: MechanismSource = Field(description="Predicted mechanism.")
    tau: Fraction = Field(default=0.6, description="Tanimoto threshold for partial credit.")


class OMeSOutput(ToolModel):
    S_total: Fraction = Field(description="Weight of gold steps matched by identical intermediates (2 decimals).")
    S_partial: Fraction = Field(description="Weight × Tanimoto over matched gold steps, below tau counts 0.")
    V: Fraction = Field(description="Share of valid predicted intermediate SMILES.")
    L: Fraction = Field(description="Subtype-matched aligned steps / gold steps.")
    alignment: list[str] = Field(description="Alignment moves: match, type_mismatch, skip_gold, skip_pred.")


@tool(name="omes_score", cost=lambda inp: _cost(inp.gold, inp.prediction))
def omes_score_tool(inp: OMeSInput) -> OMeSOutput:
    """oMeBench's oMeS score of a predicted mechanism against a gold one, as published (S_total, S_partial, V, L)."""
    r = omes(_load(inp.gold, "gold"), _load(inp.prediction, "prediction"), tau=inp.tau)
    return OMeSOutput(S_total=r.S_total, S_partial=r.S_partial, V=r.V, L=r.L, alignment=list(r.alignment))
