"""Every capability as a plain function with pydantic input/output models (see DESIGN.md "Tool contract").

The subsystems (``chem``, ``electrochem``, ``kinetics``, ``mechanism``) load their engines (RDKit, JAX) when first
used: ``labwright.tools.electrochem`` imports on attribute access, and :func:`get_tool` imports the module of the tool
asked for. :func:`list_tools` lists every tool without importing any engine.
"""

import importlib

from .registry import Cost as Cost
from .registry import ToolSpec as ToolSpec
from .registry import call_tool as call_tool
from .registry import get_tool as get_tool
from .registry import list_tools as list_tools
from .registry import openai_tools as openai_tools
from .registry import tool as tool

_SUBPACKAGES = ("chem", "electrochem", "kinetics", "mechanism")


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
