"""Structural sparsity of ∂f/∂y read from the traced program, and the Jacobian by compressed forward mode.

A reaction network's Jacobian is sparse: in BIOMD0000000010 (8 species) 26 of the 64 entries can be nonzero. Dense
forward mode (``jax.jacfwd``) pushes n one-hot tangents through f, and XLA:CPU does not drop the products with the
zero tangent entries (x·0 is not 0 for x = NaN), so it evaluated every entry in full: a 99-operation expression per
entry of the lanes-last Jacobian, 6,300 operations per lane and step, about half of a Rodas4 step.

Here the pattern comes from the jaxpr of f (:func:`jacobian_pattern`): each value carries, per element, the set of
state entries it depends on, propagated equation by equation. Rules are exact for the primitives a rate law is made
of (elementwise arithmetic, broadcasts, slices, concatenation, reductions) and conservative for the rest (every
output element depends on every input), so a structural zero is never claimed where a derivative can be nonzero.
Columns that share no row are then pushed as one tangent (Curtis, Powell & Reid, *J. Inst. Math. Appl.* 13, 117,
1974; greedy colouring, largest column first): BIOMD0000000010 needs 4 tangents instead of 8, BIOMD0000000009
(22 species) 8 instead of 22.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore

__all__ = ["jacobian_pattern", "column_groups", "compressed_jacobian", "dense_rows"]

_ELEMENTWISE = frozenset(
    "abs acos acosh add and asin asinh atan atan2 atanh cbrt ceil clamp convert_element_type copy copy_p cos cosh "
    "digamma div eq erf erf_inv erfc exp exp2 expm1 floor ge gt imag integer_pow is_finite le lgamma log log1p "
    "logistic lt max min mul ne neg nextafter not or pow real reduce_precision rem round rsqrt select_n sign sin "
    "sinh sqrt square sub tan tanh xor".split()
)
_REDUCTIONS = frozenset("reduce_sum reduce_max reduce_min reduce_prod reduce_and reduce_or argmax argmin".split())


def _deps_of(atom, env: dict, n: int) -> np.ndarray:
    """Dependency array of a jaxpr atom: bool, shape = the atom's shape + (n,)."""
    if isinstance(atom, jcore.Literal):
        return np.zeros(np.shape(atom.val) + (n,), dtype=bool)
    return env[atom]


def _everything(ins: list[np.ndarray], outvars, n: int) -> list[np.ndarray]:
    """Conservative rule: every output element depends on everything any input depends on."""
    union = np.zeros(n, dtype=bool)
    for d in ins:
        union |= d.reshape(-1, n).any(axis=0)
    return [np.broadcast_to(union, tuple(v.aval.shape) + (n,)).copy() for v in outvars]


def _static_starts(eqn, first: int) -> list[int] | None:
    """Start indices of a dynamic slice/update given as literals, else None."""
    atoms = eqn.invars[first:]
    if all(isinstance(a, jcore.Literal) for a in atoms):
        return [int(a.val) for a in atoms]
    return None


# Primitives that run a sub-jaxpr once on exactly their operands and are differentiated through it. Loops (while,
# scan) also hold a body whose inputs can line up with the operands, but one pass of it misses dependencies carried
# across iterations (a rotation of the carry); a custom_jvp/custom_vjp function is differentiated by its own rule,
# which need not follow its primal. Those, like cond, take the conservative rule.
_CALLS = frozenset("jit pjit closed_call core_call checkpoint remat".split())


def _subjaxpr(eqn):
    """The jaxpr a call-like equation runs once on its operands, or None."""
    if eqn.primitive.name not in _CALLS:
        return None
    for value in eqn.params.values():
        jaxpr = getattr(value, "jaxpr", value)
        if isinstance(jaxpr, jcore.Jaxpr) and len(jaxpr.invars) == len(eqn.invars):
            return jaxpr
    return None


