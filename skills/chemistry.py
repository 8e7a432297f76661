"""Small chemistry skills over the RDKit tools: identify molecules, compare them to a reference.

They are cheap and deterministic, so tests and quick workflows use them to exercise the workflow machinery.
"""

from __future__ import annotations

from pydantic import Field

from ..tools.fields import ToolModel
from ._skill import SkillContext, skill

__all__ = ["MoleculeList", "MoleculeTable", "SimilarityRanking", "identify_molecules", "rank_by_similarity"]


class MoleculeList(ToolModel):
    smiles: list[str] = Field(min_length=1, description="Molecules as SMILES.")


class MoleculeRow(ToolModel):
    smiles: str = Field(description="Canonical SMILES.")
    formula: str
    molecular_weight: float = Field(description="Average molecular weight, g/mol.")
    inchikey: str


class MoleculeTable(ToolModel):
    molecules: list[MoleculeRow]


class RankInput(ToolModel):
    molecules: list[MoleculeRow] = Field(min_length=1)
    reference: str = Field(description="Reference molecule (SMILES).")


class RankedMolecule(ToolModel):
    smiles: str
    tanimoto: float = Field(ge=0, le=1, description="Morgan (r = 2, 2048 bits) Tanimoto similarity to the reference.")


class SimilarityRanking(ToolModel):
    reference: str
    ranking: list[RankedMolecule]


@skill("chem.identify", version="1", tools=("describe_molecule",))
def identify_molecules(ctx: SkillContext, inp: MoleculeList) -> MoleculeTable:
    """Identify molecules: canonical SMILES, formula, weight and InChIKey of each."""
    rows = []
    for smi in inp.smiles:
        d = ctx.call("describe_molecule", {"smiles": smi})
        rows.append(
            MoleculeRow(
                smiles=d.canonical_smiles, formula=d.formula, molecular_weight=d.molecular_weight, inchikey=d.inchikey
            )
        )
    art = ctx.save_table("molecules.csv", [r.model_dump() for r in rows], title="Identified molecules")
    ctx.claim("molecules identified", value=len(rows), artifacts=[art])
    return MoleculeTable(molecules=rows)


@skill("chem.rank_similarity", version="1", tools=("molecular_similarity",))
def rank_by_similarity(ctx: SkillContext, inp: RankInput) -> SimilarityRanking:
    """Rank molecules by fingerprint similarity to a reference molecule."""
    ranked = []
    for m in inp.molecules:
        s = ctx.call("molecular_similarity", {"smiles_a": m.smiles, "smiles_b": inp.reference})
        ranked.append(RankedMolecule(smiles=m.smiles, tanimoto=s.tanimoto))
    ranked.sort(key=lambda r: -r.tanimoto)
    art = ctx.save_json("ranking.json", [r.model_dump() for r in ranked], kind="table", title="Similarity ranking")
    ctx.claim(f"most similar to {inp.reference}: {ranked[0].smiles}", value=ranked[0].tanimoto, artifacts=[art])
    return SimilarityRanking(reference=inp.reference, ranking=ranked)
