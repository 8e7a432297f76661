"""Workloads shared by ``benchmarks/kinetics.py`` (CPU, against the peers) and ``benchmarks/kinetics_gpu.py``.

Importing this module needs only NumPy and :mod:`labwright.tools.kinetics` (no libRoadRunner, no GillesPy2), so the
accelerator benchmark runs the very workloads the CPU benchmark compares with the peers. Run directly, it does nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from labwright.tools.kinetics import compile_network, parse_network

SBML_DIR = Path(__file__).resolve().parents[1] / "examples" / "data" / "sbml"

# BIOMD0000000010 parameter scan: the two rate parameters varied, the output grid, and the tolerances at which
# labwright's Rodas4 matches libRoadRunner at rtol 1e-8 in accuracy (benchmarks/kinetics.py [2]); atol in nM.
BATCH_MODEL = "BIOMD0000000010"
BATCH_PARAMETERS = ("J0.V1", "J9.V10")
BATCH_TIMES = np.linspace(0.0, 4000.0, 101)
BATCH_RTOL, BATCH_ATOL = 1e-6, 1e-6 * 1e-4 * 300.0


def stiff_reactions() -> list[str]:
    """The 20-species stiff network (isomerisation chains, dimerisations, one exchange; constants seeded)."""
    rng = np.random.default_rng(0)

    def k():
        return float(10 ** rng.uniform(-2, 4))

    rx = [f"A{i} <-> A{i + 1}; kf={k():.4g}, kr={k():.4g}" for i in range(1, 10)]
    rx += [f"2 A{i} <-> D{i}; kf={k():.4g}, kr={k():.4g}" for i in range(1, 11)]
    rx += [f"D{i} <-> D{i + 1}; kf={k():.4g}, kr={k():.4g}" for i in range(1, 10)]
    rx.append("A10 + D1 -> A1 + D10; kf=0.5")
    return rx


def stiff_problem() -> tuple:
    """``(network, system, x0, ts)``: all mass in A1 at t = 0, 41 outputs log-spaced over 1e-4…1000 s."""
    net = parse_network(stiff_reactions())
    system = compile_network(net)
    x0 = np.zeros(system.n_species)
    x0[0] = 1.0
    return net, system, x0, np.concatenate([[0.0], np.logspace(-4, 3, 40)])


def stiff_constant_sets(system, n_sets: int) -> np.ndarray:
    """``n_sets`` rate-constant vectors of the stiff network, each constant ×/÷ 1.5 log-uniform (seeded)."""
    rng = np.random.default_rng(7)
    return system.k[None, :] * 1.5 ** rng.uniform(-1.0, 1.0, size=(n_sets, len(system.k)))


def batch_parameter_sets(model, n_sets: int) -> np.ndarray:
    """``n_sets`` parameter vectors of the SBML model with :data:`BATCH_PARAMETERS` ×/÷ 1.5 log-uniform (seeded)."""
    idx = np.array([model.parameter_index(n) for n in BATCH_PARAMETERS])
    rng = np.random.default_rng(5)
    p_sets = np.repeat(model.parameter_values[None, :], n_sets, axis=0)
    p_sets[:, idx] *= 1.5 ** rng.uniform(-1.0, 1.0, size=(n_sets, len(idx)))
    return p_sets


def ssa_problem() -> tuple:
    """``(system, n0, c, ts, omega)``: 2A ⇌ B, B → C at Ω = 1000 (A0 = 1000 molecules), 6 samples over 0…5 s."""
    system = compile_network(parse_network(["2 A <-> B; kf=1, kr=0.5", "B -> C; kf=0.2"]))
    omega = 1000.0
    return (
        system,
        np.array([1000.0, 0.0, 0.0]),
        system.stochastic_constants(system.k, omega),
        np.linspace(0.0, 5.0, 6),
        omega,
    )
