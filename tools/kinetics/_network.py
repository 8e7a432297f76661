"""Reaction networks: parse human-written reactions, stoichiometry, graph and conservation laws.

A reaction is written ``"[name:] A + 2 B <-> C [; kf=1.0, kr=0.5]"``. Arrows: ``->``, ``=>``, ``→`` (irreversible)
and ``<->``, ``<=>``, ``⇌`` (reversible). An empty side is written ``0`` or ``∅`` (e.g. a birth ``0 -> X``).
Rate-constant keys: ``kf``/``k``/``k+`` (forward) and ``kr``/``k-``/``kb`` (reverse).

Units: concentrations mol/m³ (= mM), time s. A reaction of order n (sum of reactant coefficients) has its forward
constant in (m³/mol)^(n-1)/s: 1/s for first order, m³/(mol·s) for second order, mol/(m³·s) for zero order; the
reverse constant likewise with the order of the product side. For stochastic models the same constants are turned
into propensities with the system size Ω (molecules per mol/m³), see :mod:`._ssa`.

Conservation laws are computed in exact rational arithmetic (:class:`fractions.Fraction`), not from a floating-point
SVD: stoichiometric matrices are small integer matrices, so exact elimination decides ranks without a tolerance and
yields integer vectors directly. A non-negative integer basis (the minimal semi-positive "P-invariants" of Petri-net
theory, found by the Farkas elimination) is preferred when it spans the left null space; otherwise the reduced
row-echelon basis, scaled to integers, is returned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from functools import cached_property
from typing import Annotated

import networkx as nx
import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from ...errors import InvalidInput
from ..fields import Name, ToolModel
from ..registry import invalid_input_from

__all__ = [
    "Reaction",
    "ReactionSpec",
    "ReactionNetwork",
    "parse_reaction",
    "parse_network",
    "integer_nullspace",
    "rate_constant_unit",
]

_ARROW = re.compile(r"\s*(<->|<=>|⇌|->|=>|→)\s*")
_REVERSIBLE_ARROWS = {"<->", "<=>", "⇌"}
_SPECIES = re.compile(r"^[A-Za-z_][A-Za-z0-9_*']*$")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_\-']*)\s*:(?!:)\s*(.*)$", re.S)
_TERM = re.compile(r"^(?P<coef>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)?\s*\*?\s*(?P<name>\S.*)?$")
_EMPTY = {"0", "∅", "Ø", "ø", "nothing", ""}
_FORWARD_KEYS = {"kf", "k", "k+", "kforward", "k_f"}
_REVERSE_KEYS = {"kr", "k-", "kb", "kreverse", "k_r"}

PositiveK = Annotated[float, Field(gt=0, allow_inf_nan=False)]


def rate_constant_unit(order: int) -> str:
    """SI unit of a mass-action rate constant of reaction order ``order`` (concentrations in mol/m³)."""
    if order == 0:
        return "mol/(m³·s)"
    if order == 1:
        return "1/s"
    if order == 2:
        return "m³/(mol·s)"
    return f"(m³/mol)^{order - 1}/s"


class Reaction(ToolModel):
    """One (possibly reversible) mass-action reaction with integer stoichiometry."""

    name: str = Field(description="Unique reaction name, e.g. 'r1' or 'binding'.")
    reactants: dict[str, int] = Field(description="Species -> stoichiometric coefficient on the left (integers > 0).")
    products: dict[str, int] = Field(description="Species -> stoichiometric coefficient on the right (integers > 0).")
    reversible: bool = Field(description="True for '<->' reactions (which then need k_reverse when simulated).")
    k_forward: PositiveK | None = Field(
        default=None, description="Forward rate constant, (m³/mol)^(n-1)/s for reactant order n (1/s if n = 1)."
    )
    k_reverse: PositiveK | None = Field(
        default=None, description="Reverse rate constant, (m³/mol)^(m-1)/s for product order m; None if irreversible."
    )

    @model_validator(mode="after")
    def _check(self) -> Reaction:
        if not self.reversible and self.k_reverse is not None:
            raise InvalidInput(
                f"reactions.{self.name}.k_reverse", "an irreversible ('->') reaction cannot have a reverse constant"
            )
        for side in ("reactants", "products"):
            for sp, c in getattr(self, side).items():
                if not isinstance(c, int) or c <= 0:
                    raise InvalidInput(
                        f"reactions.{self.name}.{side}.{sp}", f"coefficient must be an integer > 0, got {c}"
                    )
        if not self.reactants and not self.products:
            raise InvalidInput(f"reactions.{self.name}", "both sides are empty")
        return self

    @property
    def order(self) -> int:
        """Reactant-side order (sum of coefficients)."""
        return sum(self.reactants.values())

    @property
    def reverse_order(self) -> int:
        return sum(self.products.values())

    def equation(self) -> str:
        def side(d: Mapping[str, int]) -> str:
            return " + ".join((f"{c} {s}" if c != 1 else s) for s, c in d.items()) or "0"

        return f"{side(self.reactants)} {'<->' if self.reversible else '->'} {side(self.products)}"

    def __str__(self) -> str:
        rates = []
        if self.k_forward is not None:
            rates.append(f"kf={self.k_forward:g}")
        if self.k_reverse is not None:
            rates.append(f"kr={self.k_reverse:g}")
        return f"{self.name}: {self.equation()}" + (f"; {', '.join(rates)}" if rates else "")


class ReactionSpec(ToolModel):
    """A reaction as a tool argument: an equation string plus optional constants and name."""

    equation: Name = Field(description="e.g. 'E + S <-> ES' or '2 A -> B'; '0' or '∅' for an empty side.")
    k_forward: PositiveK | None = Field(default=None, description="Forward constant, (m³/mol)^(n-1)/s for order n.")
    k_reverse: PositiveK | None = Field(
        default=None, description="Reverse constant, (m³/mol)^(m-1)/s; reversible only."
    )
    name: Name | None = Field(default=None, description="Optional unique reaction name.")


def _parse_side(text: str, where: str) -> dict[str, int]:
    out: dict[str, int] = {}
    text = text.strip()
    if text in _EMPTY:
        return out
    # '+' separates terms; a sign glued to a number (e.g. '+ -2 B') is caught by the coefficient check below.
    for raw in re.split(r"\s+\+\s+|\+(?=\s*[A-Za-z_\d.\-])", text):
        term = raw.strip()
        if not term:
            raise InvalidInput(where, f"empty term in {text!r}")
        m = _TERM.match(term)
        if m is None or m.group("name") is None:
            raise InvalidInput(where, f"cannot read term {term!r}")
        name = m.group("name").strip()
        coef = 1
        if m.group("coef") is not None:
            value = float(m.group("coef"))
            if value < 0:
                raise InvalidInput(where, f"negative stoichiometric coefficient {m.group('coef')} for {name!r}")
            if value != int(value):
                raise InvalidInput(where, f"non-integer stoichiometric coefficient {m.group('coef')} for {name!r}")
            if value == 0:
                raise InvalidInput(where, f"zero stoichiometric coefficient for {name!r}")
            coef = int(value)
        if not _SPECIES.match(name):
            raise InvalidInput(where, f"invalid species name {name!r} (letters, digits, '_', '*', \"'\" only)")
        out[name] = out.get(name, 0) + coef
    return out


def _parse_rates(text: str, where: str) -> tuple[float | None, float | None]:
    kf = kr = None
    for item in re.split(r"[,;\s]+", text.strip()):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise InvalidInput(where, f"rate constant {item!r} must be written key=value (e.g. kf=1.0)")
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(where, f"rate constant {item!r} is not a number") from None
        if not math.isfinite(number) or number <= 0:
            raise InvalidInput(where, f"rate constant {item!r} must be finite and > 0")
        if key in _FORWARD_KEYS:
            kf = number
        elif key in _REVERSE_KEYS:
            kr = number
        else:
            raise InvalidInput(where, f"unknown rate-constant key {key!r}; use kf or kr")
    return kf, kr


def parse_reaction(
    text: str | ReactionSpec | Reaction | Mapping,
    *,
    name: str | None = None,
    k_forward: float | None = None,
    k_reverse: float | None = None,
    where: str = "reaction",
) -> Reaction:
    """Parse one reaction string (or :class:`ReactionSpec`) into a :class:`Reaction`.

    Parameters
    ----------
    text
        ``"[name:] LHS ARROW RHS [; kf=..., kr=...]"``, a :class:`ReactionSpec`, or an already-built reaction.
    name, k_forward, k_reverse
        Override or supply the name and constants (units per reaction order, see module docstring).
    where
        Field name used in error messages (``"reactions.2"``).

    Raises
    ------
    InvalidInput
        Unreadable equation, negative / non-integer / zero coefficients, bad species names or constants.
    """
    if isinstance(text, Reaction):
        return text
    if isinstance(text, Mapping):
        try:
            text = ReactionSpec(**text)
        except Exception as err:  # pydantic errors -> a message naming the field
            raise InvalidInput(where, str(err).splitlines()[-1].strip() if str(err) else "invalid reaction") from None
    if isinstance(text, ReactionSpec):
        return parse_reaction(
            text.equation,
            name=text.name or name,
            k_forward=text.k_forward if text.k_forward is not None else k_forward,
            k_reverse=text.k_reverse if text.k_reverse is not None else k_reverse,
            where=where,
        )
    if not isinstance(text, str):
        raise InvalidInput(where, f"a reaction must be a string, got {type(text).__name__}")
    body = text.strip()
    m = _NAME.match(body)
    parsed_name = None
    if m and not _ARROW.search(m.group(1)):
        parsed_name, body = m.group(1), m.group(2)
    cut = re.search(r"[;,]", body)
    equation, rates = (body[: cut.start()], body[cut.end() :]) if cut else (body, "")
    arrows = _ARROW.findall(equation)
    if len(arrows) != 1:
        raise InvalidInput(where, f"need exactly one arrow (->, <->, <=>, ⇌) in {text!r}, found {len(arrows)}")
    lhs, arrow, rhs = _ARROW.split(equation)
    the_name = name or parsed_name
    label = f"{where} ({the_name})" if the_name else where
    reactants = _parse_side(lhs, label)
    products = _parse_side(rhs, label)
    kf, kr = _parse_rates(rates, label) if rates else (None, None)
    kf = k_forward if k_forward is not None else kf
    kr = k_reverse if k_reverse is not None else kr
    reversible = arrow in _REVERSIBLE_ARROWS
    if not reversible and kr is not None:
        raise InvalidInput(label, "irreversible ('->') reaction given a reverse constant; write '<->' instead")
    for key, value in (("k_forward", kf), ("k_reverse", kr)):
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise InvalidInput(f"{label}.{key}", f"must be finite and > 0, got {value}")
    if reactants == products:
        raise InvalidInput(label, "reactants and products are identical")
    return _validated(
        Reaction,
        name=the_name or "",
        reactants=reactants,
        products=products,
        reversible=reversible,
        k_forward=kf,
        k_reverse=kr,
    )


def _validated(model: type, **fields):
    """Construct a pydantic model; an :class:`InvalidInput` raised by a validator surfaces unchanged."""
    try:
        return model(**fields)
    except ValidationError as err:
        cause = err.errors(include_url=False)[0].get("ctx", {}).get("error")
        if isinstance(cause, InvalidInput):
            raise cause from None
        raise invalid_input_from(err) from None


class ReactionNetwork(ToolModel):
    """Species and mass-action reactions; one stoichiometric column per reaction (reversible ones counted once).

    Parallel reactions (the same transformation written twice, reversible and irreversible alike) are allowed and
    contribute separate columns; only reaction names must be unique.
    """

    species: list[str] = Field(description="Species names in matrix order.")
    reactions: list[Reaction] = Field(description="Reactions with unique names.")

    model_config = ToolModel.model_config | {"frozen": True}

    @field_validator("species")
    @classmethod
    def _unique_species(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        for i, s in enumerate(v):
            if not _SPECIES.match(s):
                raise InvalidInput(f"species.{i}", f"invalid species name {s!r}")
            if s in seen:
                raise InvalidInput(f"species.{i}", f"species {s!r} listed twice")
            seen.add(s)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ReactionNetwork:
        known = set(self.species)
        names: dict[str, int] = {}
        # Parallel reactions between the same species (A ⇌ B with A → B, or two A → B routes) are kept as written:
        # each is its own elementary step with its own constants, and whether such a set is thermodynamically
        # possible is the question extended detailed balance answers (see :mod:`._balance`), not the parser's.
        for i, r in enumerate(self.reactions):
            if r.name in names:
                raise InvalidInput(f"reactions.{i}", f"duplicated reaction name {r.name!r}")
            names[r.name] = i
            for sp in (*r.reactants, *r.products):
                if sp not in known:
                    raise InvalidInput(f"reactions.{i} ({r.name})", f"unknown species {sp!r}")
        if not self.reactions:
            raise InvalidInput("reactions", "a network needs at least one reaction")
        return self

    # ---- matrices -------------------------------------------------------------------------------------------------
    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        return len(self.reactions)

    @cached_property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.species)}

    def reactant_matrix(self) -> np.ndarray:
        """Reactant coefficients, shape (n_species, n_reactions), int."""
        a = np.zeros((self.n_species, self.n_reactions), dtype=np.int64)
        for j, r in enumerate(self.reactions):
            for s, c in r.reactants.items():
                a[self.index[s], j] = c
        return a

    def product_matrix(self) -> np.ndarray:
        """Product coefficients, shape (n_species, n_reactions), int."""
        b = np.zeros((self.n_species, self.n_reactions), dtype=np.int64)
        for j, r in enumerate(self.reactions):
            for s, c in r.products.items():
                b[self.index[s], j] = c
        return b

    def stoichiometric_matrix(self) -> np.ndarray:
        """Net stoichiometry N = products − reactants, shape (n_species, n_reactions), int."""
        return self.product_matrix() - self.reactant_matrix()

    def reaction(self, name: str) -> Reaction:
        for r in self.reactions:
            if r.name == name:
                return r
        raise InvalidInput("reaction", f"no reaction named {name!r}; names are {[r.name for r in self.reactions]}")

    def missing_constants(self) -> list[str]:
        """``"name.k_forward"`` / ``"name.k_reverse"`` for every constant not given."""
        out = []
        for r in self.reactions:
            if r.k_forward is None:
                out.append(f"{r.name}.k_forward")
            if r.reversible and r.k_reverse is None:
                out.append(f"{r.name}.k_reverse")
        return out

    def require_constants(self) -> None:
        """Raise :class:`InvalidInput` naming the first reaction without a needed rate constant."""
        missing = self.missing_constants()
        if missing:
            raise InvalidInput(f"reactions.{missing[0]}", "rate constant required for simulation but not given")

    def with_constants(self, constants: Mapping[str, float]) -> ReactionNetwork:
        """A copy with constants replaced; keys ``"name"``/``"name.k_forward"`` or ``"name.k_reverse"``."""
        updates: dict[str, dict[str, float]] = {}
        names = {r.name for r in self.reactions}
        for key, value in constants.items():
            rname, _, which = key.partition(".")
            which = which or "k_forward"
            if rname not in names or which not in ("k_forward", "k_reverse"):
                raise InvalidInput(f"rate_constants.{key}", "no such reaction constant")
            updates.setdefault(rname, {})[which] = float(value)
        reactions = [_validated(Reaction, **{**r.model_dump(), **updates.get(r.name, {})}) for r in self.reactions]
        return _validated(ReactionNetwork, species=list(self.species), reactions=reactions)

    # ---- graph and invariants -----------------------------------------------------------------------------------
    def graph(self) -> nx.DiGraph:
        """Bipartite species–reaction digraph (networkx).

        Nodes carry ``bipartite`` (0 species, 1 reaction) and ``kind``; edges species→reaction for reactants and
        reaction→species for products carry ``stoichiometry``. Reversible reactions have ``reversible=True``.
        """
        g = nx.DiGraph()
        g.add_nodes_from(self.species, bipartite=0, kind="species")
        for r in self.reactions:
            g.add_node(r.name, bipartite=1, kind="reaction", reversible=r.reversible, equation=r.equation())
            for s, c in r.reactants.items():
                g.add_edge(s, r.name, stoichiometry=c)
            for s, c in r.products.items():
                g.add_edge(r.name, s, stoichiometry=c)
        return g

    def conservation_laws(self) -> np.ndarray:
        """Integer basis of the left null space of N (rows c with cᵀN = 0), shape (n_laws, n_species).

        Non-negative (minimal semi-positive) vectors when they span the space, else an exact rational basis scaled
        to integers. Each row times the concentration vector is constant in time.
        """
        n = self.stoichiometric_matrix()
        basis = _semipositive_basis(n)
        if basis is None:
            basis = integer_nullspace(n.T)
        return np.array(basis, dtype=np.int64).reshape(len(basis), self.n_species)

    def describe_law(self, row: Sequence[int]) -> str:
        """A conservation law as text, e.g. ``"E + ES"``."""
        parts = []
        for s, c in zip(self.species, row):
            if c:
                parts.append(("" if not parts else (" + " if c > 0 else " - ")) + _coef(abs(c) if parts else c) + s)
        return "".join(parts)


def _coef(c: int) -> str:
    return "" if c == 1 else ("-" if c == -1 else f"{c} ")


def parse_network(
    reactions: Iterable[str | ReactionSpec | Reaction | Mapping],
    species: Sequence[str] | None = None,
) -> ReactionNetwork:
    """Build a :class:`ReactionNetwork` from reaction strings/specs.

    Parameters
    ----------
    reactions
        Reaction strings (``"E + S <-> ES; kf=1e3, kr=1"``) or :class:`ReactionSpec` objects.
    species
        Optional declared species (fixes matrix order); any species used but not declared is an error. Without it,
        species are ordered by first appearance.

    Raises
    ------
    InvalidInput
        Parse errors, unknown species, duplicated reaction names (the field names the reaction).
    """
    parsed: list[Reaction] = []
    for i, item in enumerate(reactions):
        r = parse_reaction(item, where=f"reactions.{i}")
        if not r.name:
            r = r.model_copy(update={"name": f"r{i + 1}"})
        parsed.append(r)
    if species is None:
        order: dict[str, None] = {}
        for r in parsed:
            for s in (*r.reactants, *r.products):
                order.setdefault(s, None)
        species = list(order)
    return _validated(ReactionNetwork, species=list(species), reactions=parsed)


# ---- exact linear algebra ---------------------------------------------------------------------------------------
def _rref(rows: list[list[Fraction]]) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row-echelon form in exact arithmetic; returns (matrix, pivot columns)."""
    m = [r[:] for r in rows]
    n_cols = len(m[0]) if m else 0
    pivots: list[int] = []
    r = 0
    for c in range(n_cols):
        p = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if p is None:
            continue
        m[r], m[p] = m[p], m[r]
        inv = 1 / m[r][c]
        m[r] = [x * inv for x in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[r])]
        pivots.append(c)
        r += 1
        if r == len(m):
            break
    return m, pivots


