"""Physically impossible simulator input raises InvalidInput naming the field (issue 4, DESIGN.md errors)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem import ECParams, GridSpec, cv_current, cv_waveform, step_waveform
from labwright.tools.registry import call_tool

T_E = cv_waveform(-0.3, 0.3, 0.1, dE=5e-3)


@pytest.mark.parametrize(
    ("field", "value"),
    [("D_O", -1e-9), ("D_R", 0.0), ("E0", float("nan")), ("k0", -1.0), ("alpha", 1.2), ("c_bulk", float("inf"))],
)
def test_bad_parameter_names_the_field(field, value):
    t, E = T_E
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams().replace(**{field: value}), E, t[1])
    assert err.value.field == field


def test_bad_program_and_settings():
    t, E = T_E
    with pytest.raises(InvalidInput, match="dt"):
        cv_current(ECParams(), E, 0.0)
    bad = E.copy()
    bad[7] = np.nan
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams(), bad, t[1])
    assert err.value.field == "E"
    with pytest.raises(InvalidInput) as err:
        cv_waveform(-0.3, 0.3, 0.0)
    assert err.value.field == "scan_rate"
    with pytest.raises(InvalidInput) as err:
        step_waveform(0.3, -1.0, 1e-3)
    assert err.value.field == "durations"
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams(), E, t[1], mechanism="ECEC")  # not a mechanism here (ECE is)
    assert err.value.field == "mechanism"
    with pytest.raises(InvalidInput) as err:
        GridSpec(gamma=0.9)
    assert err.value.field == "grid.gamma"
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams(), E, t[1], geometry="spherical")
    assert err.value.field == "radius"


def test_traced_bad_value_is_caught_inside_jit():
    # under jit the values are not known in Python; the compiled check still names the field
    t, E = T_E

    @jax.jit
    def run(D_O):
        return cv_current(ECParams(D_O=D_O), E, t[1])

    with pytest.raises(Exception, match="D_O"):
        jax.block_until_ready(run(-1e-9))


def test_tools_reject_bad_input_naming_the_field():
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.0})
    assert err.value.field == "scan_rate"
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "D_O": -1e-9})
    assert err.value.field == "D_O"
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "E0": float("nan")})
    assert err.value.field == "E0"
    # peaks asked for, but the window never reaches E0 = 0.5 V
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "E0": 0.5})
    assert err.value.field == "E_vertex" and "never crosses E0" in err.value.reason
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_ca", {"E_initial": -0.3, "E_steps": [0.3], "durations": [1.0, 2.0], "dt": 1e-3})
    assert err.value.field == "durations"


def test_traced_checks_name_each_field_from_one_compiled_program():
    # every input traced (parameters, program, step), so each bad value is caught by the one compiled check vector
    # and must still be reported under its own field; a valid call through the same program runs clean
    t, E = T_E
    grid = GridSpec(h0=0.02, gamma=1.3)
    run = jax.jit(lambda p, E, dt: cv_current(p, E, dt, grid=grid, unroll=1))
    good = ECParams()
    assert np.all(np.isfinite(np.asarray(run(good, E, t[1]))))
    nan_E = E.copy()
    nan_E[5] = np.nan
    cases = [
        ("alpha", good.replace(alpha=1.2), E, t[1]),  # the upper bound alpha < 1
        ("T", good.replace(T=0.0), E, t[1]),  # strict lower bound
        ("c_other", good.replace(c_other=-0.1), E, t[1]),  # non-strict lower bound (0 is allowed)
        ("E0", good.replace(E0=float("nan")), E, t[1]),  # no bound, but must be finite
        ("R_u", good.replace(R_u=5.0), E, t[1]),  # nonzero while the ohmic-drop solve is off
        ("dt", good, E, -t[1]),
        ("E", good, nan_E, t[1]),
    ]
    for field, p, program, dt in cases:
        with pytest.raises(Exception, match=f"field '{field}'"):
            jax.block_until_ready(run(p, program, dt))
    assert np.all(np.isfinite(np.asarray(run(good.replace(c_other=0.0, T=310.0), E, t[1]))))
