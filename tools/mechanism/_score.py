"""labwright's mechanism score: oMeS-style alignment plus chemical checks, with per-step explanations.

``score_mechanism(pred, reference)`` aligns the predicted steps with the reference steps using the oMeS dynamic
programme (:mod:`._align`), but compares species after removing atom maps, and adds what oMeS leaves out: whether
the predicted steps are valid and balanced and whether each step only uses species that exist. Each component lies
in [0, 1]; the total is their weighted mean over the components that apply (balance and continuity need steps
written as reactants -> products).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Literal

from pydantic import Field
from rdkit import DataStructs

from ...errors import InvalidInput
from ..fields import Fraction, ToolModel
from ._align import Alignment, align
from ._checks import ValidationReport, _name_difference, _smiles_fields, explain_smiles_error, validate_mechanism
from ._model import Mechanism
from ._species import composition, fingerprint, parse_error, species_key

__all__ = ["ScoreWeights", "ScoreBreakdown", "StepDiagnostic", "MechanismScore", "score_mechanism", "align_mechanisms"]

Status = Literal["identical", "similar", "different", "wrong_subtype", "missing", "extra"]


class ScoreWeights(ToolModel):
    """Weights of the agreement components (renormalised to sum to one).

    Chemical soundness (valid SMILES, balanced steps, continuity) is not weighed against agreement: it multiplies it
    (see :func:`score_mechanism`), so a mechanism that matches the reference step for step but loses a water molecule
    in one of five steps keeps 80 % of its score, not 97 %.
    """

    alignment: Fraction = Field(default=0.45, description="Weight of exact intermediate matches (oMeS S_total).")
    similarity: Fraction = Field(default=0.30, description="Weight of similarity credit (oMeS S_partial).")
    logic: Fraction = Field(default=0.25, description="Weight of subtype-matched steps per step.")


class ScoreBreakdown(ToolModel):
    """Score components, each in [0, 1]; None when a component does not apply."""

    validity: Fraction = Field(description="Share of predicted SMILES that parse and sanitise.")
    balance: Fraction | None = Field(description="Share of full predicted steps conserving elements and charge.")
    alignment: Fraction = Field(description="Reference weight matched by identical species (oMeS S_total, unrounded).")
    similarity: Fraction = Field(description="Reference weight × Tanimoto over matched steps (oMeS S_partial).")
    logic: Fraction = Field(description="Subtype-matched aligned steps / max(reference steps, predicted steps).")
    continuity: Fraction | None = Field(description="Share of full steps whose consumed species are available.")


class StepDiagnostic(ToolModel):
    """How one predicted step relates to the reference, in plain language."""

    predicted_step: int | None = Field(description="1-based predicted step number (None: a missing step).")
    reference_step: int | None = Field(description="1-based reference step number (None: an extra step).")
    status: Status = Field(description="identical, similar, different, wrong_subtype, missing or extra.")
    similarity: Fraction | None = Field(default=None, description="Tanimoto similarity of the key species.")
    message: str = Field(description="Explanation.")


class MechanismScore(ToolModel):
    """Result of :func:`score_mechanism`."""

    total: Fraction = Field(description="Weighted mean of the applicable components.")
    breakdown: ScoreBreakdown
    diagnostics: list[StepDiagnostic] = Field(description="One entry per aligned pair or gap, in order.")
    validation: ValidationReport = Field(description="Chemical checks of the predicted mechanism.")
    summary: str = Field(description="One-paragraph verdict.")


def _label(smiles: str) -> str:
    return species_key(smiles) or smiles


def align_mechanisms(
    reference: Mechanism, pred: Mechanism, *, tau: float = 0.6, radius: int = 2, n_bits: int = 2048
) -> tuple[Alignment, dict[tuple[int, int], float | None]]:
    """Align two mechanisms (oMeS programme, atom maps ignored); also return the similarities computed."""
    r_keys = [s.key_smiles for s in reference.steps]
    p_keys = [s.key_smiles for s in pred.steps]
    sims: dict[tuple[int, int], float | None] = {}

    def pair_score(i: int, j: int) -> tuple[bool, float | None]:
        a, b = species_key(r_keys[i]), species_key(p_keys[j])
        if a is None or b is None:
            sims[i, j] = None
            return False, None
        sim = DataStructs.TanimotoSimilarity(
            fingerprint(r_keys[i], radius, n_bits), fingerprint(p_keys[j], radius, n_bits)
        )
        sims[i, j] = sim
        return a == b, sim

    res = align(
        [s.subtype for s in reference.steps], reference.weights(), [s.subtype for s in pred.steps], pair_score, tau=tau
    )
    return res, sims


def _difference(pred_smiles: str, ref_smiles: str) -> str:
    """How a predicted species differs in composition from the reference one ('has extra CH2', 'lacks H2O')."""
    (pe, pq), (re_, rq) = composition(pred_smiles), composition(ref_smiles)
    p, r = Counter(dict(pe)), Counter(dict(re_))
    extra, lack = p - r, r - p
    parts = []
    if extra:
        parts.append(f"has extra {_name_difference(extra, pq - rq if not lack else 0)}")
    if lack:
        parts.append(f"lacks {_name_difference(lack, rq - pq if not extra else 0)}")
    if not parts and pq != rq:
        parts.append(f"has charge {pq:+d} where the reference has {rq:+d}")
    if not parts:
        return "same formula, different structure (an isomer)"
    return " and ".join(parts)


def _diag(j: int | None, i: int | None, status: Status, message: str, sim: float | None = None) -> StepDiagnostic:
    """A diagnostic for predicted step ``j`` and reference step ``i`` (0-based; ``None`` on a gap)."""
    return StepDiagnostic(
        predicted_step=None if j is None else j + 1,
        reference_step=None if i is None else i + 1,
        status=status,
        similarity=sim,
        message=message,
    )


def _same_species(keys: list[str | None], key: str | None, skip: int | None = None) -> list[int]:
    """1-based positions whose canonical species equals ``key``."""
    return [k + 1 for k, other in enumerate(keys) if key is not None and other == key and k != skip]


def _out_of_order_hint(ref_keys: list[str | None], key: str | None, skip: int | None = None) -> str:
    """A message tail naming the reference step whose species a predicted step forms ("" when none does)."""
    other = _same_species(ref_keys, key, skip=skip)
    return f"; it forms the species of reference step {other[0]}, so it is out of order" if other else ""


def _diagnose_match(
    i: int, j: int, reference: Mechanism, pred: Mechanism, sim: float | None, identical: bool, tau: float
) -> StepDiagnostic:
    rs, ps = reference.steps[i], pred.steps[j]
    if identical:
        return _diag(
            j,
            i,
            "identical",
            f"Step {j + 1} ({ps.subtype}) matches reference step {i + 1}: {_label(ps.key_smiles)}.",
            1.0,
        )
    if sim is None:
        why = explain_smiles_error(parse_error(ps.key_smiles) or "invalid", ps.key_smiles)
        return _diag(
            j,
            i,
            "different",
            f"Step {j + 1} has the right subtype ({ps.subtype}) but its species "
            f"{ps.key_smiles!r} is not a valid molecule ({why}); reference step {i + 1} forms "
            f"{_label(rs.key_smiles)}.",
        )
    status: Status = "similar" if sim >= tau else "different"
    verdict = "resembles" if status == "similar" else "has the right subtype but differs from"
    credit = "partial credit" if status == "similar" else f"no credit (below threshold {tau:g})"
    return _diag(
        j,
        i,
        status,
        f"Step {j + 1} {verdict} reference step {i + 1} (Tanimoto {sim:.2f}, {credit}): "
        f"predicted {_label(ps.key_smiles)} {_difference(ps.key_smiles, rs.key_smiles)} compared with "
        f"{_label(rs.key_smiles)}.",
        round(sim, 4),
    )


def _diagnose(
    reference: Mechanism, pred: Mechanism, res: Alignment, sims: dict[tuple[int, int], float | None], tau: float
) -> list[StepDiagnostic]:
    out: list[StepDiagnostic] = []
    ref_keys = [species_key(s.key_smiles) for s in reference.steps]
    pred_keys = [species_key(s.key_smiles) for s in pred.steps]
    for i, j, act in res.pairs:
        if act == "match" and i is not None and j is not None:
            identical = ref_keys[i] is not None and ref_keys[i] == pred_keys[j]
            out.append(_diagnose_match(i, j, reference, pred, sims.get((i, j)), identical, tau))
        elif act == "type_mismatch" and i is not None and j is not None:
            rs, ps = reference.steps[i], pred.steps[j]
            hint = _out_of_order_hint(ref_keys, pred_keys[j], skip=i)
            out.append(
                _diag(
                    j,
                    i,
                    "wrong_subtype",
                    f"Step {j + 1} is labelled {ps.subtype!r} where reference step "
                    f"{i + 1} is {rs.subtype!r} (predicted {_label(ps.key_smiles)}, reference "
                    f"{_label(rs.key_smiles)}){hint}.",
                )
            )
        elif act == "skip_gold" and i is not None:
            rs = reference.steps[i]
            other = _same_species(pred_keys, ref_keys[i])
            hint = f"; its species appears at predicted step {other[0]}, so the order is wrong" if other else ""
            out.append(
                _diag(
                    None,
                    i,
                    "missing",
                    f"Reference step {i + 1} ({rs.subtype}, forming "
                    f"{_label(rs.key_smiles)}) has no counterpart in the prediction{hint}.",
                )
            )
        elif j is not None:
            ps = pred.steps[j]
            hint = _out_of_order_hint(ref_keys, pred_keys[j])
            out.append(
                _diag(
                    j,
                    None,
                    "extra",
                    f"Step {j + 1} ({ps.subtype}, forming {_label(ps.key_smiles)}) has "
                    f"no counterpart in the reference{hint}.",
                )
            )
    return out


def _attach_errors(diags: list[StepDiagnostic], report: ValidationReport) -> list[StepDiagnostic]:
    """Append each predicted step's chemical errors to its diagnostic, so one message tells the whole story."""
    by_step: dict[int, list[str]] = {}
    for issue in report.errors:
        if issue.step is not None:
            by_step.setdefault(issue.step, []).append(re.sub(r"^step \d+:? ", "", issue.message))
    out = []
    for d in diags:
        problems = by_step.get(d.predicted_step or -1)
        if problems:
            d = d.model_copy(update={"message": f"{d.message[:-1]}; chemical problem: {'; '.join(problems)}."})
        out.append(d)
    return out


