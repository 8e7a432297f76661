"""One exception hierarchy for labwright.

Every error a user can cause derives from :class:`LabwrightError`. Errors caused by bad input also derive from
:class:`ValueError` (as :class:`InvalidInput`) and name the offending field, so an agent can pass the message back
to a model and a CLI can print it on one line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "LabwrightError",
    "InvalidInput",
    "InvalidSmiles",
    "MalformedFile",
    "UnknownTool",
    "UnknownRole",
    "PermissionDenied",
    "FitDidNotConverge",
    "SimulationFailed",
    "NotFound",
    "ExtractionFailed",
]


class LabwrightError(Exception):
    """Base class of every error raised on purpose by labwright."""


class InvalidInput(LabwrightError, ValueError):
    """An argument is missing, malformed or physically impossible.

    Attributes
    ----------
    field : str
        Dotted name of the offending field (``"D_O"``, ``"steps.2.smiles"``).
    reason : str
        Why the value was rejected, in plain language.
    """

    def __init__(self, field: str, reason: str, *, tool: str | None = None):
        self.field = field
        self.reason = reason
        self.tool = tool
        prefix = f"{tool}: " if tool else ""
        super().__init__(f"{prefix}invalid input for field '{field}': {reason}")


class InvalidSmiles(InvalidInput):
    """A SMILES string does not parse or does not sanitise; ``reason`` carries RDKit's explanation."""

    def __init__(self, smiles: str, reason: str, *, field: str = "smiles", tool: str | None = None):
        self.smiles = smiles
        super().__init__(field, f"invalid SMILES {smiles!r}: {reason}", tool=tool)


class MalformedFile(InvalidInput):
    """A data file cannot be read; names the file and, where known, the line."""

    def __init__(self, path: str, reason: str, *, line: int | None = None, field: str = "path"):
        self.path = path
        self.line = line
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(field, f"{where}: {reason}")


def _close_names(name: str, known: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)


class UnknownTool(LabwrightError, LookupError):
    """No tool is registered under this name; the message lists close names."""

    def __init__(self, name: str, known: Iterable[str]):
        self.name = name
        self.suggestions = _close_names(name, known)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown tool {name!r}{hint}")

    def __str__(self) -> str:  # LookupError would otherwise quote the message like a dict key
        return self.args[0]


class UnknownRole(LabwrightError, LookupError):
    """No agent role has this name; the message lists the roles that exist."""

    def __init__(self, name: str, known: Iterable[str]):
        self.name = name
        known = sorted(known)
        super().__init__(f"unknown role {name!r}; roles are: {', '.join(known)}")

    def __str__(self) -> str:
        return self.args[0]


class PermissionDenied(LabwrightError):
    """A role asked for a tool outside its allowlist, or a policy rule denied the call."""


class FitDidNotConverge(LabwrightError):
    """An optimiser stopped without meeting its tolerance; the message says what to change."""


class SimulationFailed(LabwrightError):
    """A simulation produced non-finite values or hit a step limit."""


class NotFound(LabwrightError, LookupError):
    """A named object (node, run, artifact) does not exist in a store."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class ExtractionFailed(LabwrightError):
    """A language model's extraction reply could not be used (not JSON, or not the requested schema)."""
