"""The modal time stepper solves exactly the tridiagonal systems of the finite-volume/BDF2 scheme.

Reference: the same scheme written the textbook way, a Python loop over time calling ``scipy.linalg.solve_banded``
for each variable and step (``banded_reference``). Agreement is required to 1e-9 of the peak current: the modal form
is an exact change of basis, so only round-off may differ. Also checks the time-stepping order (Euler first order,
BDF2 second) on the Randles–Ševčík peak (Bard & Faulkner 2nd ed. eq. 6.2.19).
"""

from __future__ import annotations

import numpy as np
import pytest
from labwright.tools.electrochem import ECParams, GridSpec, cv_current, cv_peaks, cv_waveform
from labwright.tools.electrochem._solver import banded_reference
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT

F_RT = FARADAY / (GAS_CONSTANT * 298.15)
D, AREA = 1e-9, 1e-6
GRID = GridSpec(h0=2e-3, gamma=1.2)


@pytest.mark.parametrize(("kinetics", "k0"), [("bv", 3e-5), ("nernst", 1.0)])
def test_modal_solver_equals_banded_loop(kinetics, k0):
    t, E = cv_waveform(-0.4, 0.4, 0.1, dE=8e-3)
    p = ECParams(k0=k0, alpha=0.4, D_O=D, D_R=D, area=AREA)
    i = np.asarray(cv_current(p, E, t[1], kinetics=kinetics, grid=GRID, unroll=1))
    L = np.sqrt(D * t[-1])
    J = banded_reference(F_RT * E, k0 * L / D, 0.4, 1.0, 1.0, GRID, kinetics)
    np.testing.assert_allclose(i, J * FARADAY * AREA * D / L, rtol=0, atol=1e-9 * np.max(np.abs(i)))


def test_bdf2_is_second_order_and_euler_first():
    # Peak potential of the reversible wave, Ep - E0 = 1.109 RT/F = 28.49 mV (B&F eq. 6.2.21), at 4 and 2 mV per
    # step: Euler's lag halves with the step (first order; measured 1.06 -> 0.51 mV), BDF2 is within 0.05 mV already.
    exact = 1.109 / F_RT
    grid = GridSpec(h0=2e-4, gamma=1.05)
    lag = {}
    for scheme in ("euler", "bdf2"):
        for dE in (4e-3, 2e-3):
            t, E = cv_waveform(-0.4, 0.4, 0.1, dE=dE)
            i = np.asarray(cv_current(ECParams(D_O=D, D_R=D, area=AREA), E, t[1], kinetics="nernst", grid=grid,
                                      scheme=scheme, unroll=1))  # fmt: skip
            lag[scheme, dE] = cv_peaks(E, i).anodic.E_p - exact
    assert lag["euler", 4e-3] / lag["euler", 2e-3] == pytest.approx(2.0, rel=0.15)
    assert abs(lag["bdf2", 4e-3]) < 5e-5 and abs(lag["bdf2", 2e-3]) < 5e-5
