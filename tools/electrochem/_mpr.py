"""BioLogic EC-Lab binary ``.mpr`` files: potential, current, time and cycle from the data module.

Layout (written from the files themselves and checked on every read, not taken from another reader): the file opens
with ``BIO-LOGIC MODULAR FILE`` and a 0x1A byte, padded to 52 bytes; then modules follow, each ``MODULE``, a 10-byte
short name, a 25-byte long name and a small header before its body:

* newer EC-Lab (the header's first word is 0xFFFFFFFF): max length, body length, a reserved word and the module
  version (four little-endian uint32), then an 8-byte date ``mm/dd/yy``; in the data module the column count is a
  uint16 and the rows start 1007 bytes into the body.
* older EC-Lab: body length and version (uint32 each), then the date; the column count is a uint8 and the rows start
  406 bytes into the body (405 for version < 2).

The data module (``VMP data``) starts with the number of rows (uint32), the column count and one uint16 identifier
per column; the rows that follow are packed records. The identifiers are EC-Lab's; :data:`COLUMNS` lists the ones
whose meaning and width are known here. All bit-flag columns (mode, ox/red, error, control changes, Ns changes,
counter inc.) share one byte. Every read checks that the rows fill the body exactly (rows × record size), and a
column this reader needs must not follow a column of unknown width, so a wrong table cannot go unnoticed: the file
is refused with :class:`~labwright.errors.MalformedFile` naming the column instead of being read misaligned.

The settings module is not decoded (its fields sit at technique-specific offsets), so the electrode area and bulk
concentration are reported missing, and the scan rate is estimated from the recorded potential and time.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

from ...errors import MalformedFile
from .._files import read_user_file
from ._readers import MPR_MAGIC, Voltammogram, VoltammogramMetadata, _finish

__all__ = ["COLUMNS", "MPR_MAGIC", "read_mpr", "mpr_modules"]

_FILE_HEADER = 52  # magic + spaces + 4 zero bytes
_FLAG_IDS = frozenset({1, 2, 3, 21, 31, 65})  # packed together into one uint8

# identifier -> (EC-Lab's column name, NumPy dtype); widths confirmed by the exact record sizes of real files
COLUMNS: dict[int, tuple[str, str]] = {
    4: ("time/s", "<f8"),
    6: ("Ewe/V", "<f4"),
    7: ("dq/mA.h", "<f8"),
    8: ("I/mA", "<f4"),
    11: ("<I>/mA", "<f8"),
    13: ("(Q-Qo)/mA.h", "<f8"),
    16: ("Analog IN 1/V", "<f4"),
    17: ("Analog IN 2/V", "<f4"),
    19: ("control/V", "<f4"),
    20: ("control/mA", "<f4"),
    23: ("dQ/mA.h", "<f8"),
    24: ("cycle number", "<f8"),
    32: ("freq/Hz", "<f4"),
    33: ("|Ewe|/V", "<f4"),
    34: ("|I|/A", "<f4"),
    35: ("Phase(Z)/deg", "<f4"),
    36: ("|Z|/Ohm", "<f4"),
    37: ("Re(Z)/Ohm", "<f4"),
    38: ("-Im(Z)/Ohm", "<f4"),
    39: ("I Range", "<u2"),
    70: ("P/W", "<f4"),
    76: ("<I>/mA", "<f4"),
    77: ("<Ewe>/V", "<f4"),
    131: ("Ns", "<u2"),
    169: ("Cs/µF", "<f4"),
    172: ("Cp/µF", "<f4"),
    174: ("Ewe/V", "<f4"),
}
# which recorded column serves each role, in order of preference
_POTENTIAL = (6, 174, 77)
_CURRENT = (8, 11, 76)
_TIME = (4,)
_CYCLE = (24,)


def mpr_modules(raw: bytes, path: str) -> dict[str, tuple[int, bytes]]:
    """``short name -> (version, body)`` of every module of an ``.mpr`` file's bytes."""
    if not raw.startswith(MPR_MAGIC):
        raise MalformedFile(path, "not a BioLogic .mpr file (no 'BIO-LOGIC MODULAR FILE' magic)", line=None)
    modules: dict[str, tuple[int, bytes]] = {}
    pos = _FILE_HEADER
    while pos < len(raw):
        if raw[pos : pos + 6] != b"MODULE":
            raise MalformedFile(path, f"expected a MODULE at byte {pos}", line=None)
        name = raw[pos + 6 : pos + 16].decode("ascii", errors="replace").strip()
        head = pos + 41  # after 'MODULE', the short and the long name
        if len(raw) < head + 24:
            raise MalformedFile(path, f"module {name!r} header is cut short at byte {len(raw)}", line=None)
        if struct.unpack_from("<I", raw, head)[0] == 0xFFFFFFFF:  # newer layout: max length first
            _, length, _, version = struct.unpack_from("<4I", raw, head)
            start = head + 16 + 8
        else:
            length, version = struct.unpack_from("<2I", raw, head)
            start = head + 8 + 8
        if start + length > len(raw):
            raise MalformedFile(path, f"module {name!r} claims {length} bytes but the file ends first", line=None)
        modules[name] = (version, raw[start : start + length])
        pos = start + length
    return modules