def _validity_share(report: ValidationReport, pred: Mechanism) -> float:
    n = len(_smiles_fields(pred))
    bad = sum(1 for i in report.issues if i.check == "smiles")
    return 1.0 if n == 0 else (n - bad) / n


def _continuity_share(report: ValidationReport, pred: Mechanism) -> float | None:
    if report.continuous is None:
        return None
    broken = {i.step for i in report.issues if i.check == "continuity" and i.severity == "error"}
    return 1.0 - len(broken) / len(pred.steps)


def score_mechanism(
    pred: Mechanism,
    reference: Mechanism,
    *,
    weights: ScoreWeights | None = None,
    tau: float = 0.6,
    radius: int = 2,
    n_bits: int = 2048,
) -> MechanismScore:
    """Score a predicted mechanism against a reference one.

    Parameters
    ----------
    pred, reference
        Mechanisms; the reference's step weights are used (uniform when absent).
    weights
        Component weights (default :class:`ScoreWeights`).
    tau
        Tanimoto threshold for similarity credit (oMeS: 0.6).
    radius, n_bits
        Morgan fingerprint settings (oMeS: 2, 2048).

    Returns
    -------
    MechanismScore
        Total in [0, 1], breakdown, per-step diagnostics and the validation report of ``pred``. The total is
        soundness × agreement: the product of the validity, balance and continuity shares (those that apply) times
        the weighted mean of alignment, similarity and logic.

    Notes
    -----
    ``alignment`` and ``similarity`` equal oMeS's S_total and S_partial (unrounded, divided by the sum of the
    reference weights) except that atom maps are ignored; ``logic`` differs from oMeS's L by dividing by the longer
    of the two mechanisms, so padding a prediction with extra steps is not free.
    """
    weights = weights or ScoreWeights()
    report = validate_mechanism(pred)
    res, sims = align_mechanisms(reference, pred, tau=tau, radius=radius, n_bits=n_bits)
    w_sum = sum(reference.weights()) or 1.0
    checkable = [b for b in report.step_balanced if b is not None]
    breakdown = ScoreBreakdown(
        validity=_validity_share(report, pred),
        balance=sum(checkable) / len(checkable) if checkable else None,
        alignment=min(1.0, max(0.0, res.total / w_sum)),
        similarity=min(1.0, max(0.0, res.partial / w_sum)),
        logic=res.n_match / max(len(reference.steps), len(pred.steps)),
        continuity=_continuity_share(report, pred),
    )
    total = _soundness(breakdown) * _agreement(breakdown, weights)
    diagnostics = _attach_errors(_diagnose(reference, pred, res, sims, tau), report)
    return MechanismScore(
        total=min(1.0, max(0.0, total)),
        breakdown=breakdown,
        diagnostics=diagnostics,
        validation=report,
        summary=_summary(total, breakdown, diagnostics, report),
    )


