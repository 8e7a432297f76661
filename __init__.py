"""labwright: governed, agentic scientific discovery for chemistry and biology.

Three ways in: call any tool as a plain Python function (``labwright.tools``), run a scripted workflow
(``labwright.skills``), or talk to the supervisor agent (``labwright.Lab``).
"""

from . import knowledge as knowledge  # registers the kg_* librarian tools
from . import scale as scale  # registers the batch tools (sweep_cv, batch_fit_cv, kg_ingest_batch)
from .agents.lab import Lab as Lab
from .errors import InvalidInput as InvalidInput
from .errors import LabwrightError as LabwrightError
from .settings import Settings as Settings
from .settings import get_settings as get_settings
from .tools import call_tool as call_tool
from .tools import get_tool as get_tool
from .tools import list_tools as list_tools
from .tools.chem import canonicalize_smiles as canonicalize_smiles
from .tools.chem import describe_molecule as describe_molecule
from .tools.chem import molecular_similarity as molecular_similarity

__version__ = "0.1.0"
