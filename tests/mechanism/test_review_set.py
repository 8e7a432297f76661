"""The Fischer-esterification review set (for the mechanism_review workflow) behaves as its manifest says."""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from labwright.tools.mechanism import Step, check_step_balance, load_mechanism, score_mechanism, validate_mechanism

REVIEW = Path(__file__).resolve().parents[2] / "examples/data/mechanisms/review"


def _load():
    manifest = yaml.safe_load((REVIEW / "manifest.yaml").read_text())
    ref = load_mechanism(REVIEW / manifest["reference"])
    cands = {c["label"]: load_mechanism(REVIEW / c["path"]) for c in manifest["candidates"]}
    return manifest, ref, cands


def test_candidates_rank_and_fail_as_described():
    _, ref, cands = _load()
    assert validate_mechanism(ref).issues == []
    scores = {k: score_mechanism(m, ref) for k, m in cands.items()}
    assert scores["good"].total == 1.0
    assert 1.0 > scores["missing_water"].total > scores["swapped_steps"].total > scores["alternative_route"].total
    water = [i.message for i in scores["missing_water"].validation.errors]
    assert "step 4: products lack H2O" in water
    swapped = scores["swapped_steps"]
    assert swapped.validation.continuous is False
    assert any("out of order" in d.message for d in swapped.diagnostics)
    assert validate_mechanism(cands["alternative_route"]).valid


def test_kinetic_scheme_matches_the_mechanism_and_is_thermodynamically_consistent():
    manifest, ref, _ = _load()
    k = yaml.safe_load((REVIEW / manifest["kinetics"]).read_text())
    smiles = k["species"]
    from labwright.tools.kinetics import parse_network

    net = parse_network(k["reactions"])
    assert set(net.species) == set(smiles) == set(k["initial_concentrations"])
    assert len(net.reactions) == len(ref.steps)
    product = 1.0
    for r, step in zip(net.reactions, ref.steps):
        reac = [smiles[s] for s, n in r.reactants.items() for _ in range(n)]
        prod = [smiles[s] for s, n in r.products.items() for _ in range(n)]
        assert check_step_balance(Step(reactants=reac, products=prod)) == [], r.name
        # Same species as the mechanism step (order-insensitive, canonical SMILES).
        assert sorted(map(_canon, reac)) == sorted(map(_canon, step.reactants))
        assert sorted(map(_canon, prod)) == sorted(map(_canon, step.products))
        product *= r.k_forward / r.k_reverse
    # Overall K of esterification (dimensionless) ~ 5, as stated in the file's header.
    assert math.isclose(product, 5.0, rel_tol=1e-9)


def _canon(smiles: str) -> str:
    from labwright.tools.chem import to_smiles

    return to_smiles(smiles)