def _propagate(jaxpr, in_deps: list[np.ndarray], n: int) -> list[np.ndarray]:
    """Dependencies of a jaxpr's outputs given its inputs' (one array per invar)."""
    env: dict = {v: np.zeros(tuple(v.aval.shape) + (n,), dtype=bool) for v in jaxpr.constvars}
    env.update(zip(jaxpr.invars, in_deps))
    for eqn in jaxpr.eqns:
        ins = [_deps_of(a, env, n) for a in eqn.invars]
        name, p = eqn.primitive.name, eqn.params
        out_shape = tuple(eqn.outvars[0].aval.shape) + (n,) if eqn.outvars else None
        if name in _ELEMENTWISE:
            out = np.zeros(out_shape, dtype=bool)
            for d in ins:
                out = out | np.broadcast_to(d, out_shape)
            outs = [out]
        elif name == "broadcast_in_dim":
            shape = [1] * len(p["shape"]) + [n]
            for k, dim in enumerate(p["broadcast_dimensions"]):
                shape[dim] = ins[0].shape[k]
            outs = [np.broadcast_to(ins[0].reshape(shape), out_shape).copy()]
        elif name == "reshape" and p.get("dimensions") is None:
            outs = [ins[0].reshape(out_shape)]
        elif name == "squeeze":
            outs = [np.squeeze(ins[0], axis=tuple(p["dimensions"]))]
        elif name == "transpose":
            outs = [np.transpose(ins[0], tuple(p["permutation"]) + (ins[0].ndim - 1,))]
        elif name == "slice":
            strides = p["strides"] or (1,) * len(p["start_indices"])
            index = tuple(slice(a, b, s) for a, b, s in zip(p["start_indices"], p["limit_indices"], strides))
            outs = [ins[0][index]]
        elif name == "dynamic_slice" and (starts := _static_starts(eqn, 1)) is not None:
            dims = ins[0].shape[:-1]
            starts = [min(max(s, 0), d - size) for s, d, size in zip(starts, dims, p["slice_sizes"])]
            outs = [ins[0][tuple(slice(s, s + size) for s, size in zip(starts, p["slice_sizes"]))]]
        elif name == "dynamic_update_slice" and (starts := _static_starts(eqn, 2)) is not None:
            out, update = ins[0].copy(), ins[1]
            dims = out.shape[:-1]
            starts = [min(max(s, 0), d - u) for s, d, u in zip(starts, dims, update.shape[:-1])]
            out[tuple(slice(s, s + u) for s, u in zip(starts, update.shape[:-1]))] = update
            outs = [out]
        elif name == "concatenate":
            outs = [np.concatenate(ins, axis=p["dimension"])]
        elif name == "stack":
            outs = [np.stack(ins, axis=p["axis"])]
        elif name in _REDUCTIONS:
            outs = [ins[0].any(axis=tuple(p["axes"]))]
        elif not eqn.invars:  # iota, constants
            outs = [np.zeros(tuple(v.aval.shape) + (n,), dtype=bool) for v in eqn.outvars]
        elif (sub := _subjaxpr(eqn)) is not None:
            outs = _propagate(sub, ins, n)
        else:
            outs = _everything(ins, eqn.outvars, n)
        for v, d in zip(eqn.outvars, outs):
            env[v] = d
    return [_deps_of(a, env, n) for a in jaxpr.outvars]


def jacobian_pattern(f: Callable, y: jax.Array, *args) -> np.ndarray:
    """Structural pattern of ∂f/∂y: bool (m, n), False only where the entry is zero for every y and args.

    ``f(y, *args)`` returns an (m,) array; ``y`` (n,) and ``args`` may be arrays or ``jax.ShapeDtypeStruct``.
    """
    return _pattern_of(jax.make_jaxpr(f)(y, *args))


def _pattern_of(closed) -> np.ndarray:
    """:func:`jacobian_pattern` of a traced ``f(y, *args)``."""
    n = int(closed.jaxpr.invars[0].aval.shape[0])
    leaves = [np.zeros(tuple(v.aval.shape) + (n,), dtype=bool) for v in closed.jaxpr.invars]
    leaves[0] = np.eye(n, dtype=bool)  # y is the first flattened input
    (out,) = _propagate(closed.jaxpr, leaves, n)
    return out.reshape(-1, n)


def column_groups(pattern: np.ndarray) -> list[list[int]]:
    """Columns of ``pattern`` grouped so that no two in a group share a nonzero row (greedy, largest first)."""
    rows_of = [set(np.flatnonzero(col)) for col in np.asarray(pattern, dtype=bool).T]
    groups: list[list[int]] = []
    used: list[set] = []
    for j in sorted(range(len(rows_of)), key=lambda j: -len(rows_of[j])):
        if not rows_of[j]:
            continue
        for g, rows in zip(groups, used):
            if not rows & rows_of[j]:
                g.append(j)
                rows |= rows_of[j]
                break
        else:
            groups.append([j])
            used.append(set(rows_of[j]))
    return [sorted(g) for g in groups]


class _Entries:
    """A state vector held as its separate entries while a jaxpr reads it one entry at a time."""

    def __init__(self, entries: list):
        self.entries = entries

    def whole(self) -> jax.Array:
        return jnp.stack(self.entries)


