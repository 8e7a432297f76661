"""Confined paths: every file or folder a governed call names must lie where the person running labwright allows.

The policy gate (:func:`labwright.agents.policy.gate`) passes every validated call through :func:`confine_args`,
so a path a model, a workflow or a chat names is checked in one place, after symlinks are resolved. Which argument
is a path, and how it is used, is decided by :func:`path_use`: a field typed with a
:class:`~labwright.tools.fields.PathAccess` marker (``ReadPath``, ``WritePath``, ``PlotPath``) in any tool; and, in
labwright's own tools, the argument's name at any depth (``plot_path``, ``plot_dir``, ``store_path``, ``path``,
``paths``, ``sbml``), with the tools that write the file or store they name listed in :data:`WRITTEN_PATHS`. A test
checks that every path-like argument of every labwright tool is classified.

Rules (``HOME`` is ``LABWRIGHT_HOME``; *allowed roots* are the folders a person lists in ``LABWRIGHT_ALLOWED_ROOTS``):

* **read** (data files): inside ``HOME``, an allowed root, or the working directory of the labwright process (so
  ``examples/data/...`` works from a checkout), unless that directory is the file-system root. Relative paths are
  relative to the working directory.
* **write** (an exported file) and **plot** (``plot_path``, ``plot_dir``): inside the run's folder
  ``HOME/runs/<run id>`` or an allowed root; relative paths are relative to the run's folder. A write never
  replaces an existing SQLite database (a knowledge store, the audit log).
* **store_read** / **store_write** (``store_path``): inside ``HOME`` or an allowed root; relative paths are relative
  to ``HOME``; ``run:RUN_ID`` is the store that workflow run built (:mod:`labwright.tools._runstore`). A
  ``postgresql://`` store must be in the database the person configured (``LABWRIGHT_DATABASE_URL``: same server,
  port, user and database; any schema), so a call cannot send the store to another server.
* Never, for any use: the audit log, the ledger, the checkpoints (and their ``-wal``/``-shm`` files or anything else
  whose name starts with theirs), the audit anchor and key of a log on PostgreSQL, a path with a NUL byte.

The checked arguments are rewritten to the resolved absolute paths, so the audit log shows what was touched.
"""

from __future__ import annotations

import functools
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from .._postgres import is_postgres_url, redact_url
from ..errors import InvalidInput
from ._files import user_path
from ._runstore import resolve_store_ref
from .fields import PathAccess
from .registry import get_tool

__all__ = [
    "PathUse",
    "Roots",
    "WRITTEN_PATHS",
    "path_use",
    "confine_path",
    "confine_args",
    "confined_paths",
    "roots_from_settings",
    "current_settings",
]

PathUse = Literal["read", "write", "plot", "store_read", "store_write"]

# Field names (at any depth of a tool's arguments) that name files, and how a call uses them.
_BY_NAME: dict[str, PathUse] = {
    "path": "read",
    "paths": "read",
    "sbml": "read",
    "plot_path": "plot",
    "plot_dir": "plot",
    "store_path": "store_read",
}
# Tools whose `path` is the file they write, and tools that write the store they name.
WRITTEN_PATHS: dict[tuple[str, str], PathUse] = {
    ("kg_export", "path"): "write",
    ("export_sbml", "path"): "write",
    ("kg_ingest_text", "store_path"): "store_write",
    ("kg_ingest_events", "store_path"): "store_write",
    ("kg_ingest_batch", "store_path"): "store_write",
}
# Strings that look like paths by name but are never opened (provenance labels).
_NOT_OPENED = frozenset({"source_path"})
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Roots:
    """Where a call may read and write (all resolved), and the files no call may touch."""

    home: Path
    run_dir: Path
    allowed: tuple[Path, ...]
    cwd: Path | None
    protected: tuple[Path, ...]
    shipped: Path = Path(__file__).resolve().parent.parent / "examples"


_SETTINGS: dict[tuple, Any] = {}


@functools.cache
def _settings_env_names() -> tuple[str, ...]:
    """The environment variables :class:`~labwright.settings.Settings` reads (looking up ~20 names is ~10x faster
    than scanning the whole environment on every governed call)."""
    from pydantic import AliasChoices

    from ..settings import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    names = []
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if isinstance(alias, str) else []
        names += [c for c in choices if isinstance(c, str)] or [f"{prefix}{name}".upper()]
    return tuple(names)