def _soundness(b: ScoreBreakdown) -> float:
    """Product of the chemical-soundness shares that apply (validity, balance, continuity), in [0, 1]."""
    return math.prod(v for v in (b.validity, b.balance, b.continuity) if v is not None)


def _agreement(b: ScoreBreakdown, weights: ScoreWeights) -> float:
    """Weighted mean of the agreement components (alignment, similarity, logic), in [0, 1]."""
    w = weights.model_dump()
    denom = sum(w.values())
    if denom <= 0:
        raise InvalidInput("weights", "at least one of alignment, similarity and logic must have a positive weight")
    return sum(w[k] * getattr(b, k) for k in w) / denom


def _summary(total: float, b: ScoreBreakdown, diags: list[StepDiagnostic], report: ValidationReport) -> str:
    counts: dict[str, int] = {}
    for d in diags:
        counts[d.status] = counts.get(d.status, 0) + 1
    parts = [f"{n} {s.replace('_', ' ')}" for s, n in counts.items()]
    text = (
        f"Score {total:.2f}: {', '.join(parts)} step(s); exact matches cover {b.alignment:.0%} of the reference "
        f"weight, similarity credit {b.similarity:.0%}."
    )
    errors = report.errors
    if errors:
        text += f" {len(errors)} chemical error(s), first: {errors[0].message}."
    return text
