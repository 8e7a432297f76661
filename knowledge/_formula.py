"""Molecular formulae written in text ("LiPF6", "CeO2", "H2O2", "Fe(CN)6^3-", "[Ru(NH3)6]3+", "CuSO4·5H2O").

A word is read as a formula only when it parses completely into element symbols of RDKit's periodic table with
counts, groups in parentheses or brackets, hydrate dots and a charge, and when it passes rules that separate
formulae from the abbreviations of scientific writing ("COVID", "PDF", "ATP", "CNS", "PI3K", "H1N1"):

* an all-capital word with no digit and no charge is an abbreviation ("CNS", "PBS", "UV", "HF", "NO");
* a count of 1 is never written in a formula ("H1N1", "CB1");
* one element alone is a formula only as an ion ("Ce3+", "Li+") or a homonuclear molecule ("O2", "S8");
* noble gases only occur in formulae with counts ("XeF2"), so "HeLa" is not one;
* a closed-shell species of main-group elements has an even valence sum (after the charge), for some choice among
  each element's RDKit valences ("PI3K", "SH3" fail); open-shell molecules such as NO2 are therefore not recognised.

The canonical form is the Hill formula with the charge appended (RDKit's ``CalcMolFormula`` convention, e.g.
``C6FeN6-3``), so a formula and a structure of the same composition compare equal (:func:`hill_formula`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["Formula", "parse_formula", "hill_formula", "structure_formula"]

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_MINUS = str.maketrans({"−": "-", "–": "-"})
_HYDRATE = re.compile(r"[·•∙*]")
_HOMONUCLEAR = frozenset({("H", 2), ("N", 2), ("O", 2), ("O", 3), ("F", 2), ("Cl", 2), ("Br", 2), ("I", 2),
                          ("P", 4), ("S", 8), ("C", 60), ("C", 70)})  # fmt: skip
_NOBLE = frozenset({"He", "Ne", "Ar", "Kr", "Xe", "Rn"})
_MAX_COUNT = 10_000


@dataclass(frozen=True)
class Formula:
    """A parsed formula: element counts and net charge (elementary charges)."""

    counts: tuple[tuple[str, int], ...]
    charge: int

    @property
    def hill(self) -> str:
        """Hill formula with charge, e.g. ``CeO2``, ``F6LiP``, ``H18N6Ru+3``."""
        return hill_formula(dict(self.counts), self.charge)


@functools.lru_cache(maxsize=1)
def _symbols() -> frozenset[str]:
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    return frozenset(table.GetElementSymbol(z) for z in range(1, 119))


@functools.lru_cache(maxsize=128)
def _valences(symbol: str) -> tuple[int, ...]:
    """RDKit's allowed valences of an element, or () when it has no fixed list (transition metals, lanthanides)."""
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    vals = tuple(v for v in table.GetValenceList(table.GetAtomicNumber(symbol)) if v >= 0)
    return vals


def hill_formula(counts: dict[str, int], charge: int = 0) -> str:
    """Formula of element counts in RDKit's ``CalcMolFormula`` order (carbon, hydrogen, then alphabetical: Hill's
    order, except that hydrogen comes first in a compound without carbon too), with the charge as RDKit writes it:
    ``+``, ``-``, ``+2``, ``-3``."""
    counts = {el: n for el, n in counts.items() if n}
    order = [el for el in ("C", "H") if el in counts] + sorted(el for el in counts if el not in ("C", "H"))
    text = "".join(el + (str(counts[el]) if counts[el] > 1 else "") for el in order)
    if charge:
        text += ("+" if charge > 0 else "-") + (str(abs(charge)) if abs(charge) > 1 else "")
    return text


def structure_formula(mol) -> Formula:
    """The :class:`Formula` of an RDKit molecule (implicit hydrogens included)."""
    from rdkit import Chem

    counts: Counter[str] = Counter()
    for atom in mol.GetAtoms():
        counts[atom.GetSymbol()] += 1
        counts["H"] += atom.GetTotalNumHs()
    return Formula(tuple(sorted((el, n) for el, n in counts.items() if n)), Chem.GetFormalCharge(mol))