def current_settings() -> Any:
    """:func:`~labwright.settings.get_settings` as the environment is now, built once per distinct ``LABWRIGHT_*``
    environment (reading settings costs milliseconds; every governed call needs them)."""
    from ..settings import get_settings

    key = tuple(map(os.environ.get, _settings_env_names()))
    found = _SETTINGS.get(key)
    if found is None:
        if len(_SETTINGS) > 64:  # tests switch LABWRIGHT_HOME per test
            _SETTINGS.clear()
        found = _SETTINGS[key] = get_settings()
    return found


_ROOTS: dict[tuple, Roots] = {}


def roots_from_settings(run_id: str | None, settings: Any = None) -> Roots:
    """The :class:`Roots` of a call in run ``run_id`` under ``settings`` (default: the current ones)."""
    if settings is None:
        settings = current_settings()
    key = (settings.home, settings.allowed_roots, settings.audit_db, settings.checkpoint_db, run_id, os.getcwd())
    found = _ROOTS.get(key)
    if found is None:
        if len(_ROOTS) > 256:
            _ROOTS.clear()
        found = _ROOTS[key] = _roots(run_id, settings)
    return found


def _roots(run_id: str | None, settings: Any) -> Roots:
    home = settings.home_dir.resolve()
    allowed = tuple(Path(p).expanduser().resolve() for p in (settings.allowed_roots or "").split(os.pathsep) if p)
    cwd = Path.cwd().resolve()
    # HOME/audit.postgres*: the audit anchor and key when the log is on PostgreSQL (LABWRIGHT_DATABASE_URL).
    protected = (settings.audit_path, settings.ledger_path, settings.checkpoint_path, home / "audit.postgres")
    return Roots(
        home=home,
        run_dir=(settings.runs_dir / (run_id or "no-run")).resolve(),
        allowed=allowed,
        cwd=None if cwd == Path(cwd.anchor) else cwd,
        protected=tuple(p.expanduser().resolve() for p in protected),
    )


