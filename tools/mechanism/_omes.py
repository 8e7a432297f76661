"""oMeS, oMeBench's mechanism score, reproduced to the published definition.

Species are canonicalised the way the reference scorer does it: ``Chem.MolFromSmiles`` with its default
sanitisation (which also cleans stereochemistry) and ``Chem.MolToSmiles``; a SMILES that fails to parse counts as
the empty string, i.e. invalid. Similarity is Tanimoto on Morgan fingerprints (radius 2, 2048 bits) of the molecules
parsed from the SMILES as written (atom maps are kept, as in the reference). Results are rounded to 2 decimals.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from ..chem import ExplicitBitVect, without_rdkit_log
from ._align import Action, align
from ._model import Mechanism

__all__ = ["OMeSResult", "omes", "TAU"]

TAU = 0.6


@functools.lru_cache(maxsize=16)
def _generator(radius: int, n_bits: int):
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


@functools.lru_cache(maxsize=65536)
def _reference_entry(smiles: str, radius: int, n_bits: int) -> tuple[str, ExplicitBitVect | None]:
    # MolFromSmiles (not labwright's to_mol) on purpose: its stereo clean-up changes some canonical SMILES.
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return "", None
    return Chem.MolToSmiles(mol, canonical=True), _generator(radius, n_bits).GetFingerprint(mol)


@dataclass(frozen=True)
class OMeSResult:
    """oMeS scores of one prediction against one gold mechanism (each rounded to 2 decimals).

    Attributes
    ----------
    S_total
        Sum of the weights of gold steps matched by an identical intermediate (same subtype, same canonical SMILES).
    S_partial
        Sum over matched gold steps of weight × Tanimoto similarity, counting similarities below τ as 0.
    alignment
        The alignment moves ("match", "type_mismatch", "skip_gold", "skip_pred").
    V
        Share of predicted intermediates that are valid SMILES.
    L
        Number of subtype-matched aligned pairs divided by the number of gold steps.
    """

    S_total: float
    S_partial: float
    alignment: list[Action]
    V: float
    L: float


GoldStep = tuple[str, str, float]
PredStep = tuple[str, str]


def _as_gold(gold: Mechanism | Sequence[GoldStep]) -> list[GoldStep]:
    if isinstance(gold, Mechanism):
        return [(s.subtype or "", s.key_smiles, w) for s, w in zip(gold.steps, gold.weights(), strict=True)]
    return [(str(t), str(s), float(w)) for t, s, w in gold]


def _as_pred(pred: Mechanism | Sequence[PredStep]) -> list[PredStep]:
    if isinstance(pred, Mechanism):
        return [(s.subtype or "", s.key_smiles) for s in pred.steps]
    return [(str(t), str(s)) for t, s in pred]


def omes(
    gold: Mechanism | Sequence[GoldStep],
    pred: Mechanism | Sequence[PredStep],
    *,
    tau: float = TAU,
    radius: int = 2,
    n_bits: int = 2048,
) -> OMeSResult:
    """oMeS score of a predicted mechanism against a gold one.

    Parameters
    ----------
    gold
        A :class:`Mechanism` or a list of ``(subtype, intermediate_smiles, step_weight)``.
    pred
        A :class:`Mechanism` or a list of ``(subtype, intermediate_smiles)``.
    tau
        Similarity threshold for partial credit.
    radius, n_bits
        Morgan fingerprint settings (oMeBench: 2 and 2048).

    Returns
    -------
    OMeSResult

    Examples
    --------
    >>> gold = [("acid_base_proton_transfer", "[CH2-]C=O", 0.4), ("nucleophilic_addition", "CC([O-])CC=O", 0.6)]
    >>> omes(gold, [("nucleophilic_addition", "CC([O-])CC=O")]).S_total
    0.6
    """
    g, p = _as_gold(gold), _as_pred(pred)
    with without_rdkit_log():
        g_ent = [_reference_entry(s, radius, n_bits) for _, s, _ in g]
        p_ent = [_reference_entry(s, radius, n_bits) for _, s in p]

    def pair_score(i: int, j: int) -> tuple[bool, float | None]:
        (gc, gf), (pc, pf) = g_ent[i], p_ent[j]
        if not (gc and pc):
            return False, None
        return gc == pc, DataStructs.TanimotoSimilarity(gf, pf)

    res = align([t for t, _, _ in g], [w for _, _, w in g], [t for t, _ in p], pair_score, tau=tau)
    v = sum(1 for c, _ in p_ent if c) / max(1, len(p))
    ell = res.n_match / max(1, len(g))
    return OMeSResult(round(res.total, 2), round(res.partial, 2), res.actions, round(v, 2), round(ell, 2))
