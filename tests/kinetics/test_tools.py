"""The kinetics tools through the registry: contracts, artifacts, errors naming the field."""

from __future__ import annotations

import pytest
from labwright.errors import InvalidInput
from labwright.tools import call_tool, get_tool, list_tools

KINETICS_TOOLS = {
    "simulate_network",
    "steady_state",
    "fit_rate_constants",
    "check_detailed_balance",
    "pdpc_response",
    "pdpc_saturation_scan",
    "simulate_ssa",
    "cme_stationary",
}


def test_tools_are_registered_with_schemas():
    assert KINETICS_TOOLS <= set(list_tools())
    for name in KINETICS_TOOLS:
        spec = get_tool(name)
        assert spec.side_effect == "none"
        assert spec.openai_schema()["function"]["parameters"]["type"] == "object"


def test_simulate_network_writes_png(tmp_path):
    png = tmp_path / "figs" / "tc.png"
    out = call_tool(
        "simulate_network",
        {
            "reactions": ["E + S <-> ES; kf=100, kr=1", {"equation": "ES -> E + P", "k_forward": 10.0}],
            "initial": {"E": 0.01, "S": 1.0},
            "t_end": 200.0,
            "n_points": 11,
            "plot_path": str(png),
        },
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and len(out.plot_sha256) == 64
    assert out.final["P"] == pytest.approx(1.0, rel=1e-6)  # all substrate converted
    assert out.conservation_laws == {"E + ES": pytest.approx(0.01), "S + ES + P": pytest.approx(1.0)}
    assert out.rate_constant_units == {"r1.k_forward": "m³/(mol·s)", "r1.k_reverse": "1/s", "r2.k_forward": "1/s"}


def test_check_detailed_balance_tool_on_plain_strings():
    out = call_tool(
        "check_detailed_balance", {"reactions": ["A <-> B; kf=1, kr=2", "B <-> C; kf=3, kr=4", "C <-> A; kf=5, kr=1"]}
    )
    assert out.satisfied is False and [t.reaction for t in out.violated_cycle] == ["r1", "r2", "r3"]


def test_saturation_scan_tool():
    out = call_tool("pdpc_saturation_scan", {"J": [0.01, 100.0]})
    assert out.response_coefficient[0] < 1.2 < 79 < out.response_coefficient[1] < 81
    assert out.hill_coefficient[1] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("tool", "args", "field"),
    [
        ("simulate_network", {"reactions": ["A -> B; kf=1"], "initial": {"C": 1.0}, "t_end": 1.0}, "initial.C"),
        ("simulate_network", {"reactions": ["A -> B"], "initial": {"A": 1.0}, "t_end": 1.0}, "reactions.r1.k_forward"),
        ("simulate_network", {"reactions": ["A -> B; kf=1"], "initial": {"A": -1.0}, "t_end": 1.0}, "initial.A"),
        ("simulate_network", {"reactions": ["A -> B; kf=1"], "initial": {"A": 1.0}, "t_end": 0.0}, "t_end"),
        (
            "simulate_network",
            {"reactions": ["A -> B; kf=1"], "initial": {"A": 1.0}, "t_end": 1.0, "plot_path": "x.jpg"},
            "plot_path",
        ),
        ("steady_state", {"reactions": ["A + 2.5 B -> C; kf=1"], "initial": {"A": 1.0}}, "reactions.0"),
        ("check_detailed_balance", {"reactions": ["A <-> B", "A <-> B"]}, "reactions.1 (r2)"),
        (
            "fit_rate_constants",
            {"reactions": ["A -> B; kf=1"], "initial": {"A": 1.0}, "times": [0.0, 1.0], "observed": {"Z": [1.0, 0.5]}},
            "observed.Z",
        ),
        ("pdpc_response", {"parameters": {"a1": -1.0}}, "parameters.a1"),
        ("simulate_ssa", {"reactions": ["0 -> X; kf=1"], "initial": {"X": -3}, "t_end": 1.0}, "initial.X"),
        (
            "cme_stationary",
            {"reactions": ["0 -> X; kf=1", "X -> 0; kf=1"], "initial": {"X": 0}, "max_counts": {"Y": 3}},
            "max_counts.Y",
        ),
    ],
)
def test_bad_input_names_the_field(tool, args, field):
    with pytest.raises(InvalidInput) as err:
        call_tool(tool, args)
    assert err.value.field == field, str(err.value)
    assert err.value.tool == tool
