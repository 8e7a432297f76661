"""Reading voltammograms and chronoamperograms from instrument text exports into SI units.

Four layouts are understood, each parsed line by line so that an error can name the line:

* plain CSV/TSV (``.csv``, ``.tsv``, ``.txt``): optional ``#`` comment lines, one header row, numeric rows; column
  roles found from the header (``E``, ``Ewe``, ``Potential``, ``I``, ``Current``, ``j``, ``t``, ``Time`` ...) or given
  explicitly; units read from the header (``E/mV``, ``I (uA)``, ``j [mA/cm^2]``) or given explicitly.
* BioLogic EC-Lab ASCII export (``.mpt``): ``EC-Lab ASCII FILE`` then ``Nb header lines : N``; the N-th line holds
  the tab-separated column names (``time/s``, ``Ewe/V``, ``<I>/mA``, ``cycle number``); decimal commas are accepted.
  The scan rate comes from the ``dE/dt`` and ``dE/dt unit`` settings lines, the area from ``Electrode surface area``.
* CH Instruments text export: a date line, the technique name, ``key = value`` settings (``Scan Rate (V/s) = 0.1``),
  then a ``Potential/V, Current/A[, ...]`` title line and comma-separated rows.
* Gamry Framework ``.DTA`` (EXPLAIN format): tab-separated ``KEY<TAB>TYPE<TAB>value`` header lines (``SCANRATE`` in
  mV/s, ``AREA`` in cm²), then one or more ``CURVEn<TAB>TABLE[<TAB>count]`` blocks, each with a name row (``Pt T Vf
  Im ...``), a unit row and tab-indented data rows; each block is one cycle. ``OCVCURVE`` blocks are skipped.

The BioLogic EC-Lab binary ``.mpr`` has its own reader (:mod:`._mpr`), reached through the same dispatcher.

Everything is returned as a :class:`Voltammogram` in V, A and s with oxidation current positive; the source path and
the SHA-256 of the file bytes are recorded. Malformed or truncated files raise :class:`~labwright.errors.MalformedFile`
with the 1-based line number.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from ...errors import InvalidInput, MalformedFile
from .._files import read_user_file
from ..fields import MAX_POINTS, Capped, PositiveFloat, PotentialTrace, ScanRate, ToolModel, Trace
from ..registry import invalid_input_from
from ._sweeps import sweep_bounds

__all__ = [
    "FileFormat",
    "VoltammogramMetadata",
    "Voltammogram",
    "read_voltammogram_file",
    "read_csv_voltammogram",
    "read_mpt",
    "read_chi",
    "read_dta",
    "detect_format",
    "unit_factor",
    "estimate_scan_rate",
]

FileFormat = Literal["csv", "mpt", "mpr", "chi", "dta"]
MPR_MAGIC = b"BIO-LOGIC MODULAR FILE\x1a"  # first bytes of an EC-Lab binary .mpr file


_CycleIndex = Annotated[list[int], Capped(MAX_POINTS, "one per sample")]


class VoltammogramMetadata(ToolModel):
    """Where a voltammogram came from and how its columns were interpreted."""

    source_path: str | None = Field(default=None, description="File the data were read from.")
    sha256: str | None = Field(default=None, description="SHA-256 of the file bytes (hex).")
    format: str = Field(default="inline", description="'csv', 'mpt', 'chi', 'dta', 'synthetic' or 'inline'.")
    technique: str | None = Field(default=None, description="Technique named in the file (e.g. 'Cyclic Voltammetry').")
    instrument: str | None = Field(default=None, description="Instrument or software named in the file.")
    columns: dict[str, str] = Field(default_factory=dict, description="Role ('E', 'I', 't', 'cycle') -> column name.")
    units: dict[str, str] = Field(default_factory=dict, description="Role -> unit as found in the file.")
    area: PositiveFloat | None = Field(default=None, description="Electrode area used or stated, m^2.")
    current_inverted: bool = Field(default=False, description="True if the file's current sign was flipped.")
    scan_rate_source: str | None = Field(default=None, description="'header', 'given', 'estimated' or None.")
    header: dict[str, str] = Field(default_factory=dict, description="Settings found in the file header.")
    concentration: PositiveFloat | None = Field(default=None, description="Bulk concentration stated, mol/m^3.")
    missing: dict[str, str] = Field(
        default_factory=dict,
        description="Quantities an analysis needs that the file does not give (or gives only as a placeholder): "
        "'area', 'concentration', 'scan_rate' -> why. Supply them explicitly; they are never guessed.",
    )
    notes: list[str] = Field(default_factory=list, description="How ambiguous parts of the file were read.")


class Voltammogram(ToolModel):
    """A measured (or simulated) potential-current trace in SI units; oxidation current positive.

    Also used for chronoamperograms, where ``E`` is (nearly) constant and ``t`` is required.
    """

    E: PotentialTrace = Field(description="Electrode potential, V (vs the file's reference), shape (n,).")
    I: Trace = Field(description="Current, A, oxidation positive, shape (n,).")
    t: Trace | None = Field(default=None, description="Time, s, shape (n,).")
    cycle: _CycleIndex | None = Field(default=None, description="Cycle (or curve/segment) index per point, shape (n,).")
    scan_rate: ScanRate | None = Field(default=None, description="Scan rate |dE/dt|, V/s.")
    metadata: VoltammogramMetadata = Field(default_factory=VoltammogramMetadata)

    @model_validator(mode="after")
    def _same_lengths(self) -> Voltammogram:
        n = len(self.E)
        if n < 2:
            raise ValueError("a voltammogram needs at least 2 points")
        for name in ("I", "t", "cycle"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(f"'{name}' has {len(values)} points but 'E' has {n}")
        return self

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(E, I, t)`` as float64 NumPy arrays (V, A, s); ``t`` is None when absent."""
        t = None if self.t is None else np.asarray(self.t, dtype=float)
        return np.asarray(self.E, dtype=float), np.asarray(self.I, dtype=float), t

    def last_complete_cycle(self) -> int | None:
        """Number of the last cycle that sweeps the whole potential window (None without cycle information).

        A cycle is complete when its potential range covers at least 90 % of the widest cycle's range and it has at
        least 90 % as many points as the longest cycle: an interrupted last cycle, or a first one that starts
        mid-window, is passed over.
        """
        if self.cycle is None:
            return None
        E, cyc = np.asarray(self.E), np.asarray(self.cycle)
        numbers = sorted(set(self.cycle))
        span = {c: float(np.ptp(E[cyc == c])) for c in numbers}
        count = {c: int(np.sum(cyc == c)) for c in numbers}
        wide, long = max(span.values()), max(count.values())
        complete = [c for c in numbers if span[c] >= 0.9 * wide and count[c] >= 0.9 * long]
        return complete[-1] if complete else numbers[-1]

    def with_default_cycle(self) -> Voltammogram:
        """The last complete cycle of a multi-cycle recording (noted in the metadata); otherwise ``self``."""
        if self.cycle is None or len(set(self.cycle)) < 2:
            return self
        keep = self.last_complete_cycle()
        one = self.select_cycle(keep)
        note = f"kept cycle {keep}, the last complete one of cycles {sorted(set(self.cycle))}"
        return one.model_copy(
            update={"metadata": one.metadata.model_copy(update={"notes": [*self.metadata.notes, note]})}
        )

    def select_cycle(self, cycle: int) -> Voltammogram:
        """The points of one cycle; :class:`InvalidInput` if the cycle is absent."""
        if self.cycle is None:
            raise InvalidInput("cycle", "this voltammogram has no cycle information")
        keep = [i for i, c in enumerate(self.cycle) if c == cycle]
        if len(keep) < 2:
            raise InvalidInput("cycle", f"cycle {cycle} not found; cycles present: {sorted(set(self.cycle))}")
        return Voltammogram(
            E=[self.E[i] for i in keep],
            I=[self.I[i] for i in keep],
            t=None if self.t is None else [self.t[i] for i in keep],
            cycle=[cycle] * len(keep),
            scan_rate=self.scan_rate,
            metadata=self.metadata,
        )


