"""The persistent compilation cache under LABWRIGHT_HOME (tools/_runtime.py) that makes a cold first fit fast.

A simulation with concrete inputs must compile to a program without host callbacks, or JAX refuses to cache it; the
traced path must keep its runtime value checks. Each case runs in a fresh process, as a cold start does.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import pytest
from labwright.tools.electrochem import ECParams, GridSpec, cv_current, cv_waveform

CHILD = """
from labwright.tools.electrochem import ECParams, GridSpec, cv_current, cv_waveform
t, E = cv_waveform(-0.3, 0.3, 1.0, dE=0.01)
print(float(cv_current(ECParams(), E, t[1], grid=GridSpec(h0=0.02, gamma=1.3), unroll=1).max()))
"""


def _run(home, **env):
    # Without the test session's shared cache folder (tests/conftest.py), so that labwright picks its own.
    inherited = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env={**inherited, "LABWRIGHT_HOME": str(home), **env},
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # two fresh processes (imports dominate)
def test_concrete_simulation_is_cached_and_reused(tmp_path):
    first = _run(tmp_path)
    entries = sorted(p.name for p in (tmp_path / "jax_cache").iterdir() if "simulate" in p.name)
    assert entries, "the simulator's program was not written to LABWRIGHT_HOME/jax_cache"
    # a second fresh process reads the entry back (same key, nothing new written) and gets the same current
    assert _run(tmp_path) == first
    assert sorted(p.name for p in (tmp_path / "jax_cache").iterdir() if "simulate" in p.name) == entries


@pytest.mark.slow  # a fresh process
def test_cache_can_be_switched_off(tmp_path):
    _run(tmp_path, LABWRIGHT_COMPILE_CACHE="0")
    assert not (tmp_path / "jax_cache").exists()


def test_traced_values_are_still_checked_inside_jit():
    # under the caller's jit the parameters are traced, so the compiled runtime check must still name the field
    t, E = cv_waveform(-0.3, 0.3, 1.0, dE=0.01)
    run = jax.jit(lambda d: cv_current(ECParams(D_O=d), E, t[1], grid=GridSpec(h0=0.02, gamma=1.3), unroll=1))
    with pytest.raises(Exception, match="D_O"):
        jax.block_until_ready(run(-1e-9))
