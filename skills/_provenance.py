"""Provenance of every artifact a workflow run makes.

An :class:`Artifact` (figure, table, fitted parameters, hypothesis, ...) is a file under the run folder plus a record
of where it came from: the sha256 of every input it was derived from, the tools (name and version) that were called,
the parameters, and the run and step that made it. Claims in a report point at artifacts by id, so each number in
the report can be traced to a file and from there to its inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ArtifactKind",
    "InputRecord",
    "ToolUse",
    "Artifact",
    "Claim",
    "sha256_file",
    "sha256_json",
    "canonical_json",
    "write_atomic",
]

ArtifactKind = Literal["figure", "table", "parameters", "hypothesis", "data", "report", "other"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal values hash equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def sha256_json(value: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so no half-written file is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class InputRecord(BaseModel):
    """One input an artifact was derived from: a data file, or the output of an earlier step."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="File path (relative to the workflow file where possible) or 'step:<id>'.")
    sha256: str = Field(description="sha256 of the file bytes, or of the canonical JSON of the step output.")


class ToolUse(BaseModel):
    """A registered tool called while making an artifact."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    args_sha256: str = Field(description="sha256 of the canonical JSON of the validated arguments.")


class Artifact(BaseModel):
    """A file made by a run, with its full provenance."""

    id: str = Field(description="'<step>/<name>', unique within the run.")
    kind: ArtifactKind
    path: str = Field(description="Path relative to the run folder.")
    sha256: str = Field(description="sha256 of the file.")
    title: str = ""
    run_id: str
    step: str
    skill: str = Field(description="'<skill name>@<version>' that made the artifact.")
    inputs: list[InputRecord] = Field(default_factory=list)
    tools: list[ToolUse] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    synthetic: bool = Field(default=False, description="True when derived from data made by our own simulator.")
    created: str = Field(default_factory=_now, description="UTC time, ISO 8601.")


class Claim(BaseModel):
    """A statement in the report, with the number behind it and the artifacts that support it."""

    text: str
    value: float | str | None = None
    unit: str = ""
    artifacts: list[str] = Field(default_factory=list, description="Artifact ids supporting the claim.")
    step: str = ""