# ----------------------------------------------------------------------------------------------------- units ----

_ROLE_UNIT = {"E": "V", "I": "A", "t": "s"}
_ROLE_FIELD = {"E": "potential_unit", "I": "current_unit", "t": "time_unit"}
# Symbols instruments print in a unit's place ("Current(I)", "Potential(E)"): they name the quantity, not a unit.
_SYMBOLS = {"E": {"e", "ewe", "u"}, "I": {"i", "j"}, "t": {"t"}}


@functools.cache
def _registry():
    import pint  # loaded on first use: it parses its unit definitions at import

    return pint.UnitRegistry()


def _pint_spelling(unit: str) -> str:
    """Instrument spellings in pint's syntax: 'µA' -> 'uA', 'cm²'/'cm^2'/'cm2' -> 'cm**2', 'V vs. Ref.' -> 'V'."""
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace("²", "^2").replace("^", "**")
    u = re.split(r"\s*\(?\s*vs\.?\s", u, maxsplit=1)[0]  # Gamry "V vs. Ref.", "V (vs SCE)"
    u = re.sub(r"(?<=[A-Za-z])([23])\b", r"**\1", u)  # "cm2" -> "cm**2"
    return u.replace("sec", "s") if u.lower() == "sec" else u


def is_unit_symbol(role: str, unit: str) -> bool:
    """True when a header's bracketed token names the quantity (``Current(I)``) rather than giving its unit."""
    return unit.strip().lower() in _SYMBOLS.get(role, set())


