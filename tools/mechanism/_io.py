"""Reading and writing mechanisms: oMeBench JSON/JSONL records and labwright's own YAML/JSON format.

oMeBench records (``data/oMe_Gold.json``, ``oMe_Template.json``, ``oMe_Silver.jsonl``) hold ``reaction_id``,
``level``, ``name``, ``reactants_smiles``, ``products_smiles``, ``conditions`` and ``mechanism``: a list of steps with
``type``, ``subtype``, ``intermediate_smiles`` and (Gold) ``step_weight`` or (Template) ``rationale``. The Template
file also spells an optional key ``mechnism_text_description``; both spellings are read. Our own format is the
:class:`~labwright.tools.mechanism.Mechanism` model written as YAML or JSON (see ``examples/data/mechanisms``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ...errors import InvalidInput, MalformedFile
from .._confined import write_file
from .._files import read_user_text
from ..registry import invalid_input_from
from ._model import Mechanism

__all__ = [
    "load_omebench",
    "mechanism_from_omebench",
    "to_omebench_record",
    "save_omebench",
    "load_mechanism",
    "mechanism_from_dict",
    "save_mechanism",
]

# oMeBench key -> our key, first match wins (variants seen in the Gold, Template and Silver files).
_RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("reaction_id", "id"),
    "name": ("name", "reaction_name"),
    "level": ("level", "difficulty"),
    "reactants": ("reactants_smiles", "reactants"),
    "products": ("products_smiles", "products"),
    "conditions": ("conditions",),
    "description": ("description", "mechnism_text_description", "mechanism_text_description"),
}
_STEP_KEYS: dict[str, tuple[str, ...]] = {
    "type": ("type", "step_type"),
    "subtype": ("subtype", "step_subtype"),
    "intermediate": ("intermediate_smiles", "intermediate", "smiles"),
    "weight": ("step_weight", "weight"),
    "description": ("rationale", "description"),
}


def _pick(record: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in record and record[k] is not None:
            return record[k]
    return None


def _build(data: dict[str, Any], where: str) -> Mechanism:
    try:
        return Mechanism.model_validate(data)
    except ValidationError as err:
        inner = invalid_input_from(err)
        raise InvalidInput(f"{where}.{inner.field}" if where else inner.field, inner.reason) from None
    except InvalidInput as err:
        raise InvalidInput(f"{where}.{err.field}" if where else err.field, err.reason) from None


def mechanism_from_omebench(record: Mapping[str, Any], *, where: str = "") -> Mechanism:
    """Convert one oMeBench record (Gold, Template or Silver) into a :class:`Mechanism`.

    Raises
    ------
    InvalidInput
        A required key is missing or a value is malformed; ``field`` locates it (``"mechanism.2.subtype"``).
    """
    if not isinstance(record, Mapping):
        raise InvalidInput(where or "record", f"expected an object, got {type(record).__name__}")
    steps_raw = _pick(record, ("mechanism", "steps"))
    if not isinstance(steps_raw, list):
        raise InvalidInput(f"{where}.mechanism".lstrip("."), "missing or not a list of steps")
    data: dict[str, Any] = {k: _pick(record, keys) for k, keys in _RECORD_KEYS.items()}
    extra_text = _pick(record, ("mechnism_text_description", "mechanism_text_description"))
    if extra_text and data["description"] and extra_text != data["description"]:
        data["description"] = f"{data['description']}\n\n{extra_text}"
    if isinstance(data["level"], str):
        data["level"] = data["level"].strip().lower()
    for k in ("reactants", "products"):
        if isinstance(data[k], str):
            data[k] = data[k].split(".")
    steps = []
    for i, step in enumerate(steps_raw):
        if not isinstance(step, Mapping):
            raise InvalidInput(f"{where}.mechanism.{i}".lstrip("."), "a step must be an object")
        steps.append({k: v for k, keys in _STEP_KEYS.items() if (v := _pick(step, keys)) is not None})
    data["steps"] = steps
    data["source"] = "oMeBench"
    try:
        return _build({k: v for k, v in data.items() if v is not None}, where)
    except InvalidInput as err:
        raise InvalidInput(re.sub(r"(^|\.)steps(?=\.|$)", r"\1mechanism", err.field, count=1), err.reason) from None


def _read_records(path: Path) -> list[Any]:
    text = read_user_text(path)
    if path.suffix == ".jsonl":
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise MalformedFile(str(path), f"not valid JSON: {err.msg}", line=n) from None
        return records
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise MalformedFile(str(path), f"not valid JSON: {err.msg}", line=err.lineno) from None
    return _records_of(doc, str(path))


def _records_of(doc: Any, where: str) -> list[Any]:
    if isinstance(doc, Mapping):
        for key in ("records", "reactions", "data"):
            if isinstance(doc.get(key), list):
                return doc[key]
        if "mechanism" in doc:
            return [doc]
    if isinstance(doc, list):
        return doc
    raise MalformedFile(where, "expected a list of oMeBench records (or an object with a 'records' list)")


def load_omebench(source: str | os.PathLike[str] | Iterable[Mapping[str, Any]]) -> list[Mechanism]:
    """Load oMeBench records from a ``.json`` / ``.jsonl`` file (the full Gold/Template/Silver files work) or a list.

    Parameters
    ----------
    source
        Path to a file, or already-parsed records.

    Returns
    -------
    list[Mechanism]
        One per record, in file order; ``source`` is ``"oMeBench"``.

    Raises
    ------
    MalformedFile
        The file is missing or not JSON (line given).
    InvalidInput
        A record is malformed; ``field`` reads like ``records.12.mechanism.3.subtype``.
    """
    records = _read_records(Path(source)) if isinstance(source, str | os.PathLike) else list(source)
    return [mechanism_from_omebench(r, where=f"records.{i}") for i, r in enumerate(records)]


def to_omebench_record(mech: Mechanism) -> dict[str, Any]:
    """The oMeBench (Gold-style) record of a mechanism; step weights default to uniform."""
    return {
        "reaction_id": mech.id,
        "level": mech.level,
        "name": mech.name,
        "reactants_smiles": list(mech.reactants),
        "products_smiles": list(mech.products),
        "conditions": mech.conditions or "",
        "mechanism_step_nums": len(mech.steps),
        "mechanism": [
            {"step": i + 1, "type": s.type, "subtype": s.subtype, "intermediate_smiles": s.key_smiles, "step_weight": w}
            for i, (s, w) in enumerate(zip(mech.steps, mech.weights(), strict=True))
        ],
    }


def _atomic_write(path: Path, text: str) -> None:
    # Write beside the target and rename, so a failure never leaves a half-written file behind.
    write_file(path, text.encode("utf-8"))


def save_omebench(mechs: Iterable[Mechanism], path: str | os.PathLike[str]) -> Path:
    """Write mechanisms as an oMeBench-style JSON list; returns the path."""
    path = Path(path)
    _atomic_write(path, json.dumps([to_omebench_record(m) for m in mechs], indent=1, ensure_ascii=False) + "\n")
    return path


def mechanism_from_dict(data: Any, *, where: str = "") -> Mechanism:
    """Build a :class:`Mechanism` from our own format, or from an oMeBench record (recognised by its keys).

    Raises
    ------
    InvalidInput
        Names the offending field (``steps.2.subtype``, ``steps``: empty mechanism, ...).
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(where or "mechanism", f"expected an object, got {type(data).__name__}")
    if "mechanism" in data and "steps" not in data:
        return mechanism_from_omebench(data, where=where)
    return _build(dict(data), where)


def load_mechanism(path: str | os.PathLike[str]) -> Mechanism:
    """Read one mechanism from a ``.yaml``/``.yml`` or ``.json`` file (our format or one oMeBench record).

    Raises
    ------
    MalformedFile
        Unreadable file, or text that is not valid YAML/JSON (with the line).
    InvalidInput
        The content is not a valid mechanism; ``field`` names the problem.
    """
    path = Path(path)
    text = read_user_text(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise MalformedFile(str(path), f"not valid JSON: {err.msg}", line=err.lineno) from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise MalformedFile(str(path), f"not valid YAML: {getattr(err, 'problem', err)}", line=line) from None
    return mechanism_from_dict(data)


def save_mechanism(mech: Mechanism, path: str | os.PathLike[str]) -> Path:
    """Write a mechanism in our format, YAML or JSON according to the suffix; returns the path."""
    path = Path(path)
    data = mech.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["steps"] = [s.model_dump(mode="json", exclude_none=True, exclude_defaults=True) for s in mech.steps]
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    _atomic_write(path, text)
    return path
