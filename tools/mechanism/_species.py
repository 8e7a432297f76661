"""Per-species facts, cached by SMILES string: canonical key, fingerprint, composition.

Mechanisms repeat the same species many times (a proton, water, the intermediate of step *i* reappearing as a
reactant of step *i+1*), and alignment compares every predicted step with every reference step, so each fact is
computed once per distinct SMILES. The caches are explicit, bounded ``lru_cache``s (DESIGN.md: caches are the only
allowed global state); :func:`clear_caches` empties them (the benchmark uses it).
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from rdkit import Chem

from ...errors import InvalidSmiles
from ..chem import ExplicitBitVect, element_counts, formal_charge, morgan_fingerprint, to_mol, without_rdkit_log

__all__ = ["species_key", "fingerprint", "composition", "heavy_atoms", "clear_caches", "parse_error"]

_CACHE = 65536


@functools.lru_cache(maxsize=_CACHE)
def species_key(smiles: str) -> str | None:
    """Canonical isomeric SMILES with atom maps removed, or ``None`` when the SMILES is invalid."""
    with without_rdkit_log():
        try:
            mol = Chem.Mol(to_mol(smiles))
        except InvalidSmiles:
            return None
        for atom in mol.GetAtoms():
            atom.SetAtomMapNum(0)
        # Hydrogens drawn explicitly to carry a map number or an arrow become implicit again.
        mol = Chem.RemoveHs(mol, sanitize=False)
        return Chem.MolToSmiles(mol)


@functools.lru_cache(maxsize=_CACHE)
def parse_error(smiles: str) -> str | None:
    """RDKit's reason why ``smiles`` does not parse or sanitise, or ``None`` when it is fine."""
    try:
        with without_rdkit_log():
            to_mol(smiles)
    except InvalidSmiles as err:
        return err.reason
    return None


@functools.lru_cache(maxsize=_CACHE)
def fingerprint(smiles: str, radius: int = 2, n_bits: int = 2048) -> ExplicitBitVect | None:
    """Morgan fingerprint of a valid SMILES (atom maps ignored), else ``None``."""
    key = species_key(smiles)
    if key is None:
        return None
    with without_rdkit_log():
        return morgan_fingerprint(key, radius=radius, n_bits=n_bits)


@functools.lru_cache(maxsize=_CACHE)
def composition(smiles: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """Element counts (hydrogens included) and net formal charge; raises ``InvalidSmiles`` when invalid."""
    with without_rdkit_log():
        mol = to_mol(smiles)
    return tuple(element_counts(mol).items()), formal_charge(mol)


_ELEMENT = re.compile(r"Cl|Br|[BCNOPSFI]|[bcnops]|\[([A-Z][a-z]?|[a-z]{1,2})")


@functools.lru_cache(maxsize=_CACHE)
def heavy_atoms(smiles: str) -> int:
    """Number of non-hydrogen atoms (a textual count, so it works for invalid SMILES too)."""
    return sum(1 for m in _ELEMENT.finditer(smiles) if m.group(1) not in ("H",))


def total_composition(smiles_list: list[str]) -> tuple[Counter[str], int]:
    """Summed element counts and charge of several species; raises ``InvalidSmiles`` for the first invalid one."""
    counts: Counter[str] = Counter()
    charge = 0
    for smi in smiles_list:
        elems, q = composition(smi)
        counts.update(dict(elems))
        charge += q
    return counts, charge


def clear_caches() -> None:
    """Forget every cached species fact."""
    for fn in (species_key, parse_error, fingerprint, composition, heavy_atoms):
        fn.cache_clear()
