"""Task bodies: pure, module-level functions of a JSON-able payload, run by an executor on any worker.

Each imports its engine lazily so a Ray worker pays for JAX only when it runs a JAX task, and each returns plain
lists and dicts (no arrays) so results travel as JSON would.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any

import numpy as np

__all__ = ["cv_sweep_chunk", "fit_one_dataset", "extract_one_document", "SWEEPABLE"]

# ECParams fields a sweep may vary (floats that enter the compiled program as data, not as static settings).
SWEEPABLE = ("E0", "k0", "alpha", "D_O", "D_R", "c_bulk", "area", "T", "lambda_eV", "k_chem", "K_eq", "C_dl")


@functools.lru_cache(maxsize=16)
def _batched_cv(settings, dt: float):
    """jit(vmap(cv_current)) for one static setting and time step; compiled once per batch shape on each worker."""
    import jax

    from ..tools.electrochem import cv_current

    return jax.jit(jax.vmap(lambda p, E: cv_current(p, E, dt, settings=settings), in_axes=(0, None)))


def _half_cycle_extrema(E: np.ndarray, I: np.ndarray) -> dict[str, list[float]]:
    """Extreme currents of the first half-cycle (towards the first vertex) and of the way back, per row.

    Rows are CVs of shape (batch, n_t); an oxidation-first sweep gives the anodic peak first. No baseline is
    subtracted: this is the raw extreme current a sweep summary needs, not a peak analysis.
    """
    forward_up = E[1] > E[0]
    vertex = int(np.argmax(E) if forward_up else np.argmin(E))
    first, back = I[:, : vertex + 1], I[:, vertex:]
    k1 = np.argmax(first, axis=1) if forward_up else np.argmin(first, axis=1)
    k2 = np.argmin(back, axis=1) if forward_up else np.argmax(back, axis=1)
    rows = np.arange(I.shape[0])
    i1, i2 = first[rows, k1], back[rows, k2]
    E1, E2 = E[k1], E[vertex + k2]
    if forward_up:
        return {"i_pa": i1.tolist(), "E_pa": E1.tolist(), "i_pc": i2.tolist(), "E_pc": E2.tolist()}
    return {"i_pa": i2.tolist(), "E_pa": E2.tolist(), "i_pc": i1.tolist(), "E_pc": E1.tolist()}


def cv_sweep_chunk(payload: dict[str, Any]) -> dict[str, list[float]]:
    """Simulate one chunk of a CV sweep, vmapped, and summarise each CV by its half-cycle extrema.

    ``payload``: ``cell`` (a :class:`~labwright.tools.electrochem.SimulateCVInput` as a dict), ``fields`` (names in
    :data:`SWEEPABLE`), ``rows`` (one list of values per CV, SI units) and ``pad_to`` (batch size to compile for:
    every chunk of a sweep shares one compiled program).
    """
    import jax.numpy as jnp

    from ..errors import InvalidInput, SimulationFailed
    from ..tools.electrochem._sim_tools import SimulateCVInput

    cell = SimulateCVInput.model_validate(payload["cell"])
    fields, rows = payload["fields"], np.asarray(payload["rows"], dtype=float)
    n = rows.shape[0]
    padded = (
        np.concatenate([rows, np.repeat(rows[-1:], payload["pad_to"] - n, axis=0)]) if payload["pad_to"] > n else rows
    )
    t, E = cell.program()
    base = cell.params()
    columns = {f: jnp.asarray(padded[:, k]) for k, f in enumerate(fields)}
    # vmap maps every leaf of the parameter pytree: swept fields get their column, the others a constant column.
    batch = base.replace(
        **{
            f.name: columns.get(f.name, jnp.full(padded.shape[0], float(getattr(base, f.name))))
            for f in dataclasses.fields(base)
            if getattr(base, f.name) is not None
        }
    )
    try:
        current = np.asarray(_batched_cv(cell.settings(), float(t[1] - t[0]))(batch, jnp.asarray(E)))[:n]
    except Exception as err:  # noqa: BLE001 - JaxRuntimeError from a check inside the compiled program (equinox)
        found = re.search(r"invalid input for field '([^']+)': ([^\n]+)", str(err))
        if found is None:
            raise
        # XLA on the CPU flushes values below 2.2e-308 to 0, so a subnormal the host accepted can fail in here
        raise InvalidInput(found.group(1), f"{found.group(2)} (checked inside the compiled simulator)") from None
    if not np.all(np.isfinite(current)):
        bad = int(np.argmax(~np.all(np.isfinite(current), axis=1)))
        values = dict(zip(fields, rows[bad].tolist(), strict=True))
        raise SimulationFailed(f"the CV for {values} has non-finite current; check those parameters")
    return _half_cycle_extrema(E, current)


def fit_one_dataset(payload: dict[str, Any]) -> dict[str, Any]:
    """Fit one dataset exactly as the ``fit_cv`` tool does; the result as JSON."""
    from ..tools.electrochem._fit_tools import FitCVInput, fit_cv_tool

    return fit_cv_tool(FitCVInput.model_validate(payload)).model_dump(mode="json")


def extract_one_document(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the knowledge store's extractor on one document (the costly, side-effect-free half of ingestion)."""
    from ..knowledge._ingest import Document, extract_document

    # Settings (an LLM endpoint, if any) are the worker's own environment's: keys never travel in payloads.
    doc = Document(payload["id"], payload["text"], payload.get("title"))
    return extract_document(doc, extractor=payload.get("extractor", "auto"))