def _single_entry(eqn, value) -> _Entries | jax.Array | None:
    """The entry a slice/squeeze equation takes from an :class:`_Entries`, else None (the vector is needed whole)."""
    p = eqn.params
    if eqn.primitive.name == "slice" and len(p["start_indices"]) == 1 and (p["strides"] or (1,)) == (1,):
        start, stop = p["start_indices"][0], p["limit_indices"][0]
        return _Entries(value.entries[start:stop])
    if eqn.primitive.name == "squeeze" and len(value.entries) == 1:
        return value.entries[0]
    return None


def _eval_entrywise(closed, entries: list, rest: list) -> list:
    """Evaluate ``closed`` (first input a vector) with the vector given as ``entries``: where the program takes single
    entries (slice + squeeze, as ``y[i]`` traces) they are used directly, so forward mode through them keeps the
    tangents of constant entries symbolic zeros; any other use gets the stacked vector."""
    jaxpr = closed.jaxpr
    env: dict = dict(zip(jaxpr.constvars, closed.consts))
    env.update(zip(jaxpr.invars, [_Entries(list(entries)), *rest]))

    def read(atom):
        return atom.val if isinstance(atom, jcore.Literal) else env[atom]

    for eqn in jaxpr.eqns:
        values = [read(a) for a in eqn.invars]
        if values and isinstance(values[0], _Entries) and (one := _single_entry(eqn, values[0])) is not None:
            env[eqn.outvars[0]] = one
            continue
        values = [v.whole() if isinstance(v, _Entries) else v for v in values]
        out = eqn.primitive.bind(*values, **eqn.primitive.get_bind_params(eqn.params))
        env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out]))
    return [v.whole() if isinstance(v, _Entries) else v for v in map(read, jaxpr.outvars)]


def compressed_jacobian(
    f: Callable, y: jax.Array, *args
) -> tuple[np.ndarray, Callable[[jax.Array, tuple], list[list[jax.Array | None]]]]:
    """The pattern of ∂f/∂y and ``jac(y, args) -> rows``: ``rows[i][j]`` the entry ∂f_i/∂y_j where the pattern has
    it, None elsewhere, by one ``jax.jvp`` per group of :func:`column_groups`.

    ``f(y, *args)`` is one lane's function, y (n,) -> (m,), given here by example (arrays or ``ShapeDtypeStruct``).
    ``jac`` takes y (n,) and ``args`` as f does (entries are scalars), or lanes stored last: y (n, L) and ``args``
    with a leading lane axis (entries (L,)). Within a group only the group's entries of y carry tangents (the others
    enter as constants, :func:`_eval_entrywise`), so each jvp computes just the derivatives of the rates that depend
    on them.
    """
    closed = jax.make_jaxpr(f)(y, *args)  # traced once: read for the pattern, then evaluated entry by entry
    pattern = _pattern_of(closed)
    groups = column_groups(pattern)

    def lanes(entries: list, flat_args: list) -> jax.Array:
        (out,) = _eval_entrywise(closed, entries, flat_args)
        return out

    def jac(y: jax.Array, args: tuple) -> list[list[jax.Array | None]]:
        n = y.shape[0]
        flat_args = jax.tree.leaves(args)
        mapped = jax.vmap(lanes, in_axes=([0] * n, [0] * len(flat_args)), out_axes=1) if y.ndim == 2 else lanes
        rows: list[list[jax.Array | None]] = [[None] * n for _ in range(pattern.shape[0])]
        for group in groups:

            def of_group(*seeded, group=group):
                entries = [y[j] for j in range(n)]
                for j, value in zip(group, seeded):
                    entries[j] = value
                return mapped(entries, flat_args)

            primals = tuple(y[j] for j in group)
            _, out = jax.jvp(of_group, primals, tuple(jnp.ones_like(v) for v in primals))
            for j in group:
                for i in np.flatnonzero(pattern[:, j]):
                    rows[i][j] = out[i]
        return rows

    return pattern, jac


def dense_rows(rows: list[list[jax.Array | None]], y: jax.Array) -> jax.Array:
    """Nested rows of entries (None where zero) as one array, (m, n) + ``y.shape[1:]``: ``y`` is the state the rows
    belong to, (n,) for one solve or (n, L) for lanes stored last."""
    zero = jnp.zeros(y.shape[1:], y.dtype)
    if not rows or not rows[0]:
        return jnp.zeros((len(rows), y.shape[0]) + y.shape[1:], y.dtype)
    return jnp.stack([jnp.stack([zero if e is None else e for e in row]) for row in rows])