def _split_charge(text: str) -> tuple[str, int, bool] | None:
    """(body, charge, charged) of a written formula; None when the charge is malformed."""
    m = re.fullmatch(r"(.+?)(\^?)(\d*)([+-])", text)
    if m is None:
        return text, 0, False
    body, caret, digits, sign = m.groups()
    if digits and not caret and not body.endswith(("]", ")")):
        # "Ce3+" (one element: the digit is the charge), "SO42-" (two digits: the last is the charge), "NO3-" (one
        # digit after several elements: a count, and the charge is 1)
        if len(digits) >= 2:
            body, digits = body + digits[:-1], digits[-1]
        elif not re.fullmatch(r"[A-Z][a-z]?", body):
            body, digits = body + digits, ""
    n = int(digits) if digits else 1
    if n == 0 or n > 9:
        return None
    return body, (n if sign == "+" else -n), True


def _parse_group(text: str, i: int, close: str | None) -> tuple[Counter[str], int] | None:
    """Element counts of ``text[i:]`` up to the bracket ``close`` (or the end); returns counts and the index after."""
    counts: Counter[str] = Counter()
    symbols = _symbols()
    while i < len(text):
        ch = text[i]
        if close is not None and ch == close:
            return counts, i + 1
        if ch in "([":
            inner = _parse_group(text, i + 1, ")" if ch == "(" else "]")
            if inner is None or not inner[0]:
                return None
            sub, i = inner
        elif ch.isupper():
            sym = text[i : i + 2] if i + 1 < len(text) and text[i + 1].islower() else ch
            if sym not in symbols:
                return None
            sub, i = Counter({sym: 1}), i + len(sym)
        else:
            return None
        m = re.match(r"\d+", text[i:])
        n = 1
        if m:
            n = int(m.group())
            if n in (0, 1) or n > _MAX_COUNT:
                return None  # nobody writes a count of 1 ("H1N1", "CB1")
            i += m.end()
        for el, k in sub.items():
            counts[el] += k * n
    return (counts, i) if close is None else None


def _closed_shell(counts: Counter[str], charge: int) -> bool:
    """Whether some choice of RDKit valences gives an even valence sum (plus the charge): a closed-shell species.
    Elements without a fixed valence list (metals) make the test pass."""
    choices = []
    for el, n in counts.items():
        vals = _valences(el)
        if not vals:
            return True
        choices.append({(v * n) % 2 for v in vals})
    return any((sum(c) + abs(charge)) % 2 == 0 for c in itertools.product(*choices))


@functools.lru_cache(maxsize=65_536)
def parse_formula(word: str) -> Formula | None:
    """The formula a word writes, or None when it is not one (see the module's rules).

    Examples
    --------
    >>> parse_formula("LiPF6").hill
    'F6LiP'
    >>> parse_formula("[Ru(NH3)6]3+").hill
    'H18N6Ru+3'
    >>> parse_formula("COVID") is None and parse_formula("ATP") is None
    True
    """
    text = word.strip().translate(_SUPERSCRIPT).translate(_SUBSCRIPT).translate(_MINUS)
    if len(text) < 2 or len(text) > 80 or text[0] not in "([" and not text[0].isupper():
        return None
    split = _split_charge(text)
    if split is None:
        return None
    body, charge, charged = split
    if not any(ch.isdigit() or ch.islower() for ch in body) and not charged:
        return None  # "CNS", "PBS", "HF": capitals only read as an abbreviation
    total: Counter[str] = Counter()
    for k, part in enumerate(_HYDRATE.split(body)):
        m = re.match(r"\d+", part) if k else None  # "CuSO4·5H2O": a leading multiplier after the dot
        mult = int(m.group()) if m else 1
        parsed = _parse_group(part[m.end() :] if m else part, 0, None) if part else None
        if parsed is None or not parsed[0]:
            return None
        for el, n in parsed[0].items():
            total[el] += n * mult
    if len(total) == 1:
        ((el, n),) = total.items()
        if not charge and (el, n) not in _HOMONUCLEAR:
            return None
    if set(total) & _NOBLE and not any(ch.isdigit() for ch in body):
        return None
    if not _closed_shell(total, charge):
        return None
    return Formula(tuple(sorted(total.items())), charge)
