import json

import labwright
import pytest
from labwright.errors import InvalidInput, UnknownTool
from labwright.tools import registry
from labwright.tools.fields import PositiveFloat, ToolModel
from labwright.tools.registry import Cost, call_tool, get_tool, list_tools, openai_tools, tool
from pydantic import Field


class _Rate(ToolModel):
    k: PositiveFloat = Field(description="Rate constant, 1/s")
    t: PositiveFloat = Field(default=1.0, description="Time, s")


class _Decay(ToolModel):
    fraction_left: float


@pytest.fixture
def decay_tool():
    import math

    @tool(name="_test_decay", cost=lambda inp: Cost(seconds=inp.k * inp.t))
    def decay(inp: _Rate) -> _Decay:
        """First-order decay: fraction left after time t.

        Parameters
        ----------
        inp
            rate and time
        """
        return _Decay(fraction_left=math.exp(-inp.k * inp.t))

    yield decay
    registry._REGISTRY.pop("_test_decay")


def test_list_tools_includes_chemistry_helpers():
    names = labwright.list_tools()
    assert {"canonicalize_smiles", "describe_molecule", "molecular_similarity"} <= set(names)
    assert names == sorted(names)


def test_tool_is_a_plain_function_with_keywords_or_model(decay_tool):
    assert decay_tool(k=2.0, t=0.5).fraction_left == pytest.approx(0.36787944117, rel=1e-10)
    assert decay_tool(_Rate(k=1.0)).fraction_left == pytest.approx(0.36787944117, rel=1e-10)
    with pytest.raises(TypeError, match="either an input model or keyword"):
        decay_tool(_Rate(k=1.0), k=2.0)


def test_description_is_docstring_summary_without_sections(decay_tool):
    spec = get_tool("_test_decay")
    assert spec.description == "First-order decay: fraction left after time t."
    schema = spec.openai_schema()
    assert schema["type"] == "function"
    assert schema["function"]["name"] == "_test_decay"
    assert schema["function"]["parameters"]["properties"]["k"]["description"] == "Rate constant, 1/s"
    assert "k" in schema["function"]["parameters"]["required"]
    json.dumps(openai_tools())  # every registered schema is JSON-serialisable


def test_cost_estimate_uses_validated_input(decay_tool):
    assert get_tool("_test_decay").estimate_cost({"k": 3.0, "t": 2.0}) == Cost(seconds=6.0)


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        ({"k": -1.0}, "k", "greater than 0"),
        ({"k": float("nan")}, "k", "finite"),
        ({}, "k", "required field is missing"),
        ({"k": 1.0, "kk": 2.0}, "kk", "unexpected field"),
        ({"k": "fast"}, "k", "valid number"),
    ],
)
def test_invalid_arguments_name_the_field(decay_tool, args, field, reason):
    with pytest.raises(InvalidInput, match=reason) as info:
        call_tool("_test_decay", args)
    assert info.value.field == field
    assert info.value.tool == "_test_decay"
    assert f"field '{field}'" in str(info.value)


def test_non_object_arguments_are_rejected(decay_tool):
    with pytest.raises(InvalidInput, match="JSON object"):
        get_tool("_test_decay").run([1, 2])  # type: ignore[arg-type]


def test_unknown_tool_lists_close_names():
    with pytest.raises(UnknownTool, match="did you mean canonicalize_smiles") as info:
        get_tool("canonicalise_smiles")
    assert "canonicalize_smiles" in info.value.suggestions
    with pytest.raises(UnknownTool) as info:
        call_tool("zzzz", {})
    assert info.value.suggestions == []
    assert isinstance(info.value, LookupError)


def test_registration_rejects_non_model_signatures_and_duplicate_names():
    with pytest.raises(TypeError, match="pydantic model"):

        @tool(name="_bad")
        def bad(x: int) -> _Decay: ...

    with pytest.raises(ValueError, match="already registered"):

        @tool(name="canonicalize_smiles")
        def other(inp: _Rate) -> _Decay: ...


def test_list_tools_all_have_models_and_known_side_effects():
    for name in list_tools():
        spec = get_tool(name)
        assert spec.side_effect in ("none", "writes_store", "external")
        assert spec.description, name
