"""``run:RUN_ID``: the knowledge store a workflow run built, named by its run id wherever a store path is taken
(the policy gate resolves it before confining the path; the kg_* tools resolve it when called directly).

A workflow's store lives in its run folder (``LABWRIGHT_HOME/runs/RUN_ID/<step>/knowledge.sqlite``) so that a run is
reproducible and never mixes with other runs; chat and the kg_* tools reach it by the run id that ``labwright runs
list`` shows, instead of by a path a person would have to dig out of the report.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InvalidInput

__all__ = ["RUN_PREFIX", "resolve_store_ref", "run_store"]

RUN_PREFIX = "run:"
STORE_FILE = "knowledge.sqlite"
# Run ids are made of letters, digits, '-', '_' and '.' (workflow name, UTC stamp, random hex); nothing that walks.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


def run_store(run_id: str, runs_dir: Path, *, field: str = "store_path") -> Path:
    """The one knowledge store under run ``run_id``'s folder in ``runs_dir``; :class:`InvalidInput` naming ``field``
    for a malformed or unknown run id, a run with no store, or a run with several (then name the file)."""
    if not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise InvalidInput(field, f"{run_id[:200]!r} is not a run id (letters, digits, '-', '_', '.')")
    folder = runs_dir / run_id
    if not folder.is_dir():
        raise InvalidInput(field, f"no run {run_id!r} under {runs_dir} (`labwright runs list` shows the runs)")
    found = sorted(p for p in folder.rglob(STORE_FILE) if p.is_file())
    if not found:
        raise InvalidInput(field, f"run {run_id!r} built no knowledge store ({STORE_FILE} under {folder})")
    if len(found) > 1:
        shown = ", ".join(str(p) for p in found[:5])
        raise InvalidInput(field, f"run {run_id!r} has {len(found)} knowledge stores; give one path: {shown}")
    return found[0]


def resolve_store_ref(value: str | None, runs_dir: Path, *, field: str = "store_path") -> str | None:
    """``value`` with a ``run:RUN_ID`` reference replaced by that run's store path; anything else unchanged."""
    if value is None or not str(value).startswith(RUN_PREFIX):
        return value
    return str(run_store(str(value)[len(RUN_PREFIX) :].strip(), runs_dir, field=field))
