"""Chemistry helpers against known identifiers (PubChem records cited per value)."""

import pytest
from labwright.errors import InvalidInput, InvalidSmiles
from labwright.tools.chem import (
    canonicalize_smiles,
    describe_molecule,
    element_counts,
    formal_charge,
    formula,
    molecular_similarity,
    morgan_fingerprint,
    tanimoto,
    to_inchikey,
    to_mol,
    to_smiles,
)

CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"


def test_caffeine_formula_and_inchikey():
    # PubChem CID 2519: C8H10N4O2, InChIKey RYYVLZVUVIJVGH-UHFFFAOYSA-N
    assert formula(CAFFEINE) == "C8H10N4O2"
    assert to_inchikey(CAFFEINE) == "RYYVLZVUVIJVGH-UHFFFAOYSA-N"


def test_benzene_inchikey_is_independent_of_kekule_form():
    # PubChem CID 241: UHOVQNZJYSORNB-UHFFFAOYSA-N
    assert to_inchikey("c1ccccc1") == "UHOVQNZJYSORNB-UHFFFAOYSA-N"
    assert to_inchikey("C1=CC=CC=C1") == "UHOVQNZJYSORNB-UHFFFAOYSA-N"


def test_canonical_smiles_is_unique_per_molecule():
    assert to_smiles("OCC") == to_smiles("C(O)C") == "CCO"
    out = canonicalize_smiles(smiles="C(=O)O")
    assert out.canonical_smiles == "O=CO"
    assert out.formula == "CH2O2"
    assert out.inchikey == "BDAGIHXWWSANSR-UHFFFAOYSA-N"  # formic acid, PubChem CID 284


def test_element_counts_include_implicit_hydrogens_and_charges():
    assert element_counts("CCO") == {"C": 2, "H": 6, "O": 1}
    assert element_counts("[NH4+]") == {"H": 4, "N": 1}
    assert formal_charge("[NH4+]") == 1
    assert formal_charge("CC(=O)[O-].[Na+]") == 0
    assert formula("CC(=O)[O-]") == "C2H3O2-"


def test_describe_molecule_reports_weight():
    d = describe_molecule(smiles=CAFFEINE)
    assert d.molecular_weight == pytest.approx(194.19, abs=0.01)  # PubChem: 194.19 g/mol
    assert d.heavy_atoms == 14


def test_tanimoto_identity_and_ordering():
    assert tanimoto("CCO", "OCC") == 1.0
    assert tanimoto("CCO", "CCCO") > tanimoto("CCO", "c1ccccc1")
    assert 0.0 <= tanimoto("CCO", "c1ccccc1") < 0.2
    fp = morgan_fingerprint("CCO", radius=2, n_bits=2048)
    assert fp.GetNumBits() == 2048
    sim = molecular_similarity(smiles_a="CCO", smiles_b="CCO", radius=3, n_bits=1024)
    assert (sim.tanimoto, sim.radius, sim.n_bits) == (1.0, 3, 1024)


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("C1CC", "unclosed ring"),
        ("CC(C)(C)(C)(C)C", "valence for atom # 1 C"),
        ("", "empty"),
        ("CX", "syntax error"),
    ],
)
def test_invalid_smiles_carry_rdkit_reason(smiles, reason):
    with pytest.raises(InvalidSmiles, match=reason):
        to_mol(smiles)


def test_invalid_smiles_through_tool_name_field():
    with pytest.raises(InvalidInput, match="smiles_b.*unclosed ring") as info:
        molecular_similarity(smiles_a="CCO", smiles_b="C1CC")
    assert info.value.field == "smiles_b"


def test_rdkit_errors_do_not_leak_to_stderr(capfd):
    with pytest.raises(InvalidSmiles):
        to_mol("C1CC")
    assert "unclosed ring" not in capfd.readouterr().err
