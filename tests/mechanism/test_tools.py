"""The registered mechanism tools (mechanist role) and their input validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from labwright.errors import InvalidInput, MalformedFile
from labwright.tools import call_tool, get_tool, list_tools

DATA = Path(__file__).resolve().parents[2] / "examples/data/mechanisms"
REF = str(DATA / "review/reference.yaml")
BAD = str(DATA / "review/candidate_missing_water.yaml")


def test_tools_are_registered():
    for name in ("validate_mechanism", "score_mechanism", "compare_mechanisms", "omes_score"):
        assert name in list_tools()
        spec = get_tool(name)
        assert spec.side_effect == "none"
        assert spec.openai_schema()["function"]["name"] == name


def test_validate_tool_names_the_problem():
    out = call_tool("validate_mechanism", {"path": BAD})
    assert not out.valid and any(i.message == "step 4: products lack H2O" for i in out.issues)


def test_score_and_compare_tools_from_paths_and_inline():
    out = call_tool("score_mechanism", {"prediction": {"path": BAD}, "reference": {"path": REF}})
    # one unbalanced step of five: soundness 0.8 multiplies a perfect agreement
    assert out.total == pytest.approx(0.8) and out.breakdown.balance == pytest.approx(0.8)
    inline = {"steps": [{"intermediate": "CC(O)=[OH+]", "subtype": "acid_base_proton_transfer"}]}
    out = call_tool("omes_score", {"gold": {"path": REF}, "prediction": {"mechanism": inline}})
    assert out.S_total == 0.2 and out.V == 1.0 and out.L == 0.2
    out = call_tool("compare_mechanisms", {"first": {"path": REF}, "second": {"path": REF}})
    assert out.similarity == 1.0


def test_tool_input_errors_name_the_field(tmp_path):
    with pytest.raises(InvalidInput, match="exactly one"):
        call_tool("validate_mechanism", {})
    with pytest.raises(InvalidInput) as err:
        call_tool("validate_mechanism", {"mechanism": {"steps": []}})
    assert err.value.field == "mechanism.steps" and err.value.tool == "validate_mechanism"
    with pytest.raises(InvalidInput) as err:
        call_tool("validate_mechanism", {"mechanism": {"steps": [{"intermediate": "C", "subtype": "magic"}]}})
    assert err.value.field == "mechanism.steps.0.subtype"
    bad = tmp_path / "m.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInput, match="line 1: not valid JSON") as err:
        call_tool("score_mechanism", {"prediction": {"path": str(bad)}, "reference": {"path": REF}})
    assert err.value.tool == "score_mechanism" and err.value.field == "prediction.path"
    with pytest.raises(MalformedFile):
        get_tool("validate_mechanism").func(get_tool("validate_mechanism").validate({"path": str(bad)}))
    with pytest.raises(InvalidInput) as err:
        call_tool("score_mechanism", {"prediction": {"path": REF}, "reference": {"path": REF}, "tau": 1.5})
    assert err.value.field == "tau"
