"""Loading and saving: oMeBench records (Gold and Template variants), our YAML/JSON, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labwright.errors import InvalidInput, MalformedFile
from labwright.tools.mechanism import (
    STEP_TYPES,
    SUBTYPES,
    load_mechanism,
    load_omebench,
    mechanism_from_dict,
    save_mechanism,
    save_omebench,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples/data/mechanisms/omebench_gold_sample.json"


def test_gold_sample_spans_types_subtypes_and_levels():
    mechs = load_omebench(SAMPLE)
    assert 18 <= len(mechs) <= 25
    assert {s.type for m in mechs for s in m.steps} == set(STEP_TYPES)
    assert {s.subtype for m in mechs for s in m.steps} == set(SUBTYPES)
    assert {m.level for m in mechs} == {"easy", "medium", "hard"}
    for m in mechs:
        assert abs(sum(m.weights()) - 1.0) < 1e-9
        assert m.source == "oMeBench"
    doc = json.loads(SAMPLE.read_text())
    assert "MIT" in doc["_license"] and "2510.07731" in doc["_citation"]
    assert (SAMPLE.parent / "LICENSE.oMeBench").read_text().startswith("MIT License")


def test_template_key_variants_are_read():
    # Shapes copied from oMeBench's oMe_Template.json: misspelt description key, rationale, missing subtype,
    # synonyms of subtypes and a type that is not one of the 11.
    record = {
        "reaction_id": "NR-X",
        "name": "t",
        "level": "Medium",
        "reactants_smiles": ["C([*:1])=O"],
        "products_smiles": ["C([*:1])O"],
        "description": "short",
        "mechnism_text_description": "long text",
        "mechanism": [
            {
                "step": 1,
                "type": "coordination",
                "subtype": "lewis_acid_base_coordination",
                "intermediate_smiles": "C([*:1])=O",
                "rationale": "why",
                "step_weight": 0,
            },
            {
                "step": 2,
                "type": "proton_transfer",
                "intermediate_smiles": "C([*:1])O",
                "rationale": "why",
                "step_weight": 0,
            },
            {
                "step": 3,
                "type": "aromatization",
                "subtype": "dehydration",
                "intermediate_smiles": "C([*:1])O",
                "step_weight": 0,
            },
        ],
    }
    (m,) = load_omebench([record])
    assert m.level == "medium" and "long text" in m.description and m.conditions is None
    assert [s.subtype for s in m.steps] == ["coordination", "acid_base_proton_transfer", "leaving_group_elimination"]
    assert [s.type for s in m.steps] == ["coordination", "proton_transfer", "elimination"]
    # The Template file's all-zero step weights are placeholders: scoring falls back to uniform weights.
    assert m.steps[0].description == "why" and m.weights() == [1 / 3] * 3


def test_roundtrip_yaml_json_and_omebench(tmp_path):
    m = load_mechanism(ROOT / "examples/data/mechanisms/textbook/e2_isopropyl_bromide.yaml")
    for suffix in (".yaml", ".json"):
        path = save_mechanism(m, tmp_path / f"m{suffix}")
        assert load_mechanism(path) == m
    path = save_omebench([m], tmp_path / "o.json")
    (back,) = load_omebench(path)
    assert back.steps[0].intermediate == "C=CC" and back.steps[0].subtype == "proton_elimination"
    assert not list(tmp_path.glob(".*.tmp"))


def test_malformed_json_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": [\n  {"products": ["C"],}\n]}')
    with pytest.raises(MalformedFile, match="line 2") as err:
        load_mechanism(bad)
    assert err.value.field == "path"
    with pytest.raises(MalformedFile):
        load_omebench(bad)
    yaml_bad = tmp_path / "bad.yaml"
    yaml_bad.write_text("steps: [\n  - {")
    with pytest.raises(MalformedFile, match="YAML"):
        load_mechanism(yaml_bad)
    with pytest.raises(MalformedFile, match="cannot read"):
        load_mechanism(tmp_path / "absent.yaml")


def test_empty_mechanism_names_steps():
    with pytest.raises(InvalidInput) as err:
        mechanism_from_dict({"reactants": ["C"], "steps": []})
    assert err.value.field == "steps"
    with pytest.raises(InvalidInput) as err:
        load_omebench([{"reaction_id": "x", "mechanism": []}])
    assert err.value.field == "records.0.mechanism"


def test_unknown_subtype_names_the_field_and_suggests():
    with pytest.raises(InvalidInput, match="did you mean nucleophilic_addition") as err:
        mechanism_from_dict(
            {"steps": [{"intermediate": "C"}, {"intermediate": "CO", "subtype": "nucleophilc_addition"}]}
        )
    assert err.value.field == "steps.1.subtype"
    with pytest.raises(InvalidInput) as err:
        load_omebench([{"mechanism": [{"type": "addition", "subtype": "teleportation", "intermediate_smiles": "C"}]}])
    assert err.value.field == "records.0.mechanism.0.subtype"


def test_other_bad_input():
    with pytest.raises(InvalidInput) as err:
        mechanism_from_dict({"steps": [{"subtype": "dissociation"}]})  # no species at all
    assert err.value.field == "steps.0"
    with pytest.raises(InvalidInput) as err:
        mechanism_from_dict({"steps": [{"intermediate": "C", "weight": 1.5}]})
    assert err.value.field == "steps.0.weight"
    with pytest.raises(InvalidInput) as err:
        mechanism_from_dict(["not", "a", "mapping"])
    with pytest.raises(InvalidInput) as err:
        mechanism_from_dict({"level": "impossible", "steps": [{"intermediate": "C"}]})
    assert err.value.field == "level"


def test_silver_style_jsonl(tmp_path):
    lines = [json.dumps(r) for r in json.loads(SAMPLE.read_text())["records"][:3]]
    path = tmp_path / "silver.jsonl"
    path.write_text("\n".join(lines) + "\n\n")
    assert [m.id for m in load_omebench(path)] == [json.loads(x)["reaction_id"] for x in lines]
    path.write_text(lines[0] + "\n{broken\n")
    with pytest.raises(MalformedFile, match="line 2"):
        load_omebench(path)
