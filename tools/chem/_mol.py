"""Parsing molecules with RDKit, with errors that say why a SMILES is wrong.

RDKit reports parse and sanitisation problems through its logger and returns ``None``; here they are captured and
raised as :class:`~labwright.errors.InvalidSmiles` carrying RDKit's own reason (e.g. "unclosed ring", "Explicit
valence for atom # 0 C, 5, is greater than permitted").
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from rdkit import Chem, rdBase

from ...errors import InvalidSmiles
from ..fields import not_smiles_text

__all__ = ["Mol", "to_mol", "to_smiles", "rdkit_messages", "without_rdkit_log"]

Mol = Chem.Mol

# Route RDKit's C++ log through Python logging so messages can be captured per call (below).
rdBase.LogToPythonLogger()
_RDKIT_LOGGER = logging.getLogger("rdkit")
_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(_STAMP.sub("", record.getMessage()).strip())


@contextlib.contextmanager
def rdkit_messages() -> Iterator[list[str]]:
    """Collect RDKit's log messages emitted inside the block (and keep them off stderr)."""
    handler = _Collector()
    # RDKit installs its own stderr handler on the "rdkit" logger; hold it (and propagation) back meanwhile.
    saved, propagate = _RDKIT_LOGGER.handlers[:], _RDKIT_LOGGER.propagate
    _RDKIT_LOGGER.handlers[:] = [handler]
    _RDKIT_LOGGER.propagate = False
    try:
        yield handler.messages
    finally:
        _RDKIT_LOGGER.handlers[:] = saved
        _RDKIT_LOGGER.propagate = propagate


@contextlib.contextmanager
def without_rdkit_log() -> Iterator[None]:
    """Silence RDKit's logging inside the block."""
    with rdkit_messages():
        yield


def _reason(messages: list[str], fallback: str) -> str:
    # RDKit prints a caret diagram over several lines; keep the informative ones.
    useful = [m.removeprefix("SMILES Parse Error: ") for m in messages if m and not set(m) <= {"~", "^", " "}]
    useful = [m for m in useful if not m.startswith("Failed parsing SMILES")] or useful
    return "; ".join(dict.fromkeys(useful)) or fallback


def to_mol(x: str | Mol, *, sanitize: bool = True, field: str = "smiles") -> Mol:
    """Parse a SMILES string (or pass a molecule through) and sanitise it.

    Parameters
    ----------
    x
        SMILES string, possibly with several '.'-separated fragments, or an RDKit ``Mol``.
    sanitize
        Run RDKit sanitisation (valence, aromaticity); sanitisation errors name the atom.
    field
        Field name reported in the error.

    Raises
    ------
    InvalidSmiles
        Empty, unparsable or unsanitisable input, with RDKit's reason.
    """
    if isinstance(x, Mol):
        return x
    if not isinstance(x, str):
        raise InvalidSmiles(repr(x), f"expected a SMILES string, got {type(x).__name__}", field=field)
    smiles = x.strip()
    if not smiles:
        raise InvalidSmiles(x, "empty string", field=field)
    if (why := not_smiles_text(smiles)) is not None:
        raise InvalidSmiles(smiles, why, field=field)
    with rdkit_messages() as messages:
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        if mol is None:
            raise InvalidSmiles(smiles, _reason(messages, "RDKit could not parse it"), field=field)
        if sanitize:
            try:
                Chem.SanitizeMol(mol)
            except Exception as err:  # RDKit raises several unrelated sanitisation exception types
                raise InvalidSmiles(smiles, str(err) or _reason(messages, type(err).__name__), field=field) from None
    return mol


def to_smiles(x: str | Mol, *, isomeric: bool = True, field: str = "smiles") -> str:
    """Canonical SMILES of a SMILES string or molecule (RDKit canonicalisation)."""
    return Chem.MolToSmiles(to_mol(x, field=field), isomericSmiles=isomeric)
