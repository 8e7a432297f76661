"""Chemistry helpers registered as tools (any role may read molecules)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from ..fields import SmilesText, ToolModel
from ..registry import Cost, tool
from ._mol import to_mol, to_smiles
from ._properties import element_counts, formal_charge, formula, molecular_weight, to_inchikey
from ._similarity import tanimoto

__all__ = [
    "Smiles",
    "SmilesInput",
    "CanonicalSmiles",
    "MoleculeDescription",
    "SimilarityInput",
    "Similarity",
    "canonicalize_smiles",
    "describe_molecule",
    "molecular_similarity",
]


def _check_smiles(value: str) -> str:
    to_mol(value)
    return value.strip()


Smiles = Annotated[SmilesText, AfterValidator(_check_smiles)]
"""A string that RDKit parses and sanitises; the error names RDKit's reason."""

_CHEAP = Cost(seconds=0.001)


class SmilesInput(ToolModel):
    smiles: Smiles = Field(description="Molecule as SMILES; '.'-separated fragments allowed.")


class CanonicalSmiles(ToolModel):
    smiles: str = Field(description="The SMILES as given.")
    canonical_smiles: str = Field(description="RDKit canonical isomeric SMILES.")
    inchikey: str = Field(description="Standard InChIKey.")
    formula: str = Field(description="Hill formula with implicit hydrogens and charge.")


class MoleculeDescription(CanonicalSmiles):
    element_counts: dict[str, int] = Field(description="Atoms per element, hydrogens included.")
    formal_charge: int = Field(description="Net formal charge, elementary charges.")
    molecular_weight: float = Field(description="Average molecular weight, g/mol.")
    heavy_atoms: int = Field(description="Number of non-hydrogen atoms.")


class SimilarityInput(ToolModel):
    smiles_a: Smiles = Field(description="First molecule (SMILES).")
    smiles_b: Smiles = Field(description="Second molecule (SMILES).")
    # Radii used in practice are 1-3 (ECFP4/6); by 6 bonds the environment is a whole small molecule.
    radius: int = Field(default=2, ge=0, le=6, description="Morgan radius (bonds).")
    # Under 64 bits collisions dominate the Tanimoto score; 16,384 is far past where it stops changing.
    n_bits: int = Field(default=2048, ge=64, le=16384, description="Fingerprint length, bits.")


class Similarity(ToolModel):
    tanimoto: float = Field(ge=0, le=1, description="Tanimoto similarity of Morgan fingerprints.")
    radius: int
    n_bits: int


@tool(cost=lambda inp: _CHEAP)
def canonicalize_smiles(inp: SmilesInput) -> CanonicalSmiles:
    """Canonical SMILES, InChIKey and formula of a molecule given as SMILES."""
    mol = to_mol(inp.smiles)
    return CanonicalSmiles(
        smiles=inp.smiles, canonical_smiles=to_smiles(mol), inchikey=to_inchikey(mol), formula=formula(mol)
    )


@tool(cost=lambda inp: _CHEAP)
def describe_molecule(inp: SmilesInput) -> MoleculeDescription:
    """Identity and composition of a molecule: canonical SMILES, InChIKey, formula, element counts, charge, weight."""
    mol = to_mol(inp.smiles)
    return MoleculeDescription(
        smiles=inp.smiles,
        canonical_smiles=to_smiles(mol),
        inchikey=to_inchikey(mol),
        formula=formula(mol),
        element_counts=element_counts(mol),
        formal_charge=formal_charge(mol),
        molecular_weight=molecular_weight(mol),
        heavy_atoms=mol.GetNumHeavyAtoms(),
    )


@tool(cost=lambda inp: _CHEAP)
def molecular_similarity(inp: SimilarityInput) -> Similarity:
    """Tanimoto similarity of two molecules' Morgan fingerprints (default radius 2, 2048 bits, as oMeS)."""
    value = tanimoto(inp.smiles_a, inp.smiles_b, radius=inp.radius, n_bits=inp.n_bits)
    return Similarity(tanimoto=value, radius=inp.radius, n_bits=inp.n_bits)
