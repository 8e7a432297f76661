"""The workflow plane: typed skill graphs, checkpoints, provenance and reports (Mozi "Layer B").

A :class:`Skill` is a named, versioned function with pydantic input and output contracts that calls registered tools
through the agents' governance. A workflow (YAML or Python) chains skills; its contracts are checked when it is
loaded, independent steps run in parallel, steps stop for approval at checkpoints, and every run is resumable by id
and ends with a Markdown + JSON report whose claims link to artifacts with full provenance.

>>> import labwright.skills as sk                                                # doctest: +SKIP
>>> result = sk.run("examples/workflows/redox_kinetics.yaml", approve="all")
>>> result.report_path
"""

from ..tools import _runtime as _runtime  # noqa: F401  (JAX settings first: parallel branches run jitted tools)
from ._provenance import Artifact as Artifact
from ._provenance import Claim as Claim
from ._run import PendingApproval as PendingApproval
from ._run import RunResult as RunResult
from ._run import resume as resume
from ._run import rollback as rollback
from ._run import run as run
from ._run import run_dir_of as run_dir_of
from ._skill import Skill as Skill
from ._skill import SkillContext as SkillContext
from ._skill import get_skill as get_skill
from ._skill import list_skills as list_skills
from ._skill import skill as skill
from ._workflow import ContractMismatch as ContractMismatch
from ._workflow import Workflow as Workflow
from ._workflow import WorkflowSpec as WorkflowSpec
from ._workflow import adapter as adapter
from ._workflow import find_workflow as find_workflow
from ._workflow import load_workflow as load_workflow
from ._workflow import packaged_workflows as packaged_workflows
