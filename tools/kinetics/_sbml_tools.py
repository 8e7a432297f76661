"""SBML tools for the kineticist role: ``load_sbml``, ``simulate_sbml``, ``export_sbml``.

SBML models keep their own units (BioModels files are often in nM and s or min); the outputs name them. Exported
networks are SI: mol, m³ (one compartment of 1 m³, so concentrations are mol/m³) and s.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from pydantic import Field

from ...errors import InvalidInput
from .._confined import write_file
from .._files import user_path
from ..fields import FiniteFloat, NonNegativeFloat, PositiveFloat, ToolModel
from ..registry import Cost, tool
from ._plot import check_png_path, plot_time_course
from ._sbml import SbmlModel, network_to_sbml, read_sbml, simulate_sbml_model
from ._tools import NetworkInput, SolverName, time_course_fields

__all__ = [
    "LoadSbmlInput",
    "SbmlSummary",
    "SimulateSbmlInput",
    "SbmlTimeCourse",
    "ExportSbmlInput",
    "SbmlExport",
    "load_sbml",
    "simulate_sbml",
    "export_sbml",
]

_SBML_FIELD = Field(
    min_length=1,
    description="Path of an SBML file (.xml/.sbml), or the SBML document itself (text starting with '<').",
)


class LoadSbmlInput(ToolModel):
    sbml: str = _SBML_FIELD


class SbmlSummary(ToolModel):
    """What an SBML model contains, in the model's own units."""

    model_id: str = Field(description="SBML model id.")
    name: str = Field(description="Model name.")
    species: dict[str, float] = Field(description="Species -> initial concentration (model units, see `units`).")
    state: list[str] = Field(description="Integrated variables (species not set by rules, rate-rule parameters).")
    parameters: dict[str, float] = Field(
        description="Tunable values: compartment sizes, global parameters, local ones as 'reaction.parameter'."
    )
    reactions: list[str] = Field(description="Reaction ids.")
    events: list[str] = Field(default_factory=list, description="Ids of its time-triggered events (applied).")
    units: dict[str, str] = Field(description="The model's substance, time and volume units.")


def _summary(model: SbmlModel) -> SbmlSummary:
    x0, q = model.prepare(jnp.asarray(model.parameter_values))
    c0 = np.asarray(model.observe(jnp.asarray(0.0), x0, q))
    return SbmlSummary(
        model_id=model.model_id,
        name=model.name,
        species={s: float(v) for s, v in zip(model.species, c0)},
        state=list(model.state),
        parameters={p: float(v) for p, v in zip(model.parameters, model.parameter_values)},
        reactions=list(model.reactions),
        events=list(model.events),
        units=model.units,
    )


@tool(cost=lambda inp: Cost(seconds=0.5))
def load_sbml(inp: LoadSbmlInput) -> SbmlSummary:
    """Read an SBML model: species, parameters, reactions and units; unsupported constructs are named."""
    return _summary(read_sbml(inp.sbml))


_COURSE = time_course_fields()


class SimulateSbmlInput(ToolModel):
    sbml: str = _SBML_FIELD
    t_end: PositiveFloat = Field(description="End time in the model's time unit (see load_sbml units).")
    n_points: int = _COURSE["n_points"]
    parameters: dict[str, FiniteFloat] = Field(
        default_factory=dict, description="Parameter overrides by id ('reaction.parameter' for local ones)."
    )
    initial: dict[str, NonNegativeFloat] = Field(
        default_factory=dict, description="Initial concentration overrides of state species (model units)."
    )
    solver: SolverName = _COURSE["solver"]
    rtol: PositiveFloat = _COURSE["rtol"]
    atol: PositiveFloat = Field(default=1e-12, description="Absolute tolerance in the model's concentration unit.")
    plot_path: str | None = Field(default=None, description="If given, write the time course as a PNG here.")


class SbmlTimeCourse(ToolModel):
    model_id: str = Field(description="SBML model id.")
    times: list[float] = Field(description="Output times, model time unit.")
    concentrations: dict[str, list[float]] = Field(description="Species -> concentration at each time (model units).")
    final: dict[str, float] = Field(description="Concentrations at t_end (model units).")
    units: dict[str, str] = Field(description="The model's substance, time and volume units.")
    plot: str | None = Field(default=None, description="PNG path, if a plot was requested.")
    plot_sha256: str | None = Field(default=None, description="sha256 of the PNG.")


@tool(cost=lambda inp: Cost(seconds=5.0, sim_calls=1))
def simulate_sbml(inp: SimulateSbmlInput) -> SbmlTimeCourse:
    """Deterministic time course of an SBML model (general rate laws and rules compiled to JAX, stiff solver)."""
    png = check_png_path(inp.plot_path)
    model = read_sbml(inp.sbml)
    ts = np.linspace(0.0, inp.t_end, inp.n_points)
    ys = simulate_sbml_model(
        model, ts, parameters=inp.parameters, initial=inp.initial, solver=inp.solver, rtol=inp.rtol, atol=inp.atol
    )
    out = SbmlTimeCourse(
        model_id=model.model_id,
        times=ts.tolist(),
        concentrations={s: ys[:, i].tolist() for i, s in enumerate(model.species)},
        final={s: float(ys[-1, i]) for i, s in enumerate(model.species)},
        units=model.units,
    )
    if png is not None:
        series = {s: ys[:, i] for i, s in enumerate(model.species)}
        digest = plot_time_course(
            png, ts, series, ylabel=f"concentration ({model.units['substance']}/volume)", title=model.name
        )
        out = out.model_copy(update={"plot": str(png), "plot_sha256": digest})
    return out


class ExportSbmlInput(NetworkInput):
    initial: dict[str, NonNegativeFloat] = Field(
        default_factory=dict, description="Initial concentrations, mol/m³; unlisted species 0."
    )
    path: str | None = Field(default=None, description="If given, write the SBML here (.xml or .sbml).")


class SbmlExport(ToolModel):
    sbml: str = Field(description="SBML Level 3 Version 2 document (mol, m³, s; mass-action kinetic laws).")
    path: str | None = Field(default=None, description="File written, if a path was given.")
    sha256: str = Field(description="sha256 of the document text (UTF-8).")


def _write_atomically(path: Path, text: str) -> None:
    write_file(path, text.encode("utf-8"))


@tool(side_effect="writes_store", cost=lambda inp: Cost(seconds=0.2))
def export_sbml(inp: ExportSbmlInput) -> SbmlExport:
    """Write a mass-action reaction network as SBML Level 3 (readable by libRoadRunner, COPASI, load_sbml)."""
    target = None
    if inp.path is not None:
        target = user_path(inp.path, field="path")
        if target.suffix.lower() not in (".xml", ".sbml"):
            raise InvalidInput("path", f"must end in .xml or .sbml, got {inp.path!r}")
        if target.is_dir():
            raise InvalidInput("path", f"{inp.path!r} is a folder")
    text = network_to_sbml(inp.network(), inp.initial)
    if target is not None:
        _write_atomically(target, text)
    return SbmlExport(
        sbml=text, path=str(target) if target else None, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest()
    )