def unit_factor(role: str, unit: str, *, area: float | None = None) -> float:
    """Factor that converts a column in ``unit`` to SI for ``role`` ('E' -> V, 'I' -> A, 't' -> s).

    Units are parsed by pint, so any SI prefix and the usual spellings (``µA``, ``mA/cm^2``, ``A/m2``, ``min``,
    ``V vs. Ref.``) work. Current densities are multiplied by ``area`` (m²), which is then required.

    Raises
    ------
    InvalidInput
        Unknown unit, a unit of the wrong dimension, or a current density without an area.
    """
    import pint

    field = _ROLE_FIELD.get(role, "unit")
    if role not in _ROLE_UNIT:
        raise InvalidInput("role", f"unknown role {role!r}; use 'E', 'I' or 't'")
    ureg = _registry()
    try:
        quantity = ureg.Quantity(1.0, _pint_spelling(unit))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError,
            ValueError, AssertionError):  # fmt: skip
        raise InvalidInput(field, f"unknown unit {unit!r} for {role}") from None
    target = _ROLE_UNIT[role]
    if quantity.check(ureg.Unit(target).dimensionality):
        return float(quantity.to(target).magnitude)
    if role == "I" and quantity.check((ureg.A / ureg.m**2).dimensionality):
        if area is None:
            raise InvalidInput("area", f"current is a density ({unit}); give the electrode area in m^2")
        return float(quantity.to("A/m**2").magnitude) * area
    raise InvalidInput(field, f"unit {unit!r} is not a {dict(E='potential', I='current', t='time')[role]} unit")


def convert(value: float, unit: str, target: str) -> float | None:
    """``value`` in ``unit`` expressed in ``target`` (e.g. 0.001 'cm²' -> 'm**2'); None if pint cannot convert."""
    import pint

    try:
        return float(_registry().Quantity(value, _pint_spelling(unit)).to(target).magnitude)
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, AssertionError):
        return None


_NAME_UNIT = re.compile(r"^\s*(?P<name>.*?)\s*(?:/\s*(?P<slash>[^/].*)|\((?P<paren>[^)]*)\)|\[(?P<brack>[^\]]*)\])\s*$")


def _split_name_unit(column: str) -> tuple[str, str | None]:
    """``'Ewe/V'`` -> ``('Ewe', 'V')``; ``'I (uA)'`` -> ``('I', 'uA')``; ``'j [mA/cm^2]'`` -> ``('j', 'mA/cm^2')``."""
    m = _NAME_UNIT.match(column)
    if not m or not m.group("name"):
        return column.strip(), None
    unit = m.group("slash") or m.group("paren") or m.group("brack")
    return m.group("name").strip(), unit.strip() if unit else None


_ROLE_NAMES = {
    "E": ("e", "ewe", "potential", "voltage", "v", "vf", "e_we", "e_app", "potential_applied", "we(1).potential"),
    "I": ("i", "<i>", "current", "im", "j", "current density", "i_we", "we(1).current", "curr"),
    "t": ("t", "time", "elapsed time", "time_s", "t_s"),
    "cycle": ("cycle number", "cycle", "cycle_number", "scan", "segment"),
}


def _find_role(names: Sequence[str], role: str) -> int | None:
    bare = [_split_name_unit(n)[0].lower() for n in names]
    for candidate in _ROLE_NAMES[role]:
        if candidate in bare:
            return bare.index(candidate)
    return None


# ----------------------------------------------------------------------------------------------------- helpers ----