def _record_layout(ids: list[int], path: str) -> tuple[list[tuple[int, int, str]], int]:
    """``[(id, byte offset, dtype)]`` of the known columns up to the first of unknown width, and that prefix's size."""
    layout, offset = [], 0
    if any(i in _FLAG_IDS for i in ids):
        offset = 1  # the shared flag byte comes first
    for i in ids:
        if i in _FLAG_IDS:
            continue
        if i not in COLUMNS:
            break
        dtype = COLUMNS[i][1]
        layout.append((i, offset, dtype))
        offset += np.dtype(dtype).itemsize
    return layout, offset


def _data_columns(version: int, body: bytes, newer: bool, path: str) -> tuple[dict[int, np.ndarray], list[int]]:
    """The columns of known width of the data module (id -> values) and every column identifier in file order."""
    try:
        n_rows = struct.unpack_from("<I", body, 0)[0]
        if newer:
            n_cols = struct.unpack_from("<H", body, 4)[0]
            ids = list(struct.unpack_from(f"<{n_cols}H", body, 6))
            first_row = 1007
        else:
            n_cols = body[4]
            ids = list(struct.unpack_from(f"<{n_cols}H", body, 5))
            first_row = 406 if version >= 2 else 405
    except (struct.error, IndexError):
        raise MalformedFile(path, f"the data module ({len(body)} bytes) is too short for its column list") from None
    if n_rows == 0:
        raise MalformedFile(path, "the data module holds no rows", line=None)
    rows = len(body) - first_row
    if rows <= 0 or rows % n_rows:
        raise MalformedFile(path, f"{rows} bytes of rows do not divide into {n_rows} records", line=None)
    record = rows // n_rows
    layout, prefix = _record_layout(ids, path)
    if prefix > record:
        raise MalformedFile(path, f"columns {ids} need {prefix} bytes per record, the file has {record}", line=None)
    known_all = all(i in COLUMNS or i in _FLAG_IDS for i in ids)
    if known_all and prefix != record:
        raise MalformedFile(path, f"columns {ids} make {prefix}-byte records, the file has {record}", line=None)
    table = np.frombuffer(body, dtype=np.uint8, count=rows, offset=first_row).reshape(n_rows, record)
    values = {
        i: table[:, off : off + np.dtype(dt).itemsize].copy().view(dt)[:, 0].astype(float) for i, off, dt in layout
    }
    return values, ids


def _pick(values: dict[int, np.ndarray], ids: list[int], choices: tuple[int, ...], role: str, path: str, need: bool):
    for i in choices:
        if i in values:
            return i, values[i]
        if i in ids:  # recorded, but after a column of unknown width
            raise MalformedFile(path, f"column {i} ({COLUMNS[i][0]}) follows a column of unknown width", line=None)
    if need:
        names = ", ".join(COLUMNS[i][0] for i in choices)
        raise MalformedFile(path, f"no {role} column ({names}) among the recorded columns {ids}", line=None)
    return None, None


def read_mpr(path: str | Path, *, invert_current: bool = False) -> Voltammogram:
    """Read potential (V), current (A), time (s) and cycle of an EC-Lab binary ``.mpr`` file.

    Parameters
    ----------
    path
        The ``.mpr`` file.
    invert_current
        Flip the sign of the current (EC-Lab records oxidation current positive, as labwright does).

    Raises
    ------
    MalformedFile
        Not an ``.mpr`` file, a cut-short module, rows that do not fill the data module exactly, or no potential,
        current or time column of known layout.
    """
    path = Path(path)
    where = str(path)
    raw = read_user_file(path)
    modules = mpr_modules(raw, where)
    if "VMP data" not in modules:
        raise MalformedFile(where, f"no 'VMP data' module (modules: {sorted(modules)})", line=None)
    version, body = modules["VMP data"]
    newer = struct.unpack_from("<I", raw, raw.index(b"MODULEVMP data") + 41)[0] == 0xFFFFFFFF
    values, ids = _data_columns(version, body, newer, where)
    e_id, E = _pick(values, ids, _POTENTIAL, "potential", where, need=True)
    i_id, I_mA = _pick(values, ids, _CURRENT, "current", where, need=True)
    t_id, t = _pick(values, ids, _TIME, "time", where, need=True)
    c_id, cycle = _pick(values, ids, _CYCLE, "cycle", where, need=False)
    columns = {"E": COLUMNS[e_id][0], "I": COLUMNS[i_id][0], "t": COLUMNS[t_id][0]}
    if c_id is not None:
        columns["cycle"] = COLUMNS[c_id][0]
        cycle = cycle.astype(int)  # as EC-Lab numbers them (the same values its .mpt export writes)
    unknown = [i for i in ids if i not in COLUMNS and i not in _FLAG_IDS]
    notes = [f"column ids {unknown} are not decoded (after the ones read)"] if unknown else []
    why = "the .mpr settings module is not decoded; give it"
    meta = VoltammogramMetadata(
        source_path=where, sha256=hashlib.sha256(raw).hexdigest(), format="mpr", columns=columns,
        units={"E": "V", "I": "A", "t": "s"}, current_inverted=invert_current,
        header={"modules": ", ".join(sorted(modules)), "data module version": str(version),
                "column ids": " ".join(map(str, ids))},
        technique=None, instrument="BioLogic EC-Lab (.mpr)",
        missing={"area": why, "concentration": why}, notes=notes,
    )  # fmt: skip
    return _finish(E, I_mA * 1e-3, t, cycle, meta, None)
