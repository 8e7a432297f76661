"""SBML in and out: read a model (python-libsbml), compile its math to JAX, write labwright networks as SBML.

Reading walks libsbml's MathML abstract syntax tree (``ASTNode``) once and turns every node into a small Python
closure over JAX operations; tracing the closures under ``jit`` leaves one fused XLA graph, so a general rate law
costs what hand-written JAX would. What is compiled:

* species (amounts and concentrations, ``hasOnlySubstanceUnits``, boundary and constant species), compartments of
  constant size, global parameters and the local parameters of kinetic laws (named ``"reaction.parameter"``);
* kinetic laws of any form, function definitions (inlined), piecewise, relational and logical operators, the usual
  elementary functions, ``time`` and ``avogadro``;
* initial assignments and assignment rules (in dependency order), rate rules on species and parameters;
* events triggered when time passes a threshold of parameters (``time >= t_on``, ``gt(time, 100)``), without delay,
  assigning species and parameters: the solve is split at the firing times (see :func:`make_sbml_solver`).

Anything else (events triggered by the state or with a delay or priority, algebraic rules, ``delay``, ``rateOf``,
fast reactions, variable stoichiometry, compartments whose size changes, conversion factors, SBML packages that change
the math) raises :class:`InvalidInput` naming the construct and its element, rather than silently simulating a
different model.

State and units: the integrated state holds species *concentrations* (amount / compartment size; compartments are
constant here, so a kinetic law's extent per time divided by the size is the rate of change, and absolute
tolerances mean the same for a 4 pL cell as for a 1 L flask) and the values of rate-rule parameters; a species'
symbol in the math is its concentration unless ``hasOnlySubstanceUnits`` is set, as SBML prescribes. Values are in
the model's own units (BioModels files are rarely SI, e.g. nM and s); :attr:`SbmlModel.units` reports them.

Writing (:func:`network_to_sbml`) emits SBML Level 3 Version 2 with one compartment of 1 m³, species as initial
concentrations in mol/m³ and mass-action kinetic laws ``V·(kf·∏ reactants − kr·∏ products)`` with the constants as
local parameters, so reading the file back gives the same ODE as :func:`~._massaction.compile_network`.

References: SBML Level 3 Version 2 Core specification (Hucka et al., J. Integr. Bioinform. 16 (2019) 20190021).
"""

from __future__ import annotations

import graphlib
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ...errors import InvalidInput, LabwrightError, MalformedFile, SimulationFailed
from ._massaction import sparse_dot, sparse_rows
from ._network import ReactionNetwork
from ._ode import make_ode_solver

__all__ = ["SbmlModel", "read_sbml", "network_to_sbml", "make_sbml_solver", "simulate_sbml_model"]

Env = dict[str, jax.Array]
Expr = Callable[[Env], jax.Array]

_TIME = "\x00time"  # env key of the simulation time (cannot clash with an SBML id)
_AVOGADRO = 6.02214076e23  # 1/mol, exact (SI 2019)


def _libsbml():
    try:
        import libsbml
    except ImportError as err:  # optional dependency: only SBML tools need it
        raise LabwrightError(
            "reading and writing SBML needs python-libsbml: pip install 'labwright[sbml]' (python-libsbml)"
        ) from err
    return libsbml


# ---- math: ASTNode -> JAX closure ------------------------------------------------------------------------------------
def _unary_functions(ls) -> dict[int, Callable[[jax.Array], jax.Array]]:
    return {
        ls.AST_FUNCTION_EXP: jnp.exp,
        ls.AST_FUNCTION_LN: jnp.log,
        ls.AST_FUNCTION_ABS: jnp.abs,
        ls.AST_FUNCTION_FLOOR: jnp.floor,
        ls.AST_FUNCTION_CEILING: jnp.ceil,
        ls.AST_FUNCTION_FACTORIAL: lambda x: jnp.exp(jsp.gammaln(x + 1.0)),
        ls.AST_FUNCTION_SIN: jnp.sin,
        ls.AST_FUNCTION_COS: jnp.cos,
        ls.AST_FUNCTION_TAN: jnp.tan,
        ls.AST_FUNCTION_SEC: lambda x: 1.0 / jnp.cos(x),
        ls.AST_FUNCTION_CSC: lambda x: 1.0 / jnp.sin(x),
        ls.AST_FUNCTION_COT: lambda x: 1.0 / jnp.tan(x),
        ls.AST_FUNCTION_SINH: jnp.sinh,
        ls.AST_FUNCTION_COSH: jnp.cosh,
        ls.AST_FUNCTION_TANH: jnp.tanh,
        ls.AST_FUNCTION_ARCSIN: jnp.arcsin,
        ls.AST_FUNCTION_ARCCOS: jnp.arccos,
        ls.AST_FUNCTION_ARCTAN: jnp.arctan,
        ls.AST_FUNCTION_ARCSINH: jnp.arcsinh,
        ls.AST_FUNCTION_ARCCOSH: jnp.arccosh,
        ls.AST_FUNCTION_ARCTANH: jnp.arctanh,
    }


def _relations(ls) -> dict[int, Callable[[jax.Array, jax.Array], jax.Array]]:
    return {
        ls.AST_RELATIONAL_EQ: jnp.equal,
        ls.AST_RELATIONAL_NEQ: jnp.not_equal,
        ls.AST_RELATIONAL_LT: jnp.less,
        ls.AST_RELATIONAL_GT: jnp.greater,
        ls.AST_RELATIONAL_LEQ: jnp.less_equal,
        ls.AST_RELATIONAL_GEQ: jnp.greater_equal,
    }


def _type_name(ls, code: int) -> str:
    for name in dir(ls):
        if name.startswith("AST_") and getattr(ls, name) == code:
            return name[4:].lower()
    return str(code)


