"""Identity and composition of molecules: InChIKey, formula, element counts, charge."""

from __future__ import annotations

from collections import Counter

from rdkit import Chem
from rdkit.Chem import Descriptors, rdMolDescriptors

from ._mol import Mol, rdkit_messages, to_mol

__all__ = ["to_inchikey", "formula", "element_counts", "formal_charge", "molecular_weight"]


def to_inchikey(x: str | Mol) -> str:
    """Standard InChIKey (27 characters) of a molecule."""
    mol = to_mol(x)
    with rdkit_messages():  # InChI warnings (e.g. about stereo) are not errors
        return Chem.MolToInchiKey(mol)


def formula(x: str | Mol) -> str:
    """Hill-order molecular formula including implicit hydrogens and charge, e.g. ``C8H10N4O2``."""
    return rdMolDescriptors.CalcMolFormula(to_mol(x))


def element_counts(x: str | Mol) -> dict[str, int]:
    """Atoms of each element, implicit and explicit hydrogens included (``{"C": 2, "H": 6, "O": 1}``)."""
    mol = to_mol(x)
    counts: Counter[str] = Counter()
    for atom in mol.GetAtoms():
        counts[atom.GetSymbol()] += 1
        counts["H"] += atom.GetTotalNumHs()
    return {el: n for el, n in sorted(counts.items()) if n}


def formal_charge(x: str | Mol) -> int:
    """Net formal charge (elementary charges)."""
    return Chem.GetFormalCharge(to_mol(x))


def molecular_weight(x: str | Mol) -> float:
    """Average molecular weight, g/mol."""
    return Descriptors.MolWt(to_mol(x))