def _to_integers(v: Sequence[Fraction]) -> list[int]:
    lcm = 1
    for x in v:
        lcm = lcm * x.denominator // math.gcd(lcm, x.denominator)
    ints = [int(x * lcm) for x in v]
    g = 0
    for x in ints:
        g = math.gcd(g, abs(x))
    ints = [x // g for x in ints] if g > 1 else ints
    # Sign convention: first non-zero entry positive.
    first = next((x for x in ints if x), 0)
    return [-x for x in ints] if first < 0 else ints


def integer_nullspace(a: np.ndarray | Sequence[Sequence[int]]) -> list[list[int]]:
    """Integer basis of the right null space of an integer matrix ``a`` (shape (m, n)), by exact RREF.

    Returns a list of ``n - rank(a)`` integer vectors of length n (each with gcd 1, first non-zero entry > 0).
    """
    a = np.asarray(a, dtype=np.int64)
    m, n = a.shape
    if n == 0:
        return []
    if m == 0:
        return [[int(i == j) for j in range(n)] for i in range(n)]
    rref, pivots = _rref([[Fraction(int(x)) for x in row] for row in a])
    free = [c for c in range(n) if c not in pivots]
    basis = []
    for f in free:
        v = [Fraction(0)] * n
        v[f] = Fraction(1)
        for row, p in enumerate(pivots):
            v[p] = -rref[row][f]
        basis.append(_to_integers(v))
    return basis


def _rank(vectors: Sequence[Sequence[int]]) -> int:
    if not vectors:
        return 0
    return len(_rref([[Fraction(int(x)) for x in v] for v in vectors])[1])


def _semipositive_basis(n: np.ndarray, max_rows: int = 4000) -> list[list[int]] | None:
    """Minimal semi-positive left-null vectors of ``n`` (Farkas elimination), if they span the left null space.

    Returns None when they do not span it (e.g. an open system with no non-negative invariant) or when the
    elimination grows beyond ``max_rows`` intermediate rows.
    """
    n_s, n_r = n.shape
    nullity = n_s - _rank(n.T.tolist()) if n_r else n_s
    if nullity == 0:
        return []
    # Rows: [N row | identity row]; eliminate each reaction column by non-negative combinations.
    rows = [(list(map(int, n[i])), [int(i == j) for j in range(n_s)]) for i in range(n_s)]
    for col in range(n_r):
        keep = [r for r in rows if r[0][col] == 0]
        pos = [r for r in rows if r[0][col] > 0]
        neg = [r for r in rows if r[0][col] < 0]
        for p in pos:
            for q in neg:
                a, b = -q[0][col], p[0][col]
                left = [a * x + b * y for x, y in zip(p[0], q[0])]
                right = [a * x + b * y for x, y in zip(p[1], q[1])]
                g = 0
                for x in (*left, *right):
                    g = math.gcd(g, abs(x))
                keep.append(([x // g for x in left], [x // g for x in right]))
        # Drop rows whose support contains another row's support (non-minimal).
        keep.sort(key=lambda r: sum(1 for x in r[1] if x))
        minimal: list[tuple[list[int], list[int]]] = []
        for r in keep:
            support = {i for i, x in enumerate(r[1]) if x}
            if not any({i for i, x in enumerate(m[1]) if x} <= support for m in minimal):
                minimal.append(r)
        rows = minimal
        if len(rows) > max_rows:
            return None
    candidates = [r[1] for r in rows]
    chosen: list[list[int]] = []
    for c in candidates:
        if _rank([*chosen, c]) > len(chosen):
            chosen.append(c)
        if len(chosen) == nullity:
            return chosen
    return None