@dataclass
class _MathCompiler:
    """Turns ASTNodes into closures ``env -> value``; ``where`` names the element in error messages."""

    ls: object
    functions: dict[str, tuple[list[str], object]]  # function-definition id -> (argument names, body ASTNode)
    known: set[str]
    unary: dict = field(init=False)
    relations: dict = field(init=False)

    def __post_init__(self) -> None:
        self.unary = _unary_functions(self.ls)
        self.relations = _relations(self.ls)

    def compile(self, node, where: str, rename: Mapping[str, str] | None = None, bound=None) -> Expr:
        if node is None:
            raise InvalidInput(where, "has no math")
        return self._node(node, where, dict(rename or {}), dict(bound or {}))

    def _children(self, node, where, rename, bound) -> list[Expr]:
        return [self._node(node.getChild(i), where, rename, bound) for i in range(node.getNumChildren())]

    def _node(self, node, where: str, rename: dict[str, str], bound: dict[str, Expr]) -> Expr:  # noqa: C901
        ls, t = self.ls, node.getType()
        if t in (ls.AST_INTEGER, ls.AST_REAL, ls.AST_REAL_E, ls.AST_RATIONAL):
            value = float(node.getInteger()) if t == ls.AST_INTEGER else float(node.getReal())
            return lambda env: jnp.asarray(value)
        if t == ls.AST_NAME:
            return self._name(node.getName(), where, rename, bound)
        if t == ls.AST_NAME_TIME:
            return lambda env: env[_TIME]
        constants = {
            ls.AST_NAME_AVOGADRO: _AVOGADRO,
            ls.AST_CONSTANT_E: math.e,
            ls.AST_CONSTANT_PI: math.pi,
            ls.AST_CONSTANT_TRUE: 1.0,
            ls.AST_CONSTANT_FALSE: 0.0,
        }
        if t in constants:
            value = constants[t]
            return lambda env: jnp.asarray(value)
        if t == ls.AST_FUNCTION:
            return self._call(node, where, rename, bound)
        if t == ls.AST_FUNCTION_PIECEWISE:
            return self._piecewise(self._children(node, where, rename, bound))
        args = self._children(node, where, rename, bound)
        if t == ls.AST_PLUS:
            return lambda env: sum((a(env) for a in args), jnp.asarray(0.0))
        if t == ls.AST_TIMES:
            return lambda env: math.prod((a(env) for a in args), start=jnp.asarray(1.0))
        if t == ls.AST_MINUS:
            if len(args) == 1:
                return lambda env: -args[0](env)
            return lambda env: args[0](env) - args[1](env)
        if t == ls.AST_DIVIDE:
            return lambda env: args[0](env) / args[1](env)
        if t in (ls.AST_POWER, ls.AST_FUNCTION_POWER):
            return self._power(node, args)
        if t == ls.AST_FUNCTION_ROOT:
            if len(args) == 1:
                return lambda env: jnp.sqrt(args[0](env))
            return lambda env: args[1](env) ** (1.0 / args[0](env))
        if t == ls.AST_FUNCTION_LOG:
            if len(args) == 1:
                return lambda env: jnp.log10(args[0](env))
            return lambda env: jnp.log(args[1](env)) / jnp.log(args[0](env))
        if t in self.unary and len(args) == 1:
            fn = self.unary[t]
            return lambda env: fn(args[0](env))
        if t in self.relations:
            return self._relation(self.relations[t], args)
        if t in (ls.AST_LOGICAL_AND, ls.AST_LOGICAL_OR, ls.AST_LOGICAL_XOR):
            op = {ls.AST_LOGICAL_AND: jnp.logical_and, ls.AST_LOGICAL_OR: jnp.logical_or}.get(t, jnp.logical_xor)
            return self._fold(op, args, ls.AST_LOGICAL_AND == t)
        if t == ls.AST_LOGICAL_NOT:
            return lambda env: jnp.where(args[0](env), 0.0, 1.0)
        if t in (getattr(ls, "AST_FUNCTION_MAX", -1), getattr(ls, "AST_FUNCTION_MIN", -1)):
            op = jnp.maximum if t == getattr(ls, "AST_FUNCTION_MAX", -1) else jnp.minimum
            return lambda env: _reduce(op, [a(env) for a in args])
        raise InvalidInput(
            where, f"unsupported SBML math construct {_type_name(ls, t)!r} in {ls.formulaToL3String(node)!r}"
        )

    def _name(self, name: str, where: str, rename: dict[str, str], bound: dict[str, Expr]) -> Expr:
        if name in bound:
            return bound[name]
        key = rename.get(name, name)
        if key not in self.known:
            raise InvalidInput(where, f"math refers to {name!r}, which is not a species, compartment or parameter")
        return lambda env: env[key]

    def _call(self, node, where, rename, bound) -> Expr:
        name = node.getName()
        if name not in self.functions:
            raise InvalidInput(where, f"call of undefined function {name!r}")
        params, body = self.functions[name]
        args = self._children(node, where, rename, bound)
        if len(args) != len(params):
            raise InvalidInput(where, f"function {name!r} takes {len(params)} arguments, got {len(args)}")
        # A function body sees only its arguments (SBML forbids free names in function definitions except time).
        return self._node(body, f"{where} -> function {name}", {}, dict(zip(params, args)))

    def _power(self, node, args: list[Expr]) -> Expr:
        exponent = node.getChild(1)
        ls = self.ls
        if exponent.getType() == ls.AST_INTEGER or (
            exponent.getType() in (ls.AST_REAL, ls.AST_REAL_E) and float(exponent.getReal()).is_integer()
        ):
            n = int(exponent.getInteger()) if exponent.getType() == ls.AST_INTEGER else int(exponent.getReal())
            # Integer powers by repeated multiplication: finite derivatives at a zero base (float pow is not).
            return lambda env: jax.lax.integer_pow(args[0](env), n)
        return lambda env: jnp.power(args[0](env), args[1](env))

    @staticmethod
    def _piecewise(args: list[Expr]) -> Expr:
        pieces = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
        otherwise = args[-1] if len(args) % 2 else (lambda env: jnp.asarray(jnp.nan))

        def value(env: Env) -> jax.Array:
            out = otherwise(env)
            for val, cond in reversed(pieces):
                out = jnp.where(cond(env), val(env), out)
            return out

        return value

    @staticmethod
    def _relation(op, args: list[Expr]) -> Expr:
        def value(env: Env) -> jax.Array:
            vals = [a(env) for a in args]
            out = jnp.asarray(True)
            for a, b in zip(vals, vals[1:]):
                out = jnp.logical_and(out, op(a, b))
            return out

        return value

    @staticmethod
    def _fold(op, args: list[Expr], empty: bool) -> Expr:
        def value(env: Env) -> jax.Array:
            vals = [jnp.asarray(a(env)).astype(bool) for a in args]
            return _reduce(op, vals) if vals else jnp.asarray(empty)

        return value


def _reduce(op, values: list[jax.Array]) -> jax.Array:
    out = values[0]
    for v in values[1:]:
        out = op(out, v)
    return out


