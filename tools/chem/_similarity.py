"""Morgan fingerprints and Tanimoto similarity.

Defaults (radius 2, 2048 bits) match oMeBench's oMeS scorer, so mechanism scores are comparable with the paper's.
"""

from __future__ import annotations

import functools

from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator
from rdkit.DataStructs import ExplicitBitVect

from ._mol import Mol, to_mol

__all__ = ["morgan_fingerprint", "tanimoto", "ExplicitBitVect"]


@functools.lru_cache(maxsize=16)
def _generator(radius: int, n_bits: int):
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def morgan_fingerprint(x: str | Mol, *, radius: int = 2, n_bits: int = 2048) -> ExplicitBitVect:
    """Morgan (ECFP-like) bit fingerprint of a molecule."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    if n_bits <= 0:
        raise ValueError(f"n_bits must be > 0, got {n_bits}")
    return _generator(radius, n_bits).GetFingerprint(to_mol(x))


def tanimoto(
    a: str | Mol | ExplicitBitVect, b: str | Mol | ExplicitBitVect, *, radius: int = 2, n_bits: int = 2048
) -> float:
    """Tanimoto similarity in [0, 1] of two molecules (or two fingerprints)."""
    fa = a if isinstance(a, ExplicitBitVect) else morgan_fingerprint(a, radius=radius, n_bits=n_bits)
    fb = b if isinstance(b, ExplicitBitVect) else morgan_fingerprint(b, radius=radius, n_bits=n_bits)
    return float(DataStructs.TanimotoSimilarity(fa, fb))
