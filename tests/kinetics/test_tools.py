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
        ("check_detailed_balance", {"reactions": ["r: A <-> B", "r: B <-> C"]}, "reactions.1"),
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


def test_steady_state_tool_log_sensitivities_match_closed_form():
    # Closed A <-> B with total T: B* = T kf/(kf + kr), A* = T kr/(kf + kr), so ∂ln B*/∂ln kf = kr/(kf + kr) = 0.2,
    # ∂ln B*/∂ln kr = −0.2, ∂ln A*/∂ln kf = −kf/(kf + kr) = −0.8 (kf = 2, kr = 0.5 1/s). Tolerance 1e-8.
    out = call_tool(
        "steady_state", {"reactions": ["A <-> B; kf=2, kr=0.5"], "initial": {"A": 1.0}, "sensitivities": True}
    )
    assert out.concentrations["B"] == pytest.approx(0.8, rel=1e-10) and out.relative_residual < 1e-9
    s = out.log_sensitivities
    assert s["B"]["r1.k_forward"] == pytest.approx(0.2, abs=1e-8)
    assert s["B"]["r1.k_reverse"] == pytest.approx(-0.2, abs=1e-8)
    assert s["A"]["r1.k_forward"] == pytest.approx(-0.8, abs=1e-8)
    assert out.conservation_laws == {"A + B": pytest.approx(1.0)}


def test_ssa_and_cme_tools_agree_on_birth_death():
    # Birth–death 0 -> X (k_b = 20 1/s), X -> 0 (k_d = 2 1/s): stationary Poisson(10) (Gardiner, Handbook of
    # Stochastic Methods, §7.1). CME: mean = variance = 10 to 1e-9 (truncation at 80 leaves ~1e-30). SSA at t = 10 s
    # (relaxation e^{−20}): 2000 runs, mean within 4 standard errors (4·√(10/2000) ≈ 0.28).
    reactions = ["0 -> X; kf=20", "X -> 0; kf=2"]
    cme = call_tool("cme_stationary", {"reactions": reactions, "initial": {"X": 0}, "max_counts": {"X": 80}})
    assert cme.mean["X"] == pytest.approx(10.0, rel=1e-9) and cme.fano_factor["X"] == pytest.approx(1.0, rel=1e-9)
    assert cme.boundary_mass < 1e-20 and cme.n_states == 81
    ssa = call_tool(
        "simulate_ssa",
        {"reactions": reactions, "initial": {"X": 0}, "t_end": 10.0, "n_points": 3, "n_trajectories": 2000, "seed": 1},
    )
    assert abs(ssa.mean["X"][-1] - cme.mean["X"]) < 4 * (10.0 / 2000) ** 0.5
    assert ssa.std["X"][-1] ** 2 == pytest.approx(10.0, rel=0.15)  # SE of a variance ≈ √(2/n) ≈ 3 %; 5 SE
    assert len(ssa.final_counts["X"]) == 1000  # capped


@pytest.mark.slow
def test_pdpc_response_tool_writes_dose_response_png(tmp_path):
    # Default PdPC (J1 = J2 = 0.1, irreversible catalysis): GK R = 81·0.2²/1.0² = 3.24 (Goldbeter & Koshland 1981);
    # the mass-action sweep agrees within 2 % and with the GK curve within 1e-3 (enzymes 1e-4 of substrate).
    png = tmp_path / "dose.png"
    out = call_tool("pdpc_response", {"n_points": 40, "plot_path": str(png)})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.plot == str(png) and len(out.plot_sha256) == 64
    assert out.response_coefficient_gk == pytest.approx(3.24, rel=1e-12)
    assert out.response_coefficient_mass_action == pytest.approx(3.24, rel=0.02)
    assert out.max_deviation_from_gk < 1e-3 and "zero-order" not in out.message


@pytest.mark.slow
def test_fit_rate_constants_tool_recovers_truth_and_plots(tmp_path):
    # Noise-free A -> B data with k = 0.7 1/s (A = e^{−kt}); from k = 0.2 the fit must return 0.7 within 1e-4 relative.
    times = [0.5 * i for i in range(1, 11)]
    data = [2.718281828459045 ** (-0.7 * t) for t in times]
    png = tmp_path / "fit.png"
    out = call_tool(
        "fit_rate_constants",
        {
            "reactions": ["A -> B; kf=0.2"],
            "initial": {"A": 1.0},
            "times": times,
            "observed": {"A": data},
            "solver": "Tsit5",  # not stiff; the explicit solver compiles its reverse mode fastest
            "plot_path": str(png),
        },
    )
    assert out.rate_constants["r1.k_forward"] == pytest.approx(0.7, rel=1e-4)
    assert out.initial_constants == {"r1.k_forward": 0.2} and out.r_squared > 0.9999
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
