"""Every capability as a plain function with pydantic input/output models (see DESIGN.md "Tool contract").

Importing this package imports each subsystem, which registers its tools in :mod:`labwright.tools.registry`.
"""

from . import _runtime as _runtime  # noqa: F401  (JAX settings before any tool runs)
from . import chem as chem
from . import electrochem as electrochem
from . import kinetics as kinetics
from . import mechanism as mechanism
from .registry import Cost as Cost
from .registry import ToolSpec as ToolSpec
from .registry import call_tool as call_tool
from .registry import get_tool as get_tool
from .registry import list_tools as list_tools
from .registry import openai_tools as openai_tools
from .registry import tool as tool