def _read_text(path: Path) -> tuple[list[str], str]:
    raw = read_user_file(path)
    if not raw.strip():
        raise MalformedFile(str(path), "file is empty", line=1)
    if b"\x00" in raw[:65536]:  # text exports never hold NUL bytes; binary (or UTF-16) files do
        raise MalformedFile(str(path), "binary data, not a text export (save it as CSV/TXT in UTF-8 or Windows-1252)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # EC-Lab and CHI write Windows-1252 ("cm²", "µ")
        text = raw.decode("cp1252", errors="replace")
    return text.splitlines(), hashlib.sha256(raw).hexdigest()


def _to_float(token: str, *, path: Path, line: int, decimal_comma: bool = False) -> float:
    tok = token.strip()
    if decimal_comma:
        tok = tok.replace(",", ".")
    try:
        value = float(tok)
    except ValueError:
        raise MalformedFile(str(path), f"not a number: {token.strip()!r}", line=line) from None
    if not np.isfinite(value):
        raise MalformedFile(str(path), f"non-finite value {token.strip()!r}", line=line)
    return value


def _rows_to_array(rows: list[tuple[int, list[str]]], n_cols: int, path: Path, *, decimal_comma: bool = False):
    out = np.empty((len(rows), n_cols))
    for k, (line, fields) in enumerate(rows):
        if len(fields) < n_cols:
            raise MalformedFile(
                str(path), f"row has {len(fields)} fields, expected {n_cols} (truncated file?)", line=line
            )
        for j in range(n_cols):
            out[k, j] = _to_float(fields[j], path=path, line=line, decimal_comma=decimal_comma)
    return out


def estimate_scan_rate(E: np.ndarray, t: np.ndarray) -> float | None:
    """Median |dE/dt| over the points where time advances and the potential moves, V/s; None if undefined."""
    dE, dt = np.diff(E), np.diff(t)
    ok = (dt > 0) & (np.abs(dE) > 0)
    if ok.sum() < 2:
        return None
    return float(np.median(np.abs(dE[ok] / dt[ok])))


def _finish(E, I, t, cycle, meta: VoltammogramMetadata, scan_rate: float | None) -> Voltammogram:
    """Assemble the SI arrays and metadata; flip the current if asked; estimate the scan rate from t if unknown."""
    if meta.current_inverted:
        I = -I
    if scan_rate is None and t is not None:
        scan_rate = estimate_scan_rate(E, t)
        meta = meta.model_copy(update={"scan_rate_source": "estimated" if scan_rate is not None else None})
    if scan_rate is None:
        why = "no scan rate in the header and no time column to estimate it from; give scan_rate (V/s)"
        meta = meta.model_copy(update={"missing": {**meta.missing, "scan_rate": why}})
    try:
        return Voltammogram(
            E=E.tolist(),
            I=I.tolist(),
            t=None if t is None else t.tolist(),
            cycle=None if cycle is None else [int(c) for c in cycle],
            scan_rate=scan_rate,
            metadata=meta,
        )
    except ValidationError as err:  # the file's data break the model (one row, inf, too many rows): a bad file
        bad = invalid_input_from(err)
        raise MalformedFile(meta.source_path or "<data>", f"{bad.field}: {bad.reason}") from None


# ------------------------------------------------------------------------------------------------------- CSV ----


def _column_index(spec: str | int | None, names: list[str], role: str, path: Path, field: str) -> int | None:
    if spec is None:
        return _find_role(names, role)
    if isinstance(spec, int):
        if not 0 <= spec < len(names):
            raise InvalidInput(field, f"column index {spec} out of range (file has {len(names)} columns)")
        return spec
    for i, n in enumerate(names):
        if n.strip() == spec or _split_name_unit(n)[0] == spec:
            return i
    raise InvalidInput(field, f"column {spec!r} not in {path.name}; columns are {names}")


def read_csv_voltammogram(
    path: str | Path,
    *,
    potential_column: str | int | None = None,
    current_column: str | int | None = None,
    time_column: str | int | None = None,
    cycle_column: str | int | None = None,
    potential_unit: str | None = None,
    current_unit: str | None = None,
    time_unit: str | None = None,
    area: float | None = None,
    delimiter: str | None = None,
    scan_rate: float | None = None,
    invert_current: bool = False,
) -> Voltammogram:
    """Read a delimited text file (comma, tab, semicolon or whitespace) with one header row.

    Lines starting with ``#`` before the header are comments; ``# key: value`` or ``# key = value`` comments are
    kept in ``metadata.header``, and a ``scan_rate`` entry there (V/s) is used when ``scan_rate`` is not given.
    Columns are chosen by name or 0-based index, or found from the header names; units come from the arguments, or
    from the header (``E/mV``), or default to V, A and s.

    Raises
    ------
    MalformedFile
        No header, a non-numeric field, or a short (truncated) row, with its line number.
    InvalidInput
        A column or unit that does not exist, or a current density without ``area``.
    """
    path = Path(path)
    lines, sha = _read_text(path)
    header: dict[str, str] = {}
    names: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    sep = delimiter
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if names is None and line.startswith("#"):
            m = re.match(r"#\s*([^:=]+?)\s*[:=]\s*(.+)$", line)
            if m:
                header[m.group(1).strip()] = m.group(2).strip()
            continue
        if sep is None:
            sep = next((s for s in ("\t", ",", ";") if s in line), None)
        fields = line.split(sep) if sep is not None else line.split()
        if names is None:
            names = [f.strip().strip('"') for f in fields]
            if all(_is_number(n) for n in names):
                raise MalformedFile(str(path), "no header row with column names before the data", line=lineno)
            continue
        rows.append((lineno, fields))
    if names is None or not rows:
        raise MalformedFile(str(path), "no data rows", line=len(lines))

    idx = {
        "E": _column_index(potential_column, names, "E", path, "potential_column"),
        "I": _column_index(current_column, names, "I", path, "current_column"),
        "t": _column_index(time_column, names, "t", path, "time_column"),
        "cycle": _column_index(cycle_column, names, "cycle", path, "cycle_column"),
    }
    for role, field in (("E", "potential_column"), ("I", "current_column")):
        if idx[role] is None:
            raise InvalidInput(field, f"no {role} column recognised among {names}; name it explicitly")
    given = {"E": potential_unit, "I": current_unit, "t": time_unit}
    units, notes = {}, []
    for role in ("E", "I", "t"):
        if idx[role] is None:
            continue
        column, written = names[idx[role]], _split_name_unit(names[idx[role]])[1]
        if given[role] is None and written is not None and is_unit_symbol(role, written):
            notes.append(f"column {column!r} names its quantity, not a unit: read as {_ROLE_UNIT[role]}")
            written = None
        elif given[role] is None and written is None:
            notes.append(f"column {column!r} gives no unit: read as {_ROLE_UNIT[role]}")
        units[role] = given[role] or written or _ROLE_UNIT[role]
    if area is None:
        area = _header_quantity(header, ("electrode_area_m2", "area_m2", "electrode area (m2)"), path)
    concentration = _header_quantity(header, ("concentration_mol_per_m3", "c_bulk", "concentration (mM)"), path)
    used = [i for i in idx.values() if i is not None]
    data = _rows_to_array([(ln, [f.strip() for f in fs]) for ln, fs in rows], max(used) + 1, path)
    E = data[:, idx["E"]] * unit_factor("E", units["E"])
    I = data[:, idx["I"]] * unit_factor("I", units["I"], area=area)
    t = data[:, idx["t"]] * unit_factor("t", units["t"]) if idx["t"] is not None else None
    cycle = data[:, idx["cycle"]].astype(int) if idx["cycle"] is not None else None
    source = "given" if scan_rate is not None else None
    if scan_rate is None:
        for key in ("scan_rate", "scan rate", "scan_rate_V_per_s", "Scan Rate (V/s)"):
            if key in header:
                scan_rate = _to_float(header[key].split()[0], path=path, line=1)
                source = "header"
                break
    missing = {}
    if area is None:
        missing["area"] = "no electrode area given or stated in the header (e.g. '# electrode_area_m2: 7.07e-6')"
    if concentration is None:
        missing["concentration"] = "no bulk concentration stated in the header (e.g. '# concentration_mol_per_m3: 1')"
    meta = VoltammogramMetadata(
        source_path=str(path), sha256=sha, format="csv", columns={r: names[i] for r, i in idx.items() if i is not None},
        units=units, area=area, current_inverted=invert_current, scan_rate_source=source, header=header,
        technique=header.get("technique"), instrument=header.get("instrument"), concentration=concentration,
        missing=missing, notes=notes,
    )  # fmt: skip
    return _finish(E, I, t, cycle, meta, scan_rate)


def _header_quantity(header: dict[str, str], keys: Sequence[str], path: Path) -> float | None:
    """The first positive number under one of ``keys`` in a CSV's ``# key: value`` comments (in the key's unit)."""
    for key in keys:
        if key in header:
            value = _to_float(header[key].split()[0], path=path, line=1)
            if value <= 0:
                raise MalformedFile(str(path), f"header '{key}' must be positive, got {value}", line=1)
            return value
    return None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------- EC-Lab ----


def read_mpt(path: str | Path, *, area: float | None = None, invert_current: bool = False) -> Voltammogram:
    """Read a BioLogic EC-Lab ASCII export (``.mpt``).

    Uses ``Ewe/V`` (or ``<Ewe>/V``), ``<I>/mA`` (or ``I/mA``), ``time/s`` and ``cycle number`` when present.

    Raises
    ------
    MalformedFile
        Missing magic line or header count, a header count past the end of the file (truncated), a missing column,
        a non-numeric field or a short row, with the line number.
    """
    path = Path(path)
    lines, sha = _read_text(path)
    if not lines[0].strip().startswith("EC-Lab ASCII FILE"):
        raise MalformedFile(str(path), "first line is not 'EC-Lab ASCII FILE'", line=1)
    m = re.match(r"\s*Nb header lines\s*:\s*(\d+)", lines[1]) if len(lines) > 1 else None
    if not m:
        raise MalformedFile(str(path), "second line is not 'Nb header lines : N'", line=2)
    n_header = int(m.group(1))
    if n_header < 3 or n_header > len(lines):
        raise MalformedFile(str(path), f"header says {n_header} lines but the file has {len(lines)}", line=len(lines))
    header_lines = lines[:n_header]
    names = [n.strip() for n in header_lines[-1].split("\t") if n.strip()]
    header: dict[str, str] = {}
    technique = header_lines[3].strip() if n_header > 4 and header_lines[3].strip() else None
    software = next((ln.strip() for ln in header_lines if ln.startswith("EC-Lab for")), None)
    for raw in header_lines[2:-1]:
        if " : " in raw:
            key, _, value = raw.partition(" : ")
            header.setdefault(key.strip(), value.strip())
        else:  # settings table: key padded to a fixed column, then the value
            parts = re.split(r"\s{2,}", raw.strip())
            if len(parts) >= 2:
                header.setdefault(parts[0].strip(), parts[1].strip())
    idx = {}
    for role, wanted in (
        ("t", ("time/s",)),
        ("E", ("Ewe/V", "<Ewe>/V", "Ewe/mV", "<Ewe/V>")),
        ("I", ("<I>/mA", "I/mA", "<I>/A", "I/A", "<I>/uA", "<I>/µA")),
        ("cycle", ("cycle number",)),
    ):
        idx[role] = next((names.index(w) for w in wanted if w in names), None)
    for role in ("E", "I"):
        if idx[role] is None:
            raise MalformedFile(str(path), f"no {role} column among {names}", line=n_header)
    rows = [(ln, raw.split("\t")) for ln, raw in enumerate(lines[n_header:], start=n_header + 1) if raw.strip()]
    if not rows:
        raise MalformedFile(str(path), "no data rows after the header", line=len(lines))
    sample = rows[0][1][idx["E"]]
    decimal_comma = "," in sample and "." not in sample
    data = _rows_to_array(rows, max(i for i in idx.values() if i is not None) + 1, path, decimal_comma=decimal_comma)
    units = {r: _split_name_unit(names[i])[1] or "" for r, i in idx.items() if i is not None and r != "cycle"}
    missing: dict[str, str] = {}
    if area is None:
        area, why = _mpt_area(header.get("Electrode surface area"))
        if why:
            missing["area"] = why
    E = data[:, idx["E"]] * unit_factor("E", units["E"])
    I = data[:, idx["I"]] * unit_factor("I", units["I"])
    t = data[:, idx["t"]] if idx["t"] is not None else None
    cycle = data[:, idx["cycle"]].astype(int) if idx["cycle"] is not None else None
    scan_rate, source = None, None
    if "dE/dt" in header:
        value = _to_float(header["dE/dt"], path=path, line=1, decimal_comma=True)
        rate = convert(value, header.get("dE/dt unit", "mV/s"), "V/s")
        if rate is not None and rate > 0:
            scan_rate, source = rate, "header"
    missing["concentration"] = "EC-Lab files do not record the bulk concentration"
    meta = VoltammogramMetadata(
        source_path=str(path), sha256=sha, format="mpt", columns={r: names[i] for r, i in idx.items() if i is not None},
        units=units, area=area, current_inverted=invert_current, scan_rate_source=source, header=header,
        technique=technique, instrument="; ".join(x for x in (header.get("Device"), software) if x) or None,
        missing=missing,
    )  # fmt: skip
    return _finish(E, I, t, cycle, meta, scan_rate)


# EC-Lab fills "Electrode surface area" with 0.001 cm² (and "Characteristic mass" with 0.001 g) until the user types a
# value, so that value says nothing about the electrode.
_ECLAB_PLACEHOLDER_AREA = 1e-7  # m², = 0.001 cm²


def _mpt_area(text: str | None) -> tuple[float | None, str | None]:
    """Area (m²) stated in an EC-Lab header, or None with the reason it is missing."""
    if text is None:
        return None, "the file has no 'Electrode surface area' line"
    m = re.match(r"\s*([0-9.,eE+-]+)\s*(.*)$", text)
    value = convert(float(m.group(1).replace(",", ".")), m.group(2).strip() or "cm^2", "m**2") if m else None
    if value is None or not value > 0:
        return None, f"unreadable 'Electrode surface area : {text}'"
    if math.isclose(value, _ECLAB_PLACEHOLDER_AREA, rel_tol=1e-6):
        return None, f"'Electrode surface area : {text}' is EC-Lab's placeholder, not a measured area"
    return value, None


# ------------------------------------------------------------------------------------------------------- CHI ----

_CHI_TITLE = re.compile(r"^\s*Potential/V\s*,\s*(?:i|Current)/A", re.IGNORECASE)
_CHI_DATE = re.compile(r"^\s*[A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*$")
_CHI_SEGMENT = re.compile(r"^\s*Segment\s+(\d+)\s*:\s*$")


def _chi_segment_notes(E: np.ndarray, listed: list[int], recorded: str | None) -> list[str]:
    """A note when the data hold fewer sweep segments than the run recorded (CHI exports the segments chosen)."""
    try:
        total = int(recorded) if recorded is not None else None
    except ValueError:
        return [f"'Segment = {recorded}' is not a whole number of sweep segments"]
    held = len(sweep_bounds(E)) - 1
    if total is None or held >= total:
        return []
    which = f" (its Results section lists segment(s) {', '.join(map(str, listed))})" if listed else ""
    return [f"the data hold {held} of the {total} sweep segments recorded{which}; the others are not in the file"]


_CHI_TITLE_CA = re.compile(r"^\s*Time/(?:s|sec)\s*,\s*(?:i|Current)/A", re.IGNORECASE)


def read_chi(path: str | Path, *, invert_current: bool = False) -> Voltammogram:
    """Read a CH Instruments text export (CV, LSV or i-t / chronoamperometry).

    CHI software can be set to the "US" polarity (cathodic current positive); pass ``invert_current=True`` for files
    recorded that way. Segment markers (``Segment n:``) before the data are settings, not data; the data rows are
    numbered as segment 1 unless the file has no segment count.

    Raises
    ------
    MalformedFile
        No ``Potential/V, Current/A`` (or ``Time/s, Current/A``) title line, a non-numeric field or a short row.
    """
    path = Path(path)
    lines, sha = _read_text(path)
    header: dict[str, str] = {}
    title_line = None
    segments: list[int] = []  # the "Segment n:" blocks of the Results section: the segments the export holds
    for lineno, raw in enumerate(lines, start=1):
        if _CHI_TITLE.match(raw) or _CHI_TITLE_CA.match(raw):
            title_line = lineno
            break
        if lineno == 1 and _CHI_DATE.match(raw):  # the export's first line is its date and time, not a key: value
            header["Date"] = " ".join(raw.split())
            continue
        if m := _CHI_SEGMENT.match(raw):
            segments.append(int(m.group(1)))
        if "=" in raw:
            key, _, value = raw.partition("=")
            header[key.strip()] = value.strip()
        elif ":" in raw:
            key, _, value = raw.partition(":")
            header.setdefault(key.strip(), value.strip())
    if title_line is None:
        raise MalformedFile(str(path), "no 'Potential/V, Current/A' or 'Time/s, Current/A' title line", line=len(lines))
    names = [n.strip() for n in lines[title_line - 1].split(",")]
    rows = [(ln, raw.split(",")) for ln, raw in enumerate(lines[title_line:], start=title_line + 1) if raw.strip()]
    if not rows:
        raise MalformedFile(str(path), "no data rows after the title line", line=len(lines))
    data = _rows_to_array(rows, len(names), path)
    technique = lines[1].strip() if len(lines) > 1 else None
    lower = [n.lower() for n in names]
    t_idx = next((i for i, n in enumerate(lower) if n.startswith("time/")), None)
    e_idx = next((i for i, n in enumerate(lower) if n.startswith("potential/")), None)
    i_idx = next(i for i, n in enumerate(lower) if n.endswith("/a") and (n.startswith("current") or n.startswith("i/")))
    t = data[:, t_idx] * unit_factor("t", _split_name_unit(names[t_idx])[1]) if t_idx is not None else None
    if e_idx is not None:
        E = data[:, e_idx]
    else:  # i-t: constant potential from the settings
        e_init = header.get("Init E (V)")
        if e_init is None:
            raise MalformedFile(str(path), "i-t file without 'Init E (V)' setting", line=title_line)
        E = np.full(len(data), _to_float(e_init, path=path, line=1))
    scan_rate, source = None, None
    if "Scan Rate (V/s)" in header:
        scan_rate, source = _to_float(header["Scan Rate (V/s)"], path=path, line=1), "header"
    columns = {"E": names[e_idx] if e_idx is not None else "Init E (V)", "I": names[i_idx]}
    units = {"E": "V", "I": "A"}
    if t_idx is not None:
        columns["t"], units["t"] = names[t_idx], "s"
    missing = {
        "area": "CH Instruments text exports do not record the electrode area",
        "concentration": "CH Instruments text exports do not record the bulk concentration",
    }
    meta = VoltammogramMetadata(
        source_path=str(path), sha256=sha, format="chi", columns=columns, units=units, current_inverted=invert_current,
        scan_rate_source=source, header=header, technique=technique, instrument=header.get("Instrument Model"),
        missing=missing, notes=_chi_segment_notes(E, segments, header.get("Segment")),
    )  # fmt: skip
    return _finish(E, data[:, i_idx], t, None, meta, scan_rate)


# ----------------------------------------------------------------------------------------------------- Gamry ----

_DTA_TABLE = re.compile(r"^(\w+)\tTABLE(?:\t(\d+))?\s*$")


def read_dta(path: str | Path, *, invert_current: bool = False) -> Voltammogram:
    """Read a Gamry Framework ``.DTA`` file (EXPLAIN format): CV (``CURVEn`` tables) or chronoamperometry.

    Uses columns ``T`` (s), ``Vf`` (V vs Ref.) and ``Im`` (A); each ``CURVEn`` block becomes cycle n. Pre-test
    ``OCVCURVE`` tables are skipped. ``SCANRATE`` (mV/s) and ``AREA`` (cm²) header values are converted to SI.

    Raises
    ------
    MalformedFile
        Missing ``EXPLAIN`` magic, a table without name/unit rows or the ``T``/``Vf``/``Im`` columns, a table with
        fewer rows than its declared count (truncated), a non-numeric field or a short row.
    """
    path = Path(path)
    lines, sha = _read_text(path)
    if lines[0].strip() != "EXPLAIN":
        raise MalformedFile(str(path), "first line is not 'EXPLAIN' (not a Gamry DTA file)", line=1)
    header: dict[str, str] = {}
    blocks: list[tuple[str, int, int | None, list[str], list[tuple[int, list[str]]]]] = []
    current = None
    lineno = 1
    while lineno < len(lines):
        raw = lines[lineno]
        lineno += 1
        m = _DTA_TABLE.match(raw)
        if m:
            if lineno + 1 > len(lines):
                raise MalformedFile(str(path), f"table {m.group(1)} has no column rows", line=lineno)
            names = [n.strip() for n in lines[lineno].split("\t")[1:]]
            current = (m.group(1), lineno - 1 + 1, int(m.group(2)) if m.group(2) else None, names, [])
            blocks.append(current)
            lineno += 2  # name row and unit row
            continue
        if raw.startswith("\t") and current is not None:
            current[4].append((lineno, raw.split("\t")[1:]))
            continue
        current = None
        if raw.startswith("\t") or not raw.strip():
            continue  # continuation of a NOTES value, or blank
        parts = raw.split("\t")
        if len(parts) >= 3:
            header[parts[0]] = parts[2].strip()
        elif len(parts) == 2:  # e.g. "TAG<TAB>CV"
            header[parts[0]] = parts[1].strip()
    curves = [b for b in blocks if b[0].startswith("CURVE")]
    if not curves:
        raise MalformedFile(str(path), "no CURVE table found", line=len(lines))
    E_parts, I_parts, t_parts, cyc_parts = [], [], [], []
    for k, (name, at, count, names, rows) in enumerate(curves, start=1):
        for col in ("T", "Vf", "Im"):
            if col not in names:
                raise MalformedFile(str(path), f"table {name} has no column {col!r} (columns: {names})", line=at + 1)
        if count is not None and len(rows) < count:
            last = rows[-1][0] if rows else at + 2
            raise MalformedFile(
                str(path), f"table {name} declares {count} rows but has {len(rows)} (truncated file)", line=last
            )
        if not rows:
            raise MalformedFile(str(path), f"table {name} has no data rows", line=at + 2)
        cols = [names.index(c) for c in ("T", "Vf", "Im")]
        data = _rows_to_array(rows, max(cols) + 1, path)
        t_parts.append(data[:, cols[0]])
        E_parts.append(data[:, cols[1]])
        I_parts.append(data[:, cols[2]])
        cyc_parts.append(np.full(len(data), int(name[5:]) if name[5:].isdigit() else k))
    scan_rate, source = None, None
    if "SCANRATE" in header:
        scan_rate, source = _to_float(header["SCANRATE"], path=path, line=1) * 1e-3, "header"
    area = _to_float(header["AREA"], path=path, line=1) * 1e-4 if "AREA" in header else None
    missing = {"concentration": "Gamry files do not record the bulk concentration"}
    if area is None:
        missing["area"] = "the file has no AREA setting"
    elif math.isclose(area, _GAMRY_DEFAULT_AREA, rel_tol=1e-9):
        # Framework's default AREA of 1 cm^2 stays in the file unless the user changes it: not evidence of the area
        area, missing["area"] = None, "AREA is Framework's default 1 cm², not a measured area; give area if it is real"
    meta = VoltammogramMetadata(
        source_path=str(path), sha256=sha, format="dta", columns={"E": "Vf", "I": "Im", "t": "T", "cycle": "CURVEn"},
        units={"E": "V", "I": "A", "t": "s"}, area=area, current_inverted=invert_current, scan_rate_source=source,
        header=header, technique=header.get("TAG"), instrument=_dta_instrument(header), missing=missing,
    )  # fmt: skip
    parts = (np.concatenate(E_parts), np.concatenate(I_parts), np.concatenate(t_parts), np.concatenate(cyc_parts))
    return _finish(*parts, meta, scan_rate)


_GAMRY_DEFAULT_AREA = 1e-4  # m², Framework's default AREA (1 cm²)


def _dta_instrument(header: dict[str, str]) -> str:
    """``'Gamry <PSTAT> (Framework <version>)'`` from the PSTAT and FRAMEWORKVERSION settings when present."""
    parts = ["Gamry"]
    if header.get("PSTAT"):
        parts.append(header["PSTAT"])
    if header.get("FRAMEWORKVERSION"):
        parts.append(f"(Framework {header['FRAMEWORKVERSION']})")
    return " ".join(parts)


# ------------------------------------------------------------------------------------------------ dispatcher ----


def detect_format(path: str | Path) -> FileFormat:
    """Guess the layout from the first lines (magic strings), falling back to the extension, then CSV."""
    path = Path(path)
    raw_head = read_user_file(path, head=4096)
    if raw_head.startswith(MPR_MAGIC):
        return "mpr"
    head = raw_head.decode("utf-8", errors="replace")
    first = head.lstrip("\ufeff").splitlines()[:1]
    if first and first[0].startswith("EC-Lab ASCII FILE"):
        return "mpt"
    if first and first[0].strip() == "EXPLAIN":
        return "dta"
    # CHI writes a date line and the technique before its "Potential/V, Current/A" title; a file that starts with
    # that title is a plain CSV with CHI-like column names.
    title = re.search(r"^\s*(Potential/V|Time/s(ec)?)\s*,\s*(i|Current)/A", head, re.MULTILINE | re.IGNORECASE)
    if (title and head[: title.start()].strip()) or ("Instrument Model:" in head and "CHI" in head):
        return "chi"
    suffix = path.suffix.lower()
    return {".mpt": "mpt", ".mpr": "mpr", ".dta": "dta"}.get(suffix, "csv")  # type: ignore[return-value]


def read_voltammogram_file(
    path: str | Path, *, format: FileFormat | Literal["auto"] = "auto", **options
) -> Voltammogram:
    """Read any supported file into a :class:`Voltammogram` (V, A, s; oxidation positive).

    Parameters
    ----------
    path
        File to read.
    format
        ``"auto"`` (magic strings, then extension), ``"csv"``, ``"mpt"``, ``"mpr"`` (EC-Lab binary), ``"chi"`` or
        ``"dta"``.
    **options
        Passed to the format's reader: column names/indices and units for CSV, ``area`` (m²), ``scan_rate`` (V/s,
        CSV only), ``invert_current``.
    """
    fmt = detect_format(path) if format == "auto" else format
    from ._mpr import read_mpr  # the binary reader builds on this module's model (imported here, not at the top)

    readers = {"csv": read_csv_voltammogram, "mpt": read_mpt, "mpr": read_mpr, "chi": read_chi, "dta": read_dta}
    if fmt not in readers:
        raise InvalidInput("format", f"unknown format {fmt!r}; use one of {sorted(readers)} or 'auto'")
    reader = readers[fmt]
    allowed = set(reader.__code__.co_varnames[1 : reader.__code__.co_argcount + reader.__code__.co_kwonlyargcount])
    unknown = {k for k, v in options.items() if v is not None} - allowed
    if unknown:
        raise InvalidInput(sorted(unknown)[0], f"not an option of the {fmt} reader (options: {sorted(allowed)})")
    return reader(path, **{k: v for k, v in options.items() if v is not None})
