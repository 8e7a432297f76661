"""Side-by-side comparison of two mechanisms for the same reaction (neither is taken as the truth)."""

from __future__ import annotations

from pydantic import Field

from ..fields import Fraction, ToolModel
from ._model import Mechanism
from ._omes import omes
from ._score import StepDiagnostic, score_mechanism
from ._species import species_key

__all__ = ["Comparison", "compare_mechanisms"]


class Comparison(ToolModel):
    """Result of :func:`compare_mechanisms`."""

    similarity: Fraction = Field(description="Mean of the two labwright scores (each one taken as reference once).")
    score_second_vs_first: Fraction = Field(description="labwright score of the second with the first as reference.")
    score_first_vs_second: Fraction = Field(description="labwright score of the first with the second as reference.")
    omes_second_vs_first: dict[str, float] = Field(description="oMeS (S_total, S_partial, V, L), first as gold.")
    shared_species: list[str] = Field(description="Canonical key species present in both mechanisms.")
    only_in_first: list[str] = Field(description="Key species only the first mechanism forms.")
    only_in_second: list[str] = Field(description="Key species only the second mechanism forms.")
    alignment: list[StepDiagnostic] = Field(description="Step alignment, the first mechanism playing 'reference'.")


def _species(mech: Mechanism) -> list[str]:
    keys = []
    for s in mech.steps:
        k = species_key(s.key_smiles) or s.key_smiles
        if k not in keys:
            keys.append(k)
    return keys


def compare_mechanisms(first: Mechanism, second: Mechanism, *, tau: float = 0.6) -> Comparison:
    """Compare two mechanisms: alignment, shared and distinct intermediates, and scores in both directions.

    Parameters
    ----------
    first, second
        Mechanisms for the same overall reaction.
    tau
        Tanimoto threshold for similarity credit.

    Returns
    -------
    Comparison
    """
    fwd = score_mechanism(second, first, tau=tau)
    back = score_mechanism(first, second, tau=tau)
    o = omes(first, second, tau=tau)
    a, b = _species(first), _species(second)
    return Comparison(
        similarity=(fwd.total + back.total) / 2,
        score_second_vs_first=fwd.total,
        score_first_vs_second=back.total,
        omes_second_vs_first={"S_total": o.S_total, "S_partial": o.S_partial, "V": o.V, "L": o.L},
        shared_species=[k for k in a if k in b],
        only_in_first=[k for k in a if k not in b],
        only_in_second=[k for k in b if k not in a],
        alignment=fwd.diagnostics,
    )
