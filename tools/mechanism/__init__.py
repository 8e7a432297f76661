"""Organic reaction mechanisms: model, oMeBench I/O, chemical checks, oMeS and labwright scoring.

A :class:`Mechanism` is an ordered list of :class:`Step` objects, written either in full (reactants -> products) or
oMeBench-style (one key intermediate per step). :func:`validate_mechanism` checks SMILES, balance, continuity and
products with messages that name the problem; :func:`omes` reproduces oMeBench's published score exactly;
:func:`score_mechanism` adds chemical checks and explains each step. Tools: ``validate_mechanism``,
``score_mechanism``, ``compare_mechanisms``, ``omes_score`` (mechanist role).
"""

from . import _tools as _tools  # registers the tools
from ._align import Alignment as Alignment
from ._align import align as align
from ._checks import CheckIssue as CheckIssue
from ._checks import ValidationReport as ValidationReport
from ._checks import check_arrows as check_arrows
from ._checks import check_step_balance as check_step_balance
from ._checks import explain_smiles_error as explain_smiles_error
from ._checks import validate_mechanism as validate_mechanism
from ._compare import Comparison as Comparison
from ._compare import compare_mechanisms as compare_mechanisms
from ._io import load_mechanism as load_mechanism
from ._io import load_omebench as load_omebench
from ._io import mechanism_from_dict as mechanism_from_dict
from ._io import mechanism_from_omebench as mechanism_from_omebench
from ._io import save_mechanism as save_mechanism
from ._io import save_omebench as save_omebench
from ._io import to_omebench_record as to_omebench_record
from ._model import Arrow as Arrow
from ._model import Mechanism as Mechanism
from ._model import Step as Step
from ._omes import OMeSResult as OMeSResult
from ._omes import omes as omes
from ._score import MechanismScore as MechanismScore
from ._score import ScoreBreakdown as ScoreBreakdown
from ._score import ScoreWeights as ScoreWeights
from ._score import StepDiagnostic as StepDiagnostic
from ._score import align_mechanisms as align_mechanisms
from ._score import score_mechanism as score_mechanism
from ._species import clear_caches as clear_caches
from ._taxonomy import STEP_TYPES as STEP_TYPES
from ._taxonomy import SUBTYPES as SUBTYPES
from ._taxonomy import normalise_subtype as normalise_subtype
