"""Convert DiffEC's measured voltammograms (xlsx, one sheet per scan rate) into the plain CSV files shipped here.

Run once, by hand, from a checkout of https://github.com/BattModels/DiffEC (MIT licence, see LICENSE-DiffEC)::

    python examples/data/diffec/convert_xlsx.py /path/to/DiffEC

Needs ``openpyxl`` (the ``tools`` extra); labwright itself reads only the CSV files. The values are written exactly as
stored in the workbook (Python's shortest round-trip repr of each cell); empty trailing rows are dropped. The column
headers are kept as DiffEC wrote them (``Potential(V)``, ``Current(A)`` or ``Current(I)``), and the experimental
settings DiffEC's own scripts use (``ConvertToDimensionless.py``) go into ``# key: value`` comment lines.
"""

from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent

# (folder in DiffEC, workbook, output prefix, settings from that folder's ConvertToDimensionless.py)
SOURCES = [
    (
        "DiffEC for RuHex Redox Voltammetry",
        "0.96 mM RuHex on GCE.xlsx",
        "ruhex",
        {
            "analyte": "[Ru(NH3)6]3+ (RuHex), reduced on the forward sweep",
            "electrode": "glassy carbon disk, radius 1.50e-3 m (r_e in ConvertToDimensionless.py)",
            "electrode_radius_m": 1.5e-3,
            "concentration_mol_per_m3": 0.96,
            "reference": "SCE",
            "temperature_K": 298.0,
        },
    ),
    (
        "DiffEC for Fe Redox Voltammmetry",
        "5 mM Fe(3) 1 M H2SO4 on PtE.xlsx",
        "fe3",
        {
            "analyte": "Fe3+ in 1 M H2SO4 (Fe3+/Fe2+), reduced on the forward sweep",
            "electrode": "Pt disk, radius 0.85e-3 m (r_e in ConvertToDimensionless.py)",
            "electrode_radius_m": 0.85e-3,
            "concentration_mol_per_m3": 4.85,
            "reference": "SCE",
            "temperature_K": 298.0,
        },
    ),
]


def _scan_rate(sheet: str) -> float:
    """'25 mV s-1' -> 0.025 (V/s)."""
    value, unit, *_ = sheet.split()
    if unit != "mV":
        raise ValueError(f"unexpected sheet name {sheet!r}")
    return float(value) * 1e-3


def convert(diffec: Path) -> list[Path]:
    written = []
    for folder, book, prefix, settings in SOURCES:
        src = diffec / folder / book
        sha = hashlib.sha256(src.read_bytes()).hexdigest()
        wb = openpyxl.load_workbook(src, read_only=True, data_only=True)
        for ws in wb.worksheets:
            rows = [r[:2] for r in ws.iter_rows(values_only=True)]
            head, body = rows[0], [r for r in rows[1:] if r[0] is not None]
            rate = _scan_rate(ws.title)
            area = math.pi * settings["electrode_radius_m"] ** 2
            out = HERE / f"{prefix}_{round(rate * 1e3)}mVps.csv"
            lines = [
                f"# source: BattModels/DiffEC, {folder}/{book}, sheet '{ws.title}' (MIT licence, LICENSE-DiffEC)",
                f"# source_sha256: {sha}",
                *(f"# {k}: {v}" for k, v in settings.items()),
                f"# electrode_area_m2: {area:.6e}",
                f"# scan_rate: {rate}",
                ",".join(head),
                *(f"{e!r},{i!r}" for e, i in body),
            ]
            out.write_text("\n".join(lines) + "\n")
            written.append(out)
    return written


if __name__ == "__main__":
    for path in convert(Path(sys.argv[1])):
        print(path)
