"""labwright's score_mechanism: components, totals and plain-language diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest
from labwright.errors import InvalidInput
from labwright.tools.chem import tanimoto
from labwright.tools.mechanism import (
    ScoreWeights,
    compare_mechanisms,
    load_mechanism,
    load_omebench,
    omes,
    score_mechanism,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples/data/mechanisms"
TEXTBOOK = sorted((DATA / "textbook").glob("*.yaml"))


@pytest.fixture(scope="module")
def gold():
    return {m.id: m for m in load_omebench(DATA / "omebench_gold_sample.json")}


def test_self_score_is_one_for_every_shipped_mechanism(gold):
    for m in [*gold.values(), *(load_mechanism(p) for p in TEXTBOOK)]:
        s = score_mechanism(m, m)
        assert s.total == pytest.approx(1.0, abs=1e-12), m.id
        assert all(d.status == "identical" for d in s.diagnostics)


def test_alignment_and_similarity_agree_with_omes(gold):
    # Without atom maps the two scorers share their alignment; S_total/S_partial are the rounded components.
    m = gold["NR-014"]
    steps = list(m.steps)
    steps[0] = steps[0].model_copy(update={"intermediate": steps[0].key_smiles + "C"})
    steps.pop(2)
    pred = m.model_copy(update={"steps": steps})
    s, o = score_mechanism(pred, m), omes(m, pred)
    assert round(s.breakdown.alignment, 2) == o.S_total
    assert round(s.breakdown.similarity, 2) == o.S_partial
    statuses = [d.status for d in s.diagnostics]
    assert statuses == ["similar", "identical", "missing", "identical"]
    sim = tanimoto(m.steps[0].key_smiles, steps[0].key_smiles)
    assert s.diagnostics[0].similarity == pytest.approx(sim, abs=1e-4)
    assert "has extra CH2" in s.diagnostics[0].message
    assert "no counterpart in the prediction" in s.diagnostics[2].message


def test_each_corruption_lowers_the_right_component(gold):
    ref = load_mechanism(DATA / "textbook/pinacol_rearrangement.yaml")
    base = score_mechanism(ref, ref).breakdown
    # Drop a step: alignment and logic fall; validity, balance and continuity of the remaining steps may hold.
    dropped = ref.model_copy(update={"steps": ref.steps[:3]})
    b = score_mechanism(dropped, ref).breakdown
    assert b.alignment == pytest.approx(0.75) and b.logic == pytest.approx(0.75) and b.validity == 1.0
    # Corrupt a SMILES: validity falls and the step earns nothing.
    steps = list(ref.steps)
    steps[2] = steps[2].model_copy(update={"products": ["CC(=[OH+])C(C)(C)(C)(C)C"]})
    b = score_mechanism(ref.model_copy(update={"steps": steps}), ref).breakdown
    assert b.validity < base.validity and b.alignment == pytest.approx(0.75) and b.logic == 1.0
    # An unbalanced step: only balance falls.
    steps = list(ref.steps)
    steps[1] = steps[1].model_copy(update={"products": ["CC(C)(O)[C+](C)C"]})
    s = score_mechanism(ref.model_copy(update={"steps": steps}), ref)
    assert s.breakdown.balance == pytest.approx(0.75) and s.breakdown.alignment == 1.0
    assert "products lack H2O" in s.diagnostics[1].message


def test_extra_steps_are_not_free():
    ref = load_mechanism(DATA / "textbook/aldol_addition.yaml")
    padded = ref.model_copy(update={"steps": [*ref.steps, ref.steps[-1]]})
    s = score_mechanism(padded, ref)
    assert s.breakdown.alignment == 1.0 and s.breakdown.logic == pytest.approx(3 / 4)
    assert [d.status for d in s.diagnostics].count("extra") == 1 and s.total < 1.0
    assert omes(ref, padded).L == 1.0  # oMeS's L ignores padding; ours does not


def test_fingerprint_settings_and_weights_are_configurable(gold):
    m = gold["NR-014"]
    steps = [m.steps[0].model_copy(update={"intermediate": m.steps[0].key_smiles + "C"}), *m.steps[1:]]
    pred = m.model_copy(update={"steps": steps})
    r1 = score_mechanism(pred, m, radius=1).breakdown.similarity
    r3 = score_mechanism(pred, m, radius=3).breakdown.similarity
    assert r1 > r3  # larger environments see the extra methyl in more bits
    only_align = ScoreWeights(alignment=1, similarity=0, logic=0)
    assert score_mechanism(pred, m, weights=only_align).total == pytest.approx(1 - m.weights()[0])


def test_compare_mechanisms_reports_shared_and_distinct_species():
    ref = load_mechanism(DATA / "review/reference.yaml")
    alt = load_mechanism(DATA / "review/candidate_acylium.yaml")
    c = compare_mechanisms(ref, alt)
    assert "CC#[O+]" in c.only_in_second and "COC(C)=O" in c.shared_species
    assert 0 < c.similarity < 0.7 and c.omes_second_vs_first["S_total"] == 0.2


def test_soundness_multiplies_agreement_and_weights_must_not_all_be_zero():
    ref = load_mechanism(DATA / "review/reference.yaml")
    bad = load_mechanism(DATA / "review/candidate_missing_water.yaml")
    s = score_mechanism(bad, ref)
    # same steps as the reference, one of five unbalanced: the agreement is perfect, soundness is 4/5
    assert s.breakdown.alignment == 1.0 and s.total == pytest.approx(s.breakdown.balance) == pytest.approx(0.8)
    with pytest.raises(InvalidInput, match="weights"):
        score_mechanism(bad, ref, weights=ScoreWeights(alignment=0, similarity=0, logic=0))