def _marked(annotation: Any) -> PathUse | None:
    """The use in a :class:`PathAccess` marker anywhere in ``annotation`` (``ReadPath | None``, ``list[ReadPath]``)."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, PathAccess):
            return meta.use
    for arg in typing.get_args(annotation):
        found = _marked(arg)
        if found:
            return found
    return None


@functools.cache
def _typed_uses(model: type[BaseModel]) -> dict[str, PathUse]:
    """Field name -> use for the fields of ``model`` (and its nested models) typed with a path marker."""
    uses: dict[str, PathUse] = {}
    for name, info in model.model_fields.items():
        use = next((m.use for m in info.metadata if isinstance(m, PathAccess)), None) or _marked(info.annotation)
        if use:
            uses[name] = use
        for inner in _models_in(info.annotation):
            uses.update(_typed_uses(inner))
    return uses


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def path_use(tool: str, key: str) -> PathUse | None:
    """How ``tool`` uses an argument named ``key`` (at any depth), or ``None`` if it is not a path."""
    spec = get_tool(tool)
    typed = _typed_uses(spec.input_model).get(key)
    if typed or key in _NOT_OPENED or not spec.func.__module__.startswith("labwright."):
        return typed
    return WRITTEN_PATHS.get((tool, key), _BY_NAME.get(key))


def _inside(path: Path, folders: tuple[Path, ...]) -> bool:
    return any(path == f or path.is_relative_to(f) for f in folders)


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def confine_path(value: str, use: PathUse, field: str, roots: Roots, *, tool: str | None = None) -> str:
    """``value`` resolved (symlinks followed) and checked for ``use``; raise :class:`InvalidInput` naming ``field``."""
    if "\x00" in value:
        raise InvalidInput(field, "a path cannot contain a NUL byte", tool=tool)
    if use in ("store_read", "store_write") and is_postgres_url(value):
        return _confine_database(value, field, tool)
    if use in ("store_read", "store_write"):  # 'run:RUN_ID': the store that workflow run built, then confined as any
        value = resolve_store_ref(value, roots.home / "runs", field=field)
    raw = user_path(value, field=field)
    if use in ("write", "plot"):
        base = roots.run_dir
    elif use in ("store_read", "store_write"):
        base = roots.home
    else:
        base = roots.cwd or roots.home
    try:
        path = (raw if raw.is_absolute() else base / raw).resolve()
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise InvalidInput(field, f"cannot resolve {value!r}: {err}", tool=tool) from None
    for p in roots.protected:
        if path == p or (path.parent == p.parent and path.name.startswith(p.name)):
            raise InvalidInput(
                field, f"{value!r} is labwright's own record ({p.name}); no tool may touch it", tool=tool
            )
    if use in ("write", "plot"):
        where, folders = "the run folder or an allowed root", (roots.run_dir, *roots.allowed)
    elif use in ("store_read", "store_write"):
        where, folders = "LABWRIGHT_HOME or an allowed root", (roots.home, *roots.allowed)
    else:
        # Reads may also use the example data that ships with labwright (packaged workflows read it from wherever
        # the package is installed); it is never a place to write.
        where = "LABWRIGHT_HOME, an allowed root, the working directory or labwright's own example data"
        folders = (roots.home, *roots.allowed, *((roots.cwd,) if roots.cwd else ()), roots.shipped)
    if not _inside(path, folders):
        raise InvalidInput(
            field,
            f"{value!r} resolves to {path}, outside {where} (a person may add folders to LABWRIGHT_ALLOWED_ROOTS)",
            tool=tool,
        )
    if use == "write" and _is_sqlite(path):
        raise InvalidInput(field, f"{value!r} is an existing SQLite database; an export never replaces one", tool=tool)
    return str(path)


def _confine_database(url: str, field: str, tool: str | None) -> str:
    """A PostgreSQL store URL, allowed only in the configured database (see the module docstring)."""
    configured = current_settings().database_url
    if configured is None or _database_of(url, field, tool) != _database_of(configured, field, tool):
        raise InvalidInput(
            field, f"{redact_url(url)!r} is not in the configured database (LABWRIGHT_DATABASE_URL)", tool=tool
        )
    return url


def _database_of(url: str, field: str, tool: str | None) -> tuple[str | None, ...]:
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception as err:  # psycopg missing (labwright[postgres]), or psycopg.ProgrammingError: a malformed URL
        raise InvalidInput(field, f"not a PostgreSQL URL ({err})", tool=tool) from None
    return tuple(info.get(k) for k in ("host", "hostaddr", "port", "user", "dbname"))


def _walk(tool: str, value: Any, field: str, key: str, roots: Roots) -> Any:
    use = path_use(tool, key)
    if isinstance(value, Mapping):
        return {k: _walk(tool, v, f"{field}.{k}" if field else str(k), str(k), roots) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(tool, v, f"{field}.{i}", key, roots) for i, v in enumerate(value)]
    if use is None or not isinstance(value, str):
        return value
    if key == "sbml" and value.lstrip().startswith("<"):
        return value  # the SBML document itself, not a path
    return confine_path(value, use, field, roots, tool=tool)


def confined_paths(tool: str, args: Any, key: str = "") -> tuple[str, ...]:
    """The path strings in ``args`` (as :func:`confine_args` returned them) that ``tool`` opens: the paths its tool
    call opens without following symlinks (:mod:`labwright.tools._confined`)."""
    if isinstance(args, Mapping):
        return tuple(p for k, v in args.items() for p in confined_paths(tool, v, str(k)))
    if isinstance(args, list):
        return tuple(p for v in args for p in confined_paths(tool, v, key))
    if not isinstance(args, str) or not key or path_use(tool, key) is None:
        return ()
    if key == "sbml" and args.lstrip().startswith("<"):
        return ()
    return (args,)


def confine_args(tool: str, args: Mapping[str, Any], roots: Roots) -> dict[str, Any]:
    """``args`` (validated, as JSON) with every path resolved and checked; raise :class:`InvalidInput` naming the
    first field that points where ``tool`` may not go."""
    return _walk(tool, dict(args), "", "", roots)