def _ast_nodes(node):
    """Every node of an AST (``node`` and all below it; nothing for ``None``)."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.getChild(i) for i in range(n.getNumChildren()))


def _names_in(ls, node) -> set[str]:
    """Every ``ci`` name in an AST (for dependency ordering of rules and initial assignments)."""
    return {n.getName() for n in _ast_nodes(node) if n.getType() == ls.AST_NAME}


# ---- the compiled model --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SbmlModel:
    """An SBML model compiled to JAX functions of time, state and parameters.

    Attributes
    ----------
    model_id, name : str
        From the SBML file.
    species : tuple of str
        Species ids in output order (every species, including those set by assignment rules).
    state : tuple of str
        Ids of the integrated variables: species (as concentrations, amount / compartment size, whatever their
        ``hasOnlySubstanceUnits``, so that tolerances are in concentration units) and parameters with rate rules.
    parameters : tuple of str
        Tunable values in order: compartment sizes, global parameters (not set by rules), then local parameters of
        kinetic laws as ``"reaction_id.parameter_id"``.
    parameter_values : ndarray
        Their values in the file (model units).
    reactions : tuple of str
        Reaction ids.
    units : dict of str
        ``substance``, ``time``, ``volume`` units of the model as text.
    events : tuple of str
        Ids of the model's (time-triggered) events, in document order.
    """

    model_id: str
    name: str
    species: tuple[str, ...]
    state: tuple[str, ...]
    parameters: tuple[str, ...]
    parameter_values: np.ndarray
    reactions: tuple[str, ...]
    units: dict[str, str]
    _prepare: Callable = field(repr=False)
    _rhs: Callable = field(repr=False)
    _observe: Callable = field(repr=False)
    _source: str = field(repr=False, default="")
    events: tuple[str, ...] = ()
    _schedule: Callable | None = field(repr=False, default=None)
    _fire: tuple[Callable, ...] = field(repr=False, default=())

    def key(self) -> tuple:
        """Hashable identity (for caches of compiled solvers): the SBML text itself."""
        return ("sbml", self._source)

    def prepare(self, p: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Initial state and resolved parameters ``(x0, q)`` for parameter vector ``p`` (initial assignments)."""
        return self._prepare(p)

    def rhs(self, t: jax.Array, x: jax.Array, q: jax.Array) -> jax.Array:
        """d(state)/dt; signature ``(t, y, args)`` as diffrax expects."""
        return self._rhs(t, x, q)

    def observe(self, t: jax.Array, x: jax.Array, q: jax.Array) -> jax.Array:
        """Species concentrations (amount / compartment size, model units), shape (n_species,)."""
        return self._observe(t, x, q)

    def event_schedule(self, q: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Firing times of :attr:`events` (model time unit), whether each fires at all, and whether its trigger is
        strict (``time > x``: at t = x itself the event has not happened yet), for resolved parameters ``q``; shapes
        (n_events,). An event whose trigger is already true at t = 0 fires there only if its trigger's
        ``initialValue`` is false (SBML: events fire on a false -> true transition)."""
        return self._schedule(q)

    def fire(self, i: int | jax.Array, t: jax.Array, trigger_state: tuple, x: jax.Array, q: jax.Array) -> tuple:
        """Apply event ``i``'s assignments at time ``t`` to ``(x, q)``: the new ``(x, q)``. Its values are computed
        from ``trigger_state`` ``(x, q)`` (the state before any event firing at ``t``) if the event uses values from
        trigger time, as SBML's default is, else from ``(x, q)``; all of them before any is assigned."""
        return jax.lax.switch(i, self._fire, t, *trigger_state, x, q)

    def parameter_index(self, name: str) -> int:
        try:
            return self.parameters.index(name)
        except ValueError:
            raise InvalidInput(
                f"parameters.{name}", f"no such parameter; known: {', '.join(self.parameters)}"
            ) from None


def _event_id(ev, i: int) -> str:
    """An event's id, or its position in the document when it has none."""
    return ev.getId() or str(i)


def _check_supported(ls, doc, model) -> None:
    """Raise InvalidInput naming the first construct this importer does not simulate."""
    for i, ev in enumerate(model.getListOfEvents()):
        where = f"events.{_event_id(ev, i)}"
        if ev.isSetDelay():
            raise InvalidInput(where, "events with a delay are not supported")
        if ev.isSetPriority() if hasattr(ev, "isSetPriority") else False:
            raise InvalidInput(where, "event priorities are not supported")
        if ev.getTrigger() is None or ev.getTrigger().getMath() is None:
            raise InvalidInput(where, "event has no trigger")
    for i in range(model.getNumRules()):
        rule = model.getRule(i)
        if rule.isAlgebraic():
            raise InvalidInput(f"rules.{i}", "algebraic rules are not supported (they make the model a DAE)")
    if model.getNumConstraints():
        raise InvalidInput("constraints", "SBML constraints are not supported")
    for i in range(doc.getNumPlugins()):
        package = doc.getPlugin(i).getPackageName()
        # Level 3 marks packages that change the meaning of core math as required (comp, fbc with objectives, ...).
        # 'l3v2extendedmath' is libsbml's internal carrier of L3V2 core math (min, max, rem, ...), not a package.
        if doc.getLevel() >= 3 and package != "l3v2extendedmath" and doc.getPackageRequired(package):
            raise InvalidInput("packages", f"SBML package {package!r} is required by the model and not supported")
    for r in model.getListOfReactions():
        if r.isSetFast() and r.getFast():
            raise InvalidInput(f"reactions.{r.getId()}", "fast reactions (rapid equilibrium) are not supported")
        if r.getKineticLaw() is None:
            raise InvalidInput(f"reactions.{r.getId()}", "reaction has no kinetic law")
        for ref in (*r.getListOfReactants(), *r.getListOfProducts()):
            if ref.isSetStoichiometryMath() if hasattr(ref, "isSetStoichiometryMath") else False:
                raise InvalidInput(f"reactions.{r.getId()}.{ref.getSpecies()}", "stoichiometryMath is not supported")
            if ref.isSetId() and (model.getRule(ref.getId()) or model.getInitialAssignment(ref.getId())):
                raise InvalidInput(f"reactions.{r.getId()}.{ref.getId()}", "variable stoichiometry is not supported")
        if r.isSetConversionFactor() if hasattr(r, "isSetConversionFactor") else False:
            raise InvalidInput(f"reactions.{r.getId()}", "conversion factors are not supported")
    if model.isSetConversionFactor() if hasattr(model, "isSetConversionFactor") else False:
        raise InvalidInput("conversionFactor", "conversion factors are not supported")
    for s in model.getListOfSpecies():
        if s.isSetConversionFactor() if hasattr(s, "isSetConversionFactor") else False:
            raise InvalidInput(f"species.{s.getId()}", "conversion factors are not supported")
    for c in model.getListOfCompartments():
        if not c.getConstant() and (model.getRule(c.getId()) is not None):
            raise InvalidInput(f"compartments.{c.getId()}", "compartments whose size changes are not supported")
        if not c.isSetSize() and model.getInitialAssignment(c.getId()) is None:
            raise InvalidInput(f"compartments.{c.getId()}", "compartment has no size")
    for node_owner in _all_math(model):
        _reject_math(ls, *node_owner)


def _all_math(model):
    for i in range(model.getNumRules()):
        yield model.getRule(i).getMath(), f"rules.{model.getRule(i).getVariable()}"
    for ia in model.getListOfInitialAssignments():
        yield ia.getMath(), f"initialAssignments.{ia.getSymbol()}"
    for r in model.getListOfReactions():
        yield r.getKineticLaw().getMath(), f"reactions.{r.getId()}.kineticLaw"
    for fd in model.getListOfFunctionDefinitions():
        yield fd.getMath(), f"functionDefinitions.{fd.getId()}"
    for i, ev in enumerate(model.getListOfEvents()):
        yield ev.getTrigger().getMath(), f"events.{_event_id(ev, i)}.trigger"
        for ea in ev.getListOfEventAssignments():
            yield ea.getMath(), f"events.{_event_id(ev, i)}.{ea.getVariable()}"


def _reject_math(ls, node, where: str) -> None:
    banned = {
        ls.AST_FUNCTION_DELAY: "delay (delay differential equations)",
        getattr(ls, "AST_FUNCTION_RATE_OF", -1): "rateOf",
    }
    for n in _ast_nodes(node):
        if n.getType() in banned:
            raise InvalidInput(where, f"SBML {banned[n.getType()]} is not supported")


def _units_text(ls, model) -> dict[str, str]:
    defaults = {"substance": "mole", "time": "second", "volume": "litre"}
    out = {}
    for kind, default in defaults.items():
        unit_id = {
            "substance": model.getSubstanceUnits,
            "time": model.getTimeUnits,
            "volume": model.getVolumeUnits,
        }[kind]()
        unit_id = unit_id or kind  # Level 2: the built-in ids 'substance', 'time', 'volume' may be redefined
        ud = model.getUnitDefinition(unit_id)
        out[kind] = (
            ls.UnitDefinition.printUnits(ud, True) if ud is not None else (unit_id if unit_id != kind else default)
        )
    return out


def _read_document(ls, source: str | Path):
    text = str(source)
    if isinstance(source, Path) or not text.lstrip().startswith("<"):
        path = Path(text)
        try:
            found = path.is_file()
        except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
            found = False
        if not found:
            raise InvalidInput("sbml", f"no such SBML file: {text[:200]!r}")
        doc = ls.readSBMLFromFile(str(path))
        label = str(path)
        raw = path.read_text(encoding="utf-8", errors="replace")
    else:
        doc = ls.readSBMLFromString(text)
        label, raw = "<sbml string>", text
    errors = [
        doc.getError(i) for i in range(doc.getNumErrors()) if doc.getError(i).getSeverity() >= ls.LIBSBML_SEV_ERROR
    ]
    if errors or doc.getModel() is None:
        first = errors[0] if errors else None
        reason = first.getMessage().strip().splitlines()[0] if first else "no <model> element"
        raise MalformedFile(label, f"not valid SBML: {reason}", line=first.getLine() if first else None, field="sbml")
    return doc, raw


def read_sbml(source: str | Path) -> SbmlModel:
    """Read an SBML file (path) or document (XML string) and compile it to JAX.

    Parameters
    ----------
    source
        Path of an ``.xml``/``.sbml`` file, or the SBML text itself (starting with ``<``).

    Returns
    -------
    SbmlModel

    Raises
    ------
    MalformedFile
        Not a readable SBML document.
    InvalidInput
        A construct this importer does not simulate (the field names the element), or math that refers to
        unknown names.
    """
    ls = _libsbml()
    doc, raw = _read_document(ls, source)
    model = doc.getModel()
    _check_supported(ls, doc, model)

    compartments = {c.getId(): c for c in model.getListOfCompartments()}
    species = {s.getId(): s for s in model.getListOfSpecies()}
    globals_ = {p.getId(): p for p in model.getListOfParameters()}
    rules = {model.getRule(i).getVariable(): model.getRule(i) for i in range(model.getNumRules())}
    assignment = {v: r for v, r in rules.items() if r.isAssignment()}
    rate_rules = {v: r for v, r in rules.items() if r.isRate()}
    for v in rules:
        if v not in species and v not in globals_ and v not in compartments:
            raise InvalidInput(f"rules.{v}", "rule variable is not a species, compartment or parameter")
    for sid, s in species.items():
        if s.getCompartment() not in compartments:
            raise InvalidInput(f"species.{sid}", f"unknown compartment {s.getCompartment()!r}")
        if sid in rate_rules and not compartments[s.getCompartment()].getConstant():
            raise InvalidInput(f"species.{sid}", "rate rule on a species in a compartment of varying size")

    # Tunable values: compartments and global parameters not set by rules, then local parameters.
    param_names: list[str] = []
    param_values: list[float] = []
    for cid, c in compartments.items():
        if cid not in rules:
            param_names.append(cid)
            param_values.append(c.getSize() if c.isSetSize() else math.nan)
    for pid, p in globals_.items():
        if pid not in rules:
            param_names.append(pid)
            param_values.append(p.getValue() if p.isSetValue() else math.nan)
    locals_: dict[str, dict[str, str]] = {}
    for r in model.getListOfReactions():
        kl = r.getKineticLaw()
        locals_[r.getId()] = {}
        for lp in (
            *kl.getListOfParameters(),
            *(kl.getListOfLocalParameters() if hasattr(kl, "getListOfLocalParameters") else []),
        ):
            key = f"{r.getId()}.{lp.getId()}"
            if key in param_names:
                continue
            locals_[r.getId()][lp.getId()] = key
            param_names.append(key)
            param_values.append(lp.getValue() if lp.isSetValue() else math.nan)
    rate_params = [v for v in rate_rules if v not in species]
    state = [*species.keys()]
    state = [s for s in state if s not in assignment] + rate_params
    known = set(param_names) | set(species) | set(rules) | set(compartments) | set(globals_)

    functions = {}
    for fd in model.getListOfFunctionDefinitions():
        lam = fd.getMath()
        if lam is None or lam.getType() != ls.AST_LAMBDA:
            raise InvalidInput(f"functionDefinitions.{fd.getId()}", "function definition without a lambda")
        n_args = lam.getNumBvars()
        functions[fd.getId()] = ([lam.getChild(i).getName() for i in range(n_args)], lam.getChild(n_args))
    mc = _MathCompiler(ls, functions, known)

    # Assignment rules in dependency order (SBML forbids cycles; graphlib names one if the file has it).
    rule_exprs = {v: mc.compile(r.getMath(), f"rules.{v}") for v, r in assignment.items()}
    rule_order = _topological({v: _names_in(ls, r.getMath()) & set(assignment) for v, r in assignment.items()}, "rules")
    rate_exprs = {v: mc.compile(r.getMath(), f"rules.{v}") for v, r in rate_rules.items()}
    init_exprs = {
        ia.getSymbol(): mc.compile(ia.getMath(), f"initialAssignments.{ia.getSymbol()}")
        for ia in model.getListOfInitialAssignments()
    }
    for sym in init_exprs:
        if sym not in known:
            raise InvalidInput(f"initialAssignments.{sym}", "symbol is not a species, compartment or parameter")
    init_deps = {ia.getSymbol(): _names_in(ls, ia.getMath()) for ia in model.getListOfInitialAssignments()}

    # Reactions: stoichiometry on amounts; boundary and constant species are not changed by reactions.
    state_index = {s: i for i, s in enumerate(state)}
    stoich = np.zeros((len(state), model.getNumReactions()))
    laws = []
    for j, r in enumerate(model.getListOfReactions()):
        for sign, refs in ((-1.0, r.getListOfReactants()), (1.0, r.getListOfProducts())):
            for ref in refs:
                sp = species.get(ref.getSpecies())
                if sp is None:
                    raise InvalidInput(f"reactions.{r.getId()}", f"unknown species {ref.getSpecies()!r}")
                if sp.getBoundaryCondition() or sp.getConstant() or sp.getId() in assignment:
                    continue
                coef = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                if not math.isfinite(coef):
                    raise InvalidInput(f"reactions.{r.getId()}.{sp.getId()}", "stoichiometry is not finite")
                stoich[state_index[sp.getId()], j] += sign * coef
        laws.append(mc.compile(r.getKineticLaw().getMath(), f"reactions.{r.getId()}.kineticLaw", locals_[r.getId()]))

    p_index = {n: i for i, n in enumerate(param_names)}
    sp_ids = list(species)
    only_amount = {s: bool(species[s].getHasOnlySubstanceUnits()) for s in sp_ids}
    comp_of = {s: species[s].getCompartment() for s in sp_ids}

    def env_of(t, x, q) -> Env:
        env: Env = {_TIME: t}
        for name, i in p_index.items():
            env[name] = q[i]
        for sid, i in state_index.items():
            env[sid] = x[i] * env[comp_of[sid]] if only_amount.get(sid, False) else x[i]
        for v in rule_order:
            env[v] = rule_exprs[v](env)
        return env

    # Written out term by term (S is sparse and tiny): a dense ``S @ v`` is a separate XLA:CPU kernel per call.
    stoich_rows = sparse_rows(stoich)
    # Species rows are concentrations: reaction extents (amount/time) are divided by the compartment size, and a rate
    # rule on an amount symbol (hasOnlySubstanceUnits) likewise; other rate rules are taken as written.
    volume_of_row = [comp_of[s] if s in species else None for s in state]
    rate_rows = [(state_index[v], rate_exprs[v], comp_of[v] if only_amount.get(v, False) else None) for v in rate_rules]

    def rhs(t, x, q):
        env = env_of(t, x, q)
        if laws:
            volumes = jnp.stack([env[c] if c is not None else jnp.asarray(1.0) for c in volume_of_row])
            v = jnp.stack([law(env) for law in laws])
            dx = jnp.stack([sparse_dot(row, v) for row in stoich_rows]) / volumes
        else:
            dx = jnp.zeros_like(x)
        for i, expr, comp in rate_rows:
            rate = expr(env)
            dx = dx.at[i].add(rate / env[comp] if comp is not None else rate)
        return dx

    def observe(t, x, q):
        env = env_of(t, x, q)
        return jnp.stack([_concentration(env, s, only_amount[s], comp_of[s]) for s in sp_ids])

    schedule, fire = _timed_events(
        ls, model, mc, env_of, p_index, state_index, {s: comp_of[s] for s in sp_ids if only_amount[s]}
    )

    # Initial values of species symbols (concentration unless hasOnlySubstanceUnits), before initial assignments.
    # Plain numbers are copied out here: libsbml objects must not outlive the document inside the closures.
    initial_given: dict[str, tuple[str, float]] = {}
    for sid, sp in species.items():
        if sp.isSetInitialConcentration():
            initial_given[sid] = ("concentration", sp.getInitialConcentration())
        elif sp.isSetInitialAmount():
            initial_given[sid] = ("amount", sp.getInitialAmount())

    def species_initial(env: Env, sid: str) -> jax.Array:
        kind, value = initial_given.get(sid, ("amount", math.nan))
        size = env[comp_of[sid]]
        if kind == "concentration":
            return value * size if only_amount[sid] else jnp.asarray(value)
        return jnp.asarray(value) if only_amount[sid] else value / size

    init_targets = set(init_exprs) | set(assignment)
    init_order = _topological(
        {
            v: (init_deps[v] if v in init_exprs else _names_in(ls, assignment[v].getMath())) & init_targets
            for v in init_targets
        },
        "initialAssignments",
    )
    missing_init = [s for s in sp_ids if s not in init_targets and s not in initial_given]
    if missing_init:
        raise InvalidInput(f"species.{missing_init[0]}", "species has no initial amount or concentration")
    rate_param_values = {v: globals_[v].getValue() if globals_[v].isSetValue() else math.nan for v in rate_params}
    for v, value in rate_param_values.items():
        if v not in init_targets and math.isnan(value):
            raise InvalidInput(f"parameters.{v}", "rate-rule parameter has no initial value")

    def prepare(p):
        p = jnp.asarray(p, dtype=float)
        env: Env = {_TIME: jnp.asarray(0.0)}
        for name, i in p_index.items():
            env[name] = p[i]
        for v, value in rate_param_values.items():
            env[v] = jnp.asarray(value)
        for sid in sp_ids:
            if sid not in assignment:
                env[sid] = species_initial(env, sid)
        for v in init_order:
            env[v] = (init_exprs[v] if v in init_exprs else rule_exprs[v])(env)
        x0 = jnp.stack([env[s] / env[comp_of[s]] if only_amount.get(s, False) else env[s] for s in state])
        q = jnp.stack([env[name] for name in param_names]) if param_names else p
        return x0, q

    values = np.array(param_values, dtype=float)
    return SbmlModel(
        model_id=model.getId(),
        name=model.getName() or model.getId(),
        species=tuple(sp_ids),
        state=tuple(state),
        parameters=tuple(param_names),
        parameter_values=values,
        reactions=tuple(r.getId() for r in model.getListOfReactions()),
        units=_units_text(ls, model),
        _prepare=prepare,
        _rhs=rhs,
        _observe=observe,
        _source=raw,
        events=tuple(_event_id(ev, i) for i, ev in enumerate(model.getListOfEvents())),
        _schedule=schedule,
        _fire=fire,
    )


def _time_threshold(ls, trigger):
    """``(threshold AST, strict)`` of a trigger ``time >= x`` / ``time > x`` (or ``x <= time``, ``x < time``), else
    ``None``."""
    if trigger.getNumChildren() != 2:
        return None
    a, b, t = trigger.getChild(0), trigger.getChild(1), trigger.getType()
    if t in (ls.AST_RELATIONAL_GEQ, ls.AST_RELATIONAL_GT) and a.getType() == ls.AST_NAME_TIME:
        return b, t == ls.AST_RELATIONAL_GT
    if t in (ls.AST_RELATIONAL_LEQ, ls.AST_RELATIONAL_LT) and b.getType() == ls.AST_NAME_TIME:
        return a, t == ls.AST_RELATIONAL_LT
    return None


def _timed_events(ls, model, mc, env_of, p_index, state_index, amount_compartment):
    """Compile the model's events: ``(schedule, fire)`` for :meth:`SbmlModel.event_schedule` and
    :meth:`SbmlModel.fire`.

    Only events that fire once, when time passes a threshold computed from parameters, are accepted: their firing
    times are known before the solve, so it can be split there (a state-triggered event needs root finding on the
    trajectory). ``amount_compartment`` maps species whose symbol is an amount (``hasOnlySubstanceUnits``) to their
    compartment: an assignment to one is divided by its size, since the state holds concentrations.
    """
    thresholds, strict, initial, fire = [], [], [], []
    targeted = {ea.getVariable() for ev in model.getListOfEvents() for ea in ev.getListOfEventAssignments()}
    for i, ev in enumerate(model.getListOfEvents()):
        where = f"events.{_event_id(ev, i)}"
        trig = ev.getTrigger()
        found = _time_threshold(ls, trig.getMath())
        if found is None or any(n.getType() == ls.AST_NAME_TIME for n in _ast_nodes(found[0])):
            raise InvalidInput(
                f"{where}.trigger",
                f"only events triggered when time passes a threshold are supported ('time >= t_on'); got "
                f"{ls.formulaToL3String(trig.getMath())!r}",
            )
        names = _names_in(ls, found[0])
        if not names <= set(p_index) or names & targeted:
            bad = sorted((names - set(p_index)) | (names & targeted))[0]
            raise InvalidInput(
                f"{where}.trigger",
                f"the threshold may use only parameters that no event changes; {bad!r} is not one, so the firing "
                "time is not known before the solve",
            )
        thresholds.append(mc.compile(found[0], f"{where}.trigger"))
        strict.append(found[1])
        # SBML Level 2 triggers have no initialValue: they fire only on a false -> true transition, i.e. true.
        initial.append(bool(trig.getInitialValue()) if trig.isSetInitialValue() else True)
        targets, values = [], []
        for ea in ev.getListOfEventAssignments():
            var = ea.getVariable()
            if var in state_index:
                targets.append(("x", state_index[var], amount_compartment.get(var)))
            elif var in p_index and model.getCompartment(var) is None:
                targets.append(("q", p_index[var], None))
            else:
                raise InvalidInput(
                    f"{where}.{var}",
                    "an event may assign species and parameters only (not compartment sizes or "
                    "variables of assignment rules)",
                )
            values.append(mc.compile(ea.getMath(), f"{where}.{var}"))
        fire.append(_assigner(env_of, tuple(targets), tuple(values), bool(ev.getUseValuesFromTriggerTime())))
    if not fire:
        return None, ()
    strict_a, initial_a = jnp.asarray(strict), jnp.asarray(initial)

    def schedule(q: jax.Array) -> tuple[jax.Array, jax.Array]:
        env = {_TIME: jnp.asarray(0.0), **{name: q[i] for name, i in p_index.items()}}
        at = jnp.stack([jnp.asarray(th(env), dtype=float) for th in thresholds])
        true_at_start = (at < 0.0) | ((at == 0.0) & ~strict_a)
        return jnp.maximum(at, 0.0), ~(true_at_start & initial_a), strict_a

    return schedule, tuple(fire)


def _assigner(env_of, targets, values, from_trigger: bool) -> Callable:
    def assign(t, x_trigger, q_trigger, x, q):
        # useValuesFromTriggerTime: values from the state when the trigger fired, which for events firing together
        # is the state before any of them; otherwise from the state now, after the events applied before this one.
        env = env_of(t, x_trigger, q_trigger) if from_trigger else env_of(t, x, q)
        new = [v(env) for v in values]  # all computed first, then assigned
        for (kind, row, comp), value in zip(targets, new, strict=True):
            if kind == "x":
                x = x.at[row].set(value / env[comp] if comp is not None else value)
            else:
                q = q.at[row].set(value)
        return x, q

    return assign


def _concentration(env: Env, sid: str, amount_symbol: bool, comp: str) -> jax.Array:
    return env[sid] / env[comp] if amount_symbol else env[sid]


def _topological(deps: dict[str, set[str]], field_name: str) -> list[str]:
    try:
        return list(graphlib.TopologicalSorter(deps).static_order())
    except graphlib.CycleError as err:
        raise InvalidInput(field_name, f"circular dependency among {err.args[1]}") from None


# Explicit cache of jitted SBML solvers keyed by the SBML text and options (bounded, least recently used dropped).
_SOLVERS: OrderedDict[tuple, Callable] = OrderedDict()
_SOLVERS_SIZE = 16


# ---- simulation ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Flow:
    """The continuous part of an SBML model (its right-hand side), for the ODE solvers; events are applied by
    :func:`make_sbml_solver` between solves."""

    model: SbmlModel

    def rhs(self, t: jax.Array, x: jax.Array, q: jax.Array) -> jax.Array:
        return self.model.rhs(t, x, q)

    def key(self) -> tuple:
        return ("flow", *self.model.key())


def _solve_with_events(model: SbmlModel, run: Callable, x0: jax.Array, q: jax.Array, ts: jax.Array):
    """Concentrations at ``ts`` (n_t, n_species) and ``ok`` for a model with time-triggered events.

    The span is cut at the firing times (sorted; document order among equal ones): segment k is solved from the
    state the previous event left to the next firing time, on the output times inside it (clipped to the segment, so
    every segment has n_t + 2 save points and one compiled solver serves all), and the event is applied at its end.
    An output time equal to a firing time reports the state after the event if its trigger is already true there
    (``time >= x``) and before it if not (``time > x``), as libRoadRunner does. The segments run
    in one ``lax.scan``, so the compiled program does not grow with the number of events; the gradient reaches the
    parameters through every segment and assignment (not through the firing times themselves).
    """
    at, fires, strict = model.event_schedule(q)
    t_end = ts[-1]
    when = jnp.where(fires, at, jnp.inf)
    order = jnp.argsort(when, stable=True)
    cuts = jnp.minimum(when[order], t_end)
    starts = jnp.concatenate([ts[:1], cuts])
    ends = jnp.concatenate([cuts, ts[-1:]])
    # An output at a strict event's firing time belongs to the segment before it.
    after_strict = jnp.concatenate([jnp.zeros(1, bool), strict[order]])
    before_strict = jnp.concatenate([strict[order], jnp.zeros(1, bool)])
    n_events = len(model.events)
    observe = jax.vmap(model.observe, in_axes=(0, 0, None))

    def segment(carry, k):
        x, q, trigger_state, out, ok = carry
        a, b = starts[k], ends[k]
        grid = jnp.concatenate([a[None], jnp.clip(ts, a, b), b[None]])
        ys, ok_k = run(x, q, jax.lax.stop_gradient(grid))
        from_a = jnp.where(after_strict[k], ts > a, ts >= a)
        to_b = jnp.where(before_strict[k], ts <= b, ts < b) | (k == n_events)
        inside = from_a & to_b
        out = jnp.where(inside[:, None], observe(ts, ys[1:-1], q), out)
        x = ys[-1]
        # A zero-length segment after the first: this event fires together with the one before it.
        together = (k > 0) & (a == b)
        trigger_state = jax.tree.map(lambda old, now: jnp.where(together, old, now), trigger_state, (x, q))
        i = order[jnp.minimum(k, n_events - 1)]
        fired = (k < n_events) & (when[i] <= t_end)
        x_new, q_new = model.fire(i, b, trigger_state, x, q)
        return (jnp.where(fired, x_new, x), jnp.where(fired, q_new, q), trigger_state, out, ok & ok_k), None

    out0 = jnp.zeros((ts.shape[0], len(model.species)), dtype=x0.dtype)
    carry = (x0, q, (x0, q), out0, jnp.asarray(True))
    (_, _, _, out, ok), _ = jax.lax.scan(segment, carry, jnp.arange(n_events + 1))
    return out, ok


def make_sbml_solver(model: SbmlModel, **options) -> Callable[[jax.Array, jax.Array, jax.Array], tuple]:
    """A jitted, differentiable ``f(p, x0_override, ts) -> (concentrations, ok)`` for one SBML model.

    Parameters
    ----------
    model
        Compiled model.
    **options
        Passed to :func:`~._ode.make_ode_solver` (solver, rtol, atol in the model's concentration units, max_steps).

    Returns
    -------
    callable
        ``p`` (n_p,) parameter values in :attr:`SbmlModel.parameters` order; ``x0_override`` (n_state,) initial state
        where finite, NaN to keep the model's own (initial assignments included); ``ts`` (n_t,) increasing output
        times starting at the model's t = 0 -> concentrations (n_t, n_species) and ``ok``. Works under ``jax.vmap``
        and ``jax.grad`` (the gradient flows through initial assignments and rules).
    """
    key = (model.key(), tuple(sorted(options.items())))
    if key in _SOLVERS:
        _SOLVERS.move_to_end(key)
        return _SOLVERS[key]
    run = make_ode_solver(_Flow(model), **options)

    @jax.jit
    def solve(p: jax.Array, x0_override: jax.Array, ts: jax.Array) -> tuple[jax.Array, jax.Array]:
        x0, q = model.prepare(p)
        x0 = jnp.where(jnp.isnan(x0_override), x0, x0_override)
        if model.events:
            return _solve_with_events(model, run, x0, q, ts)
        xs, ok = run(x0, q, ts)
        return jax.vmap(lambda t, x: model.observe(t, x, q))(ts, xs), ok

    _SOLVERS[key] = solve
    if len(_SOLVERS) > _SOLVERS_SIZE:
        _SOLVERS.popitem(last=False)
    return solve


def _vector(model: SbmlModel, values: Mapping[str, float] | None, names: tuple[str, ...], base, field: str):
    out = np.array(base, dtype=float, copy=True)
    for key, value in (values or {}).items():
        if key not in names:
            raise InvalidInput(f"{field}.{key}", f"not one of the model's {field}: {', '.join(names)}")
        if not math.isfinite(value):
            raise InvalidInput(f"{field}.{key}", f"must be finite, got {value}")
        out[names.index(key)] = float(value)
    return out


def simulate_sbml_model(
    model: SbmlModel,
    ts: np.ndarray,
    *,
    parameters: Mapping[str, float] | None = None,
    initial: Mapping[str, float] | None = None,
    **options,
) -> np.ndarray:
    """Concentrations of every species at ``ts`` (NumPy in/out); raise on failure.

    Parameters
    ----------
    model
        Compiled model.
    ts
        Output times in the model's time unit, strictly increasing, ``ts[0] >= 0`` (the model starts at t = 0).
    parameters
        Overrides of :attr:`SbmlModel.parameters` (model units).
    initial
        Initial concentrations of state species (model units), replacing the file's and its initial assignments.
    **options
        Passed to :func:`make_sbml_solver`.

    Returns
    -------
    ndarray, shape (n_t, n_species)

    Raises
    ------
    InvalidInput
        Unknown names, non-finite values, bad times.
    SimulationFailed
        Step limit reached or non-finite values.
    """
    p = _vector(model, parameters, model.parameters, model.parameter_values, "parameters")
    if np.any(np.isnan(p)):
        raise InvalidInput(f"parameters.{model.parameters[int(np.argmax(np.isnan(p)))]}", "has no value in the file")
    for key, value in (initial or {}).items():
        if key in model.species and key not in model.state:
            raise InvalidInput(f"initial.{key}", "species is set by an assignment rule; its initial value follows")
        if math.isfinite(value) and value < 0:
            raise InvalidInput(f"initial.{key}", f"a concentration must be >= 0, got {value}")
    x0 = _vector(model, initial, model.state, np.full(len(model.state), np.nan), "initial")
    ts = np.asarray(ts, dtype=float)
    if ts.ndim != 1 or ts.size < 2 or np.any(np.diff(ts) <= 0) or ts[0] < 0:
        raise InvalidInput("times", "need at least two strictly increasing output times from t >= 0")
    if ts[0] > 0:  # the model starts at t = 0; integrate from there and drop the first row
        ys = simulate_sbml_model(model, np.concatenate([[0.0], ts]), parameters=parameters, initial=initial, **options)
        return ys[1:]
    ys, ok = make_sbml_solver(model, **options)(jnp.asarray(p), jnp.asarray(x0), jnp.asarray(ts))
    if not bool(ok):
        raise SimulationFailed(
            f"SBML model {model.model_id!r}: integration failed (step limit or non-finite values); raise max_steps or "
            "loosen rtol"
        )
    return np.asarray(ys)


# ---- writing ---------------------------------------------------------------------------------------------------------
_SBML_ID = re.compile(r"[^A-Za-z0-9_]")


def _sbml_id(name: str, taken: set[str]) -> str:
    base = _SBML_ID.sub("_", name)
    if not base or base[0].isdigit():
        base = f"_{base}"
    out, n = base, 1
    while out in taken:
        n += 1
        out = f"{base}_{n}"
    taken.add(out)
    return out


def _check(code: int, what: str) -> None:
    ls = _libsbml()
    if code != ls.LIBSBML_OPERATION_SUCCESS:
        raise LabwrightError(f"libsbml could not set {what}: {ls.OperationReturnValue_toString(code)}")


def network_to_sbml(
    network: ReactionNetwork, initial: Mapping[str, float] | None = None, *, model_id: str = "labwright_network"
) -> str:
    """SBML Level 3 Version 2 text of a mass-action network (SI: mol, m³, s).

    Parameters
    ----------
    network
        Reactions with their constants (missing constants are an error: the SBML must be simulable).
    initial
        Initial concentrations, mol/m³; unlisted species 0.
    model_id
        SBML id of the model.

    Returns
    -------
    str
        The document. Species and reactions whose names are not valid SBML ids get sanitised ids and keep their
        labwright names in the SBML ``name`` attribute.
    """
    ls = _libsbml()
    network.require_constants()
    initial = dict(initial or {})
    for sp, value in initial.items():
        if sp not in network.index:
            raise InvalidInput(f"initial.{sp}", "not a species of the network")
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"initial.{sp}", f"must be finite and >= 0, got {value}")
    doc = ls.SBMLDocument(3, 2)
    model = doc.createModel()
    _check(model.setId(_sbml_id(model_id, set())), "model id")
    taken = {"cell"}
    units = {"per_second": [(ls.UNIT_KIND_SECOND, -1)], "m3": [(ls.UNIT_KIND_METRE, 3)]}
    for uid, parts in units.items():
        ud = model.createUnitDefinition()
        ud.setId(uid)
        for kind, exponent in parts:
            u = ud.createUnit()
            u.setKind(kind)
            u.setExponent(exponent)
            u.setScale(0)
            u.setMultiplier(1.0)
    model.setTimeUnits("second")
    model.setSubstanceUnits("mole")
    model.setExtentUnits("mole")
    model.setVolumeUnits("m3")
    comp = model.createCompartment()
    comp.setId("cell")
    comp.setSize(1.0)
    comp.setSpatialDimensions(3)
    comp.setConstant(True)
    comp.setUnits("m3")
    ids = {}
    for sp in network.species:
        ids[sp] = _sbml_id(sp, taken)
        s = model.createSpecies()
        s.setId(ids[sp])
        s.setName(sp)
        s.setCompartment("cell")
        s.setInitialConcentration(float(initial.get(sp, 0.0)))
        s.setHasOnlySubstanceUnits(False)
        s.setBoundaryCondition(False)
        s.setConstant(False)
    for r in network.reactions:
        rx = model.createReaction()
        rx.setId(_sbml_id(r.name, taken))
        rx.setName(r.name)
        rx.setReversible(r.reversible)
        for side, create in ((r.reactants, rx.createReactant), (r.products, rx.createProduct)):
            for sp, c in side.items():
                ref = create()
                ref.setSpecies(ids[sp])
                ref.setStoichiometry(float(c))
                ref.setConstant(True)
        kl = rx.createKineticLaw()
        terms = [("kf", r.k_forward, r.reactants)]
        if r.reversible:
            terms.append(("kr", r.k_reverse, r.products))
        for pid, value, _ in terms:
            lp = kl.createLocalParameter()
            lp.setId(pid)
            lp.setValue(float(value))
        flux = " - ".join(
            "*".join([pid, *(ids[sp] if c == 1 else f"{ids[sp]}^{c}" for sp, c in side.items())])
            for pid, _, side in terms
        )
        math_ast = ls.parseL3Formula(f"cell * ({flux})")
        if math_ast is None:
            raise LabwrightError(f"libsbml could not parse the rate law of {r.name!r}: {ls.getLastParseL3Error()}")
        _check(kl.setMath(math_ast), f"kinetic law of {r.name!r}")
    text = ls.writeSBMLToString(doc)
    if doc.checkInternalConsistency() and any(
        doc.getError(i).getSeverity() >= ls.LIBSBML_SEV_ERROR for i in range(doc.getNumErrors())
    ):
        raise LabwrightError(f"exported SBML is inconsistent: {doc.getError(0).getMessage().strip()}")
    return text
