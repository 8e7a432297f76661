"""Chemical checks: each failure is caught and named (balance, charge, valence, continuity, products, arrows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from labwright.tools.mechanism import Mechanism, check_arrows, check_step_balance, load_mechanism, validate_mechanism

ROOT = Path(__file__).resolve().parents[2]
TEXTBOOK = sorted((ROOT / "examples/data/mechanisms/textbook").glob("*.yaml"))
FISCHER = ROOT / "examples/data/mechanisms/textbook/fischer_esterification.yaml"


@pytest.mark.parametrize("path", TEXTBOOK, ids=lambda p: p.stem)
def test_every_textbook_mechanism_is_valid_balanced_and_continuous(path):
    report = validate_mechanism(load_mechanism(path))
    assert report.valid, [i.message for i in report.issues]
    assert report.balanced is True and report.continuous is True and report.products_formed is True
    assert report.issues == []  # not even warnings (every intermediate is used, overall reaction balanced)


def test_at_least_ten_textbook_mechanisms_are_shipped():
    names = {p.stem for p in TEXTBOOK}
    assert len(names) >= 10
    for required in (
        "fischer_esterification",
        "acetal_formation",
        "aldol_addition",
        "sn1_tert_butyl_bromide",
        "e2_isopropyl_bromide",
        "diels_alder",
        "grignard_addition",
        "wittig",
        "claisen_rearrangement",
        "pinacol_rearrangement",
    ):
        assert required in names


def _fischer_with(step_index: int, **update) -> Mechanism:
    m = load_mechanism(FISCHER)
    steps = list(m.steps)
    steps[step_index] = steps[step_index].model_copy(update=update)
    return m.model_copy(update={"steps": steps})


def test_missing_water_in_esterification_step_is_named():
    # Step 4 expels water from the protonated tetrahedral intermediate; drop the water from its products.
    m = _fischer_with(3, products=["CC(=[OH+])OC"])
    report = validate_mechanism(m)
    assert not report.valid and report.balanced is False
    msgs = [i for i in report.issues if i.check == "balance" and i.step == 4]
    assert msgs and msgs[0].message == "step 4: products lack H2O"
    assert report.step_balanced == [True, True, True, False, True]


def test_unbalanced_charge_is_named():
    m = _fischer_with(4, products=["CC(=O)OC"])  # the proton is not released: +1 -> 0 and one H short
    msgs = [i.message for i in validate_mechanism(m).issues if i.step == 5 and i.severity == "error"]
    assert msgs == ["step 5: products lack H+"]
    only_charge = check_step_balance(m.steps[0].model_copy(update={"reactants": ["[Na]"], "products": ["[Na+]"]}))
    assert only_charge == ["charge 0 -> +1 without a counter-ion (or an unwritten electron)"]


def test_hypervalent_carbon_is_named_with_its_atom():
    m = _fischer_with(1, products=["CC(O)(O)(C)[OH+]C"])  # five bonds on the carbonyl carbon
    report = validate_mechanism(m)
    assert not report.smiles_valid
    smiles_issues = [i for i in report.issues if i.check == "smiles"]
    assert len(smiles_issues) == 1
    assert smiles_issues[0].field == "steps.1.products.0"
    assert "atom #1 (C) has valence 5" in smiles_issues[0].message
    assert "hypervalent carbon" in smiles_issues[0].message
    assert report.step_balanced[1] is None  # balance is not judged on a species that does not exist


def test_aromaticity_and_syntax_errors_are_reported():
    m = _fischer_with(0, products=["c1cccc1"])
    msg = next(i.message for i in validate_mechanism(m).issues if i.check == "smiles")
    assert "cannot be kekulised" in msg and "0, 1, 2, 3, 4" in msg
    m = _fischer_with(0, products=["CC(O"])
    assert any("extra open parentheses" in i.message for i in validate_mechanism(m).issues)


def test_continuity_catches_a_species_from_nowhere():
    m = _fischer_with(1, reactants=["CC(O)=[OH+]", "CCO"], products=["CC(O)(O)[OH+]CC"])
    report = validate_mechanism(m)
    assert report.continuous is False
    assert any(i.check == "continuity" and i.step == 2 and "CCO" in i.message for i in report.errors)


def test_stated_product_never_formed():
    m = load_mechanism(FISCHER)
    m = m.model_copy(update={"products": ["CC(=O)OCC", "O"]})
    report = validate_mechanism(m)
    assert report.products_formed is False
    assert any(i.field == "products.0" and "CC(=O)OCC" in i.message for i in report.errors)


def test_arrows_must_refer_to_mapped_atoms():
    m = load_mechanism(ROOT / "examples/data/mechanisms/textbook/sn2_methyl_bromide.yaml")
    assert validate_mechanism(m).valid
    step = m.steps[0]
    bad = step.model_copy(update={"arrows": [step.arrows[0].model_copy(update={"target": [3, 9]})]})
    report = validate_mechanism(m.model_copy(update={"steps": [bad]}))
    assert any(i.check == "arrows" and "[9]" in i.message for i in report.errors)


def test_subtype_type_disagreement_is_a_warning():
    m = Mechanism.model_validate(
        {"steps": [{"intermediate": "CC", "type": "elimination", "subtype": "cycloreversion"}]}
    )
    report = validate_mechanism(m)
    assert report.valid
    assert any(i.check == "taxonomy" and "pericyclic" in i.message for i in report.issues)


def test_omebench_style_steps_skip_balance_but_check_the_last_intermediate():
    m = Mechanism.model_validate(
        {
            "reactants": ["CC=O", "CC=O"],
            "products": ["CC(O)CC=O"],
            "steps": [
                {"intermediate": "[CH2-]C=O", "subtype": "acid_base_proton_transfer"},
                {"intermediate": "CC([O-])CC=O", "subtype": "nucleophilic_addition"},
            ],
        }
    )
    report = validate_mechanism(m)
    assert report.balanced is None and report.continuous is None and report.products_formed is False
    assert report.valid  # a missing final product is only a warning for intermediate-only mechanisms


def test_curved_arrows_must_explain_the_bond_changes():
    # E2 with atom maps: O5 takes H8, the C1-H8 pair becomes the C1=C2 pi bond, C2-Br4 breaks.
    m = load_mechanism(ROOT / "examples/data/mechanisms/textbook/e2_isopropyl_bromide.yaml")
    step = m.steps[0]
    assert check_arrows(step) == []
    assert check_arrows(step.model_copy(update={"arrows": step.arrows[:2]})) == [
        "bond C2-Br4 changes by -1 in the products but no arrow accounts for it"
    ]
    wrong = step.arrows[1].model_copy(update={"target": [1, 3]})  # pi bond drawn to the wrong carbon
    msgs = check_arrows(step.model_copy(update={"arrows": [step.arrows[0], wrong, step.arrows[2]]}))
    assert "arrows change bond C1-C3 by +1 but the products show no change" in msgs
    assert "bond C1-C2 changes by +1 in the products but no arrow accounts for it" in msgs
    report = validate_mechanism(m.model_copy(update={"steps": [step.model_copy(update={"arrows": step.arrows[:2]})]}))
    assert any(i.check == "arrows" and "C2-Br4" in i.message for i in report.errors)
