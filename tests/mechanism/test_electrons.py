"""Electron and bond bookkeeping: steps that balance but are the wrong chemistry are flagged with the real reason.

Each case below was accepted as valid (or misdescribed) before the electron checks existed (issue 16, item 6).
Expected behaviour follows the curly-arrow rules of Clayden, Greeves & Warren, Organic Chemistry 2nd ed. (ch. 5:
a heterolysis gives both bonding electrons to one fragment; ch. 37: radical chain steps carry one unpaired electron).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from labwright.tools.mechanism import Mechanism, load_mechanism, validate_mechanism
from labwright.tools.mechanism._electrons import check_step_electrons, unpaired_electrons
from labwright.tools.mechanism._model import Step

ROOT = Path(__file__).resolve().parents[2]


def _one_step(reactants, products, subtype):
    step = {"reactants": reactants, "products": products, "subtype": subtype}
    return Mechanism(reactants=reactants, products=products, steps=[step])


def _errors(mech, check="electrons"):
    return [i.message for i in validate_mechanism(mech).issues if i.check == check and i.severity == "error"]


@pytest.mark.parametrize(
    ("smiles", "n"), [("[CH3]", 1), ("[Br]", 1), ("[H]", 1), ("[O][O]", 2), ("CC", 0), ("[H][H]", 0), ("[CH2]", 2)]
)
def test_unpaired_electrons_follow_rdkit_radical_perception(smiles, n):
    assert unpaired_electrons(smiles) == n


def test_heterolytic_cleavage_that_makes_two_radicals_is_flagged():
    mech = _one_step(["CBr"], ["[CH3]", "[Br]"], "heterolytic_cleavage")
    (msg,) = _errors(mech)
    assert "heterolytic cleavage" in msg and "2 more unpaired electron" in msg and "homolytic" in msg
    assert validate_mechanism(mech).valid is False
    # The same bond broken into ions is a heterolysis; into radicals under the right label it is fine too.
    assert _errors(_one_step(["CC(C)(C)Br"], ["C[C+](C)C", "[Br-]"], "heterolytic_cleavage")) == []
    assert _errors(_one_step(["BrBr"], ["[Br]", "[Br]"], "homolytic_cleavage")) == []


def test_bromine_abstraction_that_frees_a_hydrogen_atom_is_flagged():
    # HBr + propyl radical: the radical abstracts H (giving Br•), it cannot take Br and set H• free.
    wrong = _one_step(["CC[CH2]", "Br"], ["CCCBr", "[H]"], "radical_propagation")
    (msg,) = _errors(wrong)
    assert "free hydrogen atom" in msg
    assert _errors(_one_step(["CC[CH2]", "Br"], ["CCC", "[Br]"], "radical_propagation")) == []


def test_a_step_that_changes_nothing_is_flagged():
    (msg,) = _errors(_one_step(["CCO"], ["OCC"], "acid_base_proton_transfer"))
    assert "changes nothing" in msg


def test_isotope_labels_must_be_conserved():
    # A deuteron goes in and a plain proton comes out: elements balance, isotopes do not.
    (msg,) = _errors(_one_step(["CC(=O)O", "[2H+]"], ["CC(=[OH+])O"], "acid_base_proton_transfer"))
    assert "isotope" in msg and "2H" in msg
    assert _errors(_one_step(["CC(=O)O", "[2H+]"], ["CC(=[O+][2H])O"], "acid_base_proton_transfer")) == []


def test_proton_transfer_that_forms_a_heavy_atom_bond_is_flagged():
    (msg,) = _errors(_one_step(["CC=O", "O"], ["CC(O)O"], "acid_base_proton_transfer"))
    assert "form or break" in msg
    # Tautomerisation (bond orders shift, no heavy-atom bond forms) is a proton transfer in oMeBench's taxonomy.
    assert _errors(_one_step(["C=CCC1C=CC=CC1=O"], ["C=CCc1ccccc1O"], "acid_base_proton_transfer")) == []


@pytest.mark.parametrize(
    ("reactants", "products", "subtype", "needle"),
    [
        (["CI"], ["[CH3]", "[I]"], "dissociation", "unpaired electrons cannot change"),
        (["CBr"], ["[CH3+]", "[Br-]"], "homolytic_cleavage", "creates unpaired electrons"),
        (["C[CH2]", "C[CH2]"], ["CC[CH2]", "[CH3]"], "radical_coupling", "pairs two radicals"),
        (["C=C", "Br"], ["CCBr"], "radical_addition", "no unpaired electron"),
    ],
)
def test_subtype_contradicted_by_unpaired_electrons(reactants, products, subtype, needle):
    msgs = [m for _, m in check_step_electrons(Step(reactants=reactants, products=products, subtype=subtype))]
    assert any(needle in m for m in msgs), msgs


def test_four_bonded_carbocation_is_not_called_hypervalent():
    mech = _one_step(["CC(C)(C)Br"], ["C[C+](C)(C)C", "[Br-]"], "heterolytic_cleavage")
    msgs = _errors(mech, "smiles")  # the species is both a step product and the stated product
    assert msgs and all("atom #1 (C+) has 4 bonds, but a carbocation has 3" in m for m in msgs)
    assert not any("hypervalent" in m for m in msgs)


def test_cation_turned_neutral_names_the_missing_hydride_donor():
    mech = _one_step(["C[C+](C)C"], ["CC(C)C"], "nucleophilic_addition")
    (msg,) = _errors(mech, "balance")
    assert "hydride" in msg and "missing from the reactants" in msg and "charge +1 -> 0" in msg
    assert "products have extra H-" not in msg


@pytest.mark.parametrize("path", sorted((ROOT / "examples/data/mechanisms/textbook").glob("*.yaml")), ids=str)
def test_textbook_mechanisms_raise_no_electron_issue(path):
    report = validate_mechanism(load_mechanism(path))
    assert [i.message for i in report.issues if i.check == "electrons"] == []
