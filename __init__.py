"""labwright: governed, agentic scientific discovery for chemistry and biology.

Three ways in: call any tool as a plain Python function (``labwright.tools``), run a scripted workflow
(``labwright.skills``), or talk to the supervisor agent (``labwright.Lab``); ``langgraph dev`` opens the agent graph
in LangGraph Studio.

``import labwright`` is light: the names below, and the subpackages, load on first use (LangGraph, RDKit and JAX
come with the parts that need them).
"""

import importlib
from typing import Any

from .errors import InvalidInput as InvalidInput
from .errors import LabwrightError as LabwrightError
from .settings import Settings as Settings
from .settings import get_settings as get_settings

__version__ = "0.1.0"

# Public name -> module that defines it (imported on first access).
_LAZY = {
    "Lab": "labwright.agents.lab",
    "call_tool": "labwright.tools.registry",
    "get_tool": "labwright.tools.registry",
    "list_tools": "labwright.tools.registry",
    "canonicalize_smiles": "labwright.tools.chem",
    "describe_molecule": "labwright.tools.chem",
    "molecular_similarity": "labwright.tools.chem",
}
_SUBPACKAGES = ("agents", "doors", "knowledge", "scale", "skills", "tools")

__all__ = ["InvalidInput", "LabwrightError", "Settings", "get_settings", *_LAZY, *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
