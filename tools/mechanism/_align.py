"""Needleman–Wunsch alignment of predicted steps to reference steps, as defined by oMeBench's oMeS.

Each cell of the table keeps four numbers: exact-match score, partial (similarity) score, the rank of the move that
reached it and a tiny penalty. A diagonal move is a *match* when the two steps have the same subtype (it earns the
reference step's weight if the species are identical, and weight × similarity as partial credit when the similarity
reaches the threshold τ) and a *type_mismatch* otherwise (earns nothing). Skipping a reference step or a predicted
step earns nothing. Moves are compared by (exact, partial, rank, penalty), higher wins, with rank match 3 >
type_mismatch 2 > skip 1, and the penalty (−1e−6 per gap or mismatch) only separating otherwise equal paths; on a
full tie the first of (skip reference, skip prediction, diagonal) is kept. The floating-point additions follow the same
order as the published scorer so that rounded results agree exactly.

References
----------
.. [1] R. Xu et al., "oMeBench: Towards Robust Benchmarking of LLMs in Organic Mechanism Elucidation and
   Reasoning", arXiv:2510.07731 (2025); scorer in github.com/skylarkie/oMeBench, ``scripts/utils_eval.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Action", "Alignment", "align", "GAP_PENALTY", "RANK"]

Action = Literal["match", "type_mismatch", "skip_gold", "skip_pred"]

GAP_PENALTY = 1e-6
RANK: dict[str, int] = {"match": 3, "type_mismatch": 2, "skip_gold": 1, "skip_pred": 1}


@dataclass(frozen=True)
class Alignment:
    """Result of :func:`align`.

    Attributes
    ----------
    total, partial
        Unrounded exact-match and similarity scores (sums of reference weights earned).
    actions
        Moves from the first steps to the last, one per aligned pair or gap.
    pairs
        ``(reference_index, predicted_index, action)`` per move; the index is ``None`` on the gap side.
    """

    total: float
    partial: float
    actions: list[Action]
    pairs: list[tuple[int | None, int | None, Action]]

    @property
    def n_match(self) -> int:
        """Number of diagonal moves between steps of equal subtype."""
        return sum(a == "match" for a in self.actions)


PairScore = Callable[[int, int], tuple[bool, float | None]]
"""``(i, j) -> (identical, similarity)`` for reference step *i* and predicted step *j* of equal subtype;
``similarity`` is ``None`` when either species is invalid (no partial credit)."""


def align(
    ref_subtypes: Sequence[str | None],
    ref_weights: Sequence[float],
    pred_subtypes: Sequence[str | None],
    pair_score: PairScore,
    *,
    tau: float = 0.6,
) -> Alignment:
    """Align predicted steps to reference steps (oMeS dynamic programme).

    Parameters
    ----------
    ref_subtypes, ref_weights
        Subtype and weight of each reference step, length ``n``.
    pred_subtypes
        Subtype of each predicted step, length ``m``.
    pair_score
        Called once per pair of equal subtype; see :data:`PairScore`.
    tau
        Similarity threshold for partial credit (similarities below it count 0).

    Returns
    -------
    Alignment

    Notes
    -----
    O(n m) time and memory; ``pair_score`` is called at most n m times.
    """
    n, m = len(ref_subtypes), len(pred_subtypes)
    # Each cell: (total, partial, rank, penalty, action).
    cell: list[list[tuple[float, float, int, float, str]]] = [
        [(0.0, 0.0, 0, 0.0, "end")] * (m + 1) for _ in range(n + 1)
    ]
    for i in range(1, n + 1):
        t, p, _, pen, _ = cell[i - 1][0]
        cell[i][0] = (t, p, RANK["skip_gold"], pen - GAP_PENALTY, "skip_gold")
    for j in range(1, m + 1):
        t, p, _, pen, _ = cell[0][j - 1]
        cell[0][j] = (t, p, RANK["skip_pred"], pen - GAP_PENALTY, "skip_pred")

    for i in range(1, n + 1):
        g_sub, w = ref_subtypes[i - 1], ref_weights[i - 1]
        row, up_row = cell[i], cell[i - 1]
        for j in range(1, m + 1):
            if g_sub == pred_subtypes[j - 1]:
                identical, sim = pair_score(i - 1, j - 1)
                m_tot = w if identical else 0.0
                m_par = w * (0.0 if sim < tau else sim) if sim is not None else 0.0
                act, pen_d = "match", 0.0
            else:
                m_tot = m_par = 0.0
                act, pen_d = "type_mismatch", -GAP_PENALTY
            up, left, diag = up_row[j], row[j - 1], up_row[j - 1]
            best = (up[0], up[1], RANK["skip_gold"], up[3] - GAP_PENALTY, "skip_gold")
            cand = (left[0], left[1], RANK["skip_pred"], left[3] - GAP_PENALTY, "skip_pred")
            if cand[:4] > best[:4]:
                best = cand
            cand = (diag[0] + m_tot, diag[1] + m_par, RANK[act], diag[3] + pen_d, act)
            if cand[:4] > best[:4]:
                best = cand
            row[j] = best

    pairs: list[tuple[int | None, int | None, Action]] = []
    i, j = n, m
    while i or j:
        act = "skip_pred" if i == 0 else "skip_gold" if j == 0 else cell[i][j][4]
        if act in ("match", "type_mismatch"):
            i, j = i - 1, j - 1
            pairs.append((i, j, act))  # type: ignore[arg-type]
        elif act == "skip_gold":
            i -= 1
            pairs.append((i, None, act))  # type: ignore[arg-type]
        else:
            j -= 1
            pairs.append((None, j, act))  # type: ignore[arg-type]
    pairs.reverse()
    return Alignment(cell[n][m][0], cell[n][m][1], [a for _, _, a in pairs], pairs)
