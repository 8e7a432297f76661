"""Reaction-network kinetics: mass action in JAX, steady states, SSA/CME, extended detailed balance, PdPC.

Parse reactions (``"E + S <-> ES; kf=1e2, kr=1"``) into a :class:`ReactionNetwork`; simulate them with a stiff,
differentiable diffrax solver; find steady states by damped Newton with conservation constraints (gradients by the
implicit-function theorem); simulate the chemical master equation by Gillespie's SSA or solve it on a truncated state
space; check extended detailed balance (Gorban & Yablonsky); read SBML models (general rate laws and rules compiled
to JAX) and write networks as SBML; and build the phosphorylation–dephosphorylation cycle with its Goldbeter–Koshland
limit and thermodynamic (ΔG = 0) equilibrium.

Units: concentrations mol/m³ (= mM), time s, rate constants (m³/mol)^(n−1)/s for reaction order n; stochastic
models count molecules, with system size Ω (molecules per mol/m³) linking the two.

Stiff kinetics and Newton solves need JAX float64 (``jax_enable_x64``); :mod:`labwright.tools` enables it
(``tools/_runtime.py``) before this package is imported.
"""

from ._balance import DetailedBalanceReport as DetailedBalanceReport
from ._balance import ReactionTerm as ReactionTerm
from ._balance import extended_detailed_balance as extended_detailed_balance
from ._cme import cme_stationary_distribution as cme_stationary_distribution
from ._fit import FitOutcome as FitOutcome
from ._fit import fit_constants as fit_constants
from ._fit import fit_sbml_parameters as fit_sbml_parameters
from ._massaction import MassActionSystem as MassActionSystem
from ._massaction import compile_network as compile_network
from ._network import Reaction as Reaction
from ._network import ReactionNetwork as ReactionNetwork
from ._network import ReactionSpec as ReactionSpec
from ._network import integer_nullspace as integer_nullspace
from ._network import parse_network as parse_network
from ._network import parse_reaction as parse_reaction
from ._network import rate_constant_unit as rate_constant_unit
from ._ode import make_batch_solver as make_batch_solver
from ._ode import make_ode_solver as make_ode_solver
from ._ode import solve_ode as solve_ode
from ._pdpc import PDPC_SPECIES as PDPC_SPECIES
from ._pdpc import PdPCParameters as PdPCParameters
from ._pdpc import gk_response_coefficient as gk_response_coefficient
from ._pdpc import gk_signal_for_fraction as gk_signal_for_fraction
from ._pdpc import goldbeter_koshland as goldbeter_koshland
from ._pdpc import hill_coefficient as hill_coefficient
from ._pdpc import pdpc_dose_response as pdpc_dose_response
from ._pdpc import pdpc_network as pdpc_network
from ._pdpc import phosphorylation_potential as phosphorylation_potential
from ._pdpc import response_coefficient as response_coefficient
from ._sbml import SbmlModel as SbmlModel
from ._sbml import make_sbml_solver as make_sbml_solver
from ._sbml import network_to_sbml as network_to_sbml
from ._sbml import read_sbml as read_sbml
from ._sbml import simulate_sbml_model as simulate_sbml_model
from ._sbml_tools import ExportSbmlInput as ExportSbmlInput
from ._sbml_tools import LoadSbmlInput as LoadSbmlInput
from ._sbml_tools import SbmlExport as SbmlExport
from ._sbml_tools import SbmlSummary as SbmlSummary
from ._sbml_tools import SbmlTimeCourse as SbmlTimeCourse
from ._sbml_tools import SimulateSbmlInput as SimulateSbmlInput
from ._sbml_tools import export_sbml as export_sbml
from ._sbml_tools import load_sbml as load_sbml
from ._sbml_tools import simulate_sbml as simulate_sbml
from ._ssa import simulate_ssa_counts as simulate_ssa_counts
from ._steady import make_steady_solver as make_steady_solver
from ._steady import solve_steady_state as solve_steady_state
from ._tools import CMEInput as CMEInput
from ._tools import CMEResult as CMEResult
from ._tools import DetailedBalanceInput as DetailedBalanceInput
from ._tools import FitRateConstantsInput as FitRateConstantsInput
from ._tools import FitResult as FitResult
from ._tools import NetworkInput as NetworkInput
from ._tools import PdPCResponse as PdPCResponse
from ._tools import PdPCResponseInput as PdPCResponseInput
from ._tools import SaturationScan as SaturationScan
from ._tools import SaturationScanInput as SaturationScanInput
from ._tools import SimulateNetworkInput as SimulateNetworkInput
from ._tools import SSAInput as SSAInput
from ._tools import SSAResult as SSAResult
from ._tools import SteadyStateInput as SteadyStateInput
from ._tools import SteadyStateResult as SteadyStateResult
from ._tools import TimeCourse as TimeCourse
from ._tools import check_detailed_balance as check_detailed_balance
from ._tools import cme_stationary as cme_stationary
from ._tools import fit_rate_constants as fit_rate_constants
from ._tools import pdpc_response as pdpc_response
from ._tools import pdpc_saturation_scan as pdpc_saturation_scan
from ._tools import simulate_network as simulate_network
from ._tools import simulate_ssa as simulate_ssa
from ._tools import steady_state as steady_state
