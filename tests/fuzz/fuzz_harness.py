"""Property-test harness that drives every registered tool with schema-valid and hostile arguments.

Shared by ``tests/fuzz/test_tools_fuzz.py`` (CI, a few hundred examples per tool) and ``tests/fuzz/fuzz_report.py``
(``make fuzz``, ten thousand per tool and a table). One call is judged by :func:`run_call`: it may return, or raise a
:class:`~labwright.errors.LabwrightError`; any other exception, a call slower than its deadline, or a file written
outside the sandbox is a finding.

Arguments come from two sources: :func:`schema_strategy` turns the tool's input JSON schema (the one models are shown)
into a Hypothesis strategy, and :func:`hostile_args` takes such an instance and replaces one field, at any depth, with a
hostile value: a path to a device, directory, FIFO, binary or invalid-UTF-8 file or symlink, a NUL byte, 100k-char
strings, 100k-element lists, ±0, 1e-300, 1e308, NaN, ±inf, 2**63 and friends. (``hypothesis-jsonschema`` would build
the first strategy, but its 0.23 release calls Hypothesis internals that current Hypothesis no longer has.)
"""

from __future__ import annotations

import faulthandler
import math
import os
import stat
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from labwright.errors import LabwrightError
from labwright.tools import call_tool, get_tool

# A call that is not back after this many seconds (or a minute past its deadline, if that is later) is a hang: the
# harness dumps every thread's stack and exits, so CI fails loudly instead of running into its own timeout.
HANG_SECONDS = float(os.environ.get("FUZZ_HANG_SECONDS", "180"))

# Calls estimated above this are validated and priced but not run: a governed run asks a person before such work, and
# CI cannot afford minutes per example. The deadline check still holds every call that does run to its estimate.
DEFAULT_RUN_CAP_SECONDS = 5.0


def deadline_for(estimate_seconds: float) -> float:
    """Wall-clock seconds a call estimated at ``estimate_seconds`` may take before it counts as over its deadline.

    Generous on purpose (a 2-core CI machine under load, a first JAX compile of 10-20 s): the point is to catch
    estimates that are off by orders of magnitude, such as the 1 s estimate of a 150 s ``canonicalize_smiles``.
    """
    return 60.0 + 10.0 * estimate_seconds


HUGE = 100_000

DEVICES = [Path("/dev/zero"), Path("/dev/urandom"), Path("/dev/null")]
"""Character devices the sandbox links to; :func:`devices_intact` checks that they are still devices afterwards."""


def devices_intact() -> list[str]:
    """Devices in :data:`DEVICES` that are no longer character devices (a tool replaced one)."""
    return [str(d) for d in DEVICES if not stat.S_ISCHR(os.stat(d).st_mode)]


HOSTILE_FLOATS = [
    0.0,
    -0.0,
    1e-300,
    -1e-300,
    5e-324,
    1e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
    float(2**63),
    -1.0,
    1e-12,
    1e12,
]
HOSTILE_INTS = [0, -1, -(2**63), 2**31, 2**63, 2**64 + 1, 10**18, 10**9, 100_000]
HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "C\x00C",
    "C" * HUGE,
    "x" * HUGE,
    "\ud800",  # a lone surrogate: no UTF-8 encoding exists
    "é中🙂",
    "../../../../etc/passwd",
    "nan",
    "-> ->",
    "A + B <-> ",
    "[[[[[[",
    "%s%n{0}",
]


@dataclass
class Sandbox:
    """A temporary tree the harness points ``LABWRIGHT_HOME``, ``HOME``, ``TMPDIR`` and the cwd at.

    ``paths`` are hostile path arguments: every one either lies inside ``root`` or is a device.
    """

    root: Path
    paths: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path) -> Sandbox:
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("home", "cwd", "tmp", "lwhome", "files"):
            (root / sub).mkdir(exist_ok=True)
        files = root / "files"
        (files / "binary.bin").write_bytes(bytes(range(256)) * 64)
        (files / "latin1.csv").write_bytes("E,I\n0.1,1e-6\n0.2,2e-6\n\xb5A,\xe9\n".encode("latin-1"))
        (files / "invalid_utf8.txt").write_bytes(b"\xff\xfe\xfa\x80\x81 not utf-8 \xc3\x28\n")
        (files / "empty.csv").write_bytes(b"")
        (files / "text.csv").write_text("E,I\n0.1,1e-6\n0.2,2e-6\n", encoding="utf-8")
        (files / "huge_line.csv").write_text("E,I\n" + "1," * 200_000 + "\n", encoding="utf-8")
        (files / "sub").mkdir(exist_ok=True)
        fifo = files / "fifo"
        if not fifo.exists():
            os.mkfifo(fifo)
        # Devices are reached only through symlinks in the sandbox: a tool that replaces its output atomically then
        # replaces the link, never the device node (run as root, kg_export once turned /dev/zero into a JSON file).
        links = [("link_dir", files / "sub"), ("dangling", files / "no")]
        links += [(f"dev_{dev.name}", dev) for dev in DEVICES]
        for name, target in links:
            link = files / name
            if not link.is_symlink():
                link.symlink_to(target)
        loop = files / "loop"
        if not loop.is_symlink():
            loop.symlink_to(loop)
        # A small knowledge store where the kg_* tools look by default, so their read paths have something to read.
        kg_args = {"store_path": str(root / "lwhome" / "knowledge.sqlite"), "events": _EVENTS}
        call_tool("kg_ingest_events", kg_args)
        paths = [str(p) for p in sorted(files.iterdir())]
        paths += [
            str(files),
            str(files / "not" / "there" / "at" / "all.csv"),
            str(files / "bin\x00ary.bin"),
            "\x00",
            "",
            "relative/nested/new.sqlite",
            str(files / "binary.bin" / "child.csv"),
            str(files / ("n" * 300)),
        ]
        return cls(root=root, paths=paths)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Run with cwd, HOME, TMPDIR and LABWRIGHT_HOME inside the sandbox; restore everything after."""
        keys = ("HOME", "TMPDIR", "LABWRIGHT_HOME", "LABWRIGHT_BASE_URL", "LABWRIGHT_MODEL", "OPENAI_API_KEY")
        saved = {k: os.environ.get(k) for k in keys}
        cwd = os.getcwd()
        os.environ.update(
            HOME=str(self.root / "home"), TMPDIR=str(self.root / "tmp"), LABWRIGHT_HOME=str(self.root / "lwhome")
        )
        for k in keys[3:]:  # no model endpoint: the fuzzer must never reach the network
            os.environ.pop(k, None)
        os.chdir(self.root / "cwd")
        try:
            yield
        finally:
            os.chdir(cwd)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def watched_roots(repo: Path) -> list[Path]:
    """Directories whose entries must not change during a fuzz run (the sandbox lives elsewhere).

    ``/tmp`` is left out: other programs on the machine create files there, and the harness points ``TMPDIR`` into
    the sandbox anyway.
    """
    home = Path(os.path.expanduser("~"))
    return [repo, home, Path("/")]


def snapshot(roots: list[Path], *, exclude: Path) -> set[str]:
    """Names under ``roots``: the repository in full (minus caches), the others one level deep."""
    seen: set[str] = set()
    skip = {".git", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache", ".venv"}
    for i, root in enumerate(roots):
        if i == 0:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = [d for d in dirnames if d not in skip]
                seen.update(os.path.join(dirpath, f) for f in filenames + dirnames)
        else:
            try:
                seen.update(str(p) for p in root.iterdir() if not str(p).startswith(str(exclude)))
            except OSError:
                pass
    return seen


# ---------------------------------------------------------------------------------------------------------- schemas


def _resolve(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _number(schema: dict, integer: bool) -> st.SearchStrategy:
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    if integer:
        lo_i = None if lo is None else math.ceil(lo) + ("exclusiveMinimum" in schema and lo == math.ceil(lo))
        hi_i = None if hi is None else math.floor(hi) - ("exclusiveMaximum" in schema and hi == math.floor(hi))
        return st.integers(min_value=lo_i, max_value=hi_i)
    return st.floats(
        min_value=lo,
        max_value=hi,
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
        allow_nan=False,
        allow_infinity=False,
    )


def schema_strategy(schema: dict, defs: dict | None = None, *, max_items: int = 6) -> st.SearchStrategy:
    """Values valid against ``schema``, a pydantic-generated JSON schema (``$defs``, ``anyOf``, bounds, enums)."""
    defs = schema.get("$defs", {}) if defs is None else defs
    schema = _resolve(schema, defs)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema:
        return st.one_of([schema_strategy(s, defs, max_items=max_items) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("number", "integer"):
        return _number(schema, kind == "integer")
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=max(schema.get("minLength", 0), 30))
    if kind == "array":
        lo = schema.get("minItems", 0)
        hi = min(schema.get("maxItems", max_items), max(lo, max_items))
        if "prefixItems" in schema:
            return st.tuples(*(schema_strategy(s, defs) for s in schema["prefixItems"])).map(list)
        return st.lists(schema_strategy(schema.get("items", {}), defs), min_size=lo, max_size=hi)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        fixed = {k: _field_strategy(k, v, defs) for k, v in props.items() if k in required}
        optional = {k: _field_strategy(k, v, defs) for k, v in props.items() if k not in required}
        if not props and schema.get("additionalProperties", True) is not False:
            return st.dictionaries(st.text(max_size=8), json_values(), max_size=4)
        return st.fixed_dictionaries(fixed, optional=optional)
    return json_values()


def _field_strategy(name: str, schema: dict, defs: dict) -> st.SearchStrategy:
    strategy = schema_strategy(schema, defs)
    # A direct (ungoverned) call writes where it is told, and the fuzzer runs as root: generated text such as '/-' or
    # '~root/x' in a path field made a store or an export in / or /root. Keep generated path text relative to the
    # sandbox's cwd, so that a file outside the sandbox is the tool's doing; hostile paths come from the sandbox.
    return strategy.map(_relative) if _is_pathlike(name) else strategy


def _relative(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return value.lstrip("/~").replace("..", "__") or value


def json_values() -> st.SearchStrategy:
    """Any JSON-like value, small."""
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(leaves, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4))


# ---------------------------------------------------------------------------------------------------------- seeds

REPO = Path(__file__).resolve().parents[2]
_CV = REPO / "examples" / "data" / "redox_kinetics" / "cv_0.1Vps.csv"
_CA = REPO / "tests" / "electrochem" / "data" / "ca_chi.txt"
_MECH = sorted((REPO / "examples" / "data" / "mechanisms" / "textbook").glob("*.yaml"))[0]
_SBML = REPO / "examples" / "data" / "sbml" / "BIOMD0000000010.xml"


def _voltammogram() -> dict:
    # A reversible-looking trace: a sigmoid plus a peak on the way up, mirrored on the way back (V, A, s).
    E = [-0.3 + 0.01 * i for i in range(61)] + [0.3 - 0.01 * i for i in range(1, 61)]
    I = [1e-6 * (math.tanh(20 * e) + math.exp(-(((e - 0.03) / 0.05) ** 2))) for e in E]
    t = [0.1 * i for i in range(len(E))]
    return {"E": E, "I": [i if k < 61 else -i for k, i in enumerate(I)], "t": t, "scan_rate": 0.1}


def _cottrell() -> tuple[list[float], list[float]]:
    t = [0.05 * i for i in range(1, 100)]
    return t, [96485 * 1e-6 * 1.0 * math.sqrt(1e-9 / (math.pi * x)) for x in t]


_EVENTS = [
    {"source": ["insulin"], "relation": "activates", "target": ["insulin receptor"], "document": "d1"},
    {"source": ["insulin receptor", "IRS1"], "relation": "phosphorylates", "target": ["PI3K"], "document": "d1"},
    {"source": ["PI3K"], "relation": "activates", "target": ["AKT"], "document": "d2"},
]
_NET = ["E + S <-> ES; kf=100, kr=1", {"equation": "ES -> E + P", "k_forward": 10.0}]


def seeds() -> dict[str, list[dict]]:
    """One or two realistic, valid argument sets per tool: hostile values are planted into these too, so that the
    fuzzer reaches the code behind validation (random schema instances rarely parse as equations or SMILES)."""
    v = _voltammogram()
    t, i = _cottrell()
    mech = {"path": str(_MECH)}
    kin = {"reactions": _NET, "initial": {"E": 1.0, "S": 5.0}}
    cycle = ["A <-> B; kf=1, kr=2", "B <-> C; kf=3, kr=4", "C <-> A; kf=5, kr=1"]
    birth_death = ["0 -> X; kf=5", "X -> 0; kf=0.5"]
    text = "Insulin activates the insulin receptor, which phosphorylates IRS1."
    return {
        "canonicalize_smiles": [{"smiles": "OCC"}, {"smiles": "c1ccccc1C(=O)O"}],
        "describe_molecule": [{"smiles": "[NH4+].[Cl-]"}],
        "molecular_similarity": [{"smiles_a": "CCO", "smiles_b": "CCCO", "radius": 2, "n_bits": 1024}],
        "check_detailed_balance": [{"reactions": cycle}],
        "cme_stationary": [{"reactions": birth_death, "initial": {"X": 0}, "max_counts": {"X": 40}}],
        "simulate_network": [{**kin, "t_end": 1.0, "n_points": 20}],
        "steady_state": [{**kin, "t_relax": 10.0}],
        "simulate_ssa": [{"reactions": birth_death, "initial": {"X": 0}, "t_end": 2.0}],
        "fit_rate_constants": [
            {"reactions": ["A -> B; kf=1"], "initial": {"A": 1.0}, "times": [0.0, 0.5, 1.0, 2.0],
             "observed": {"A": [1.0, 0.61, 0.37, 0.14]}, "max_iter": 5}
        ],
        "pdpc_response": [{"n_points": 10}],
        "pdpc_saturation_scan": [{"J": [0.01, 1.0, 100.0]}],
        "simulate_cv": [{"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "dE": 0.005, "max_points": 50}],
        "simulate_ca": [{"E_initial": -0.5, "E_steps": [0.5], "durations": [0.5], "dt": 5e-3, "max_points": 50}],
        "read_voltammogram": [{"path": str(_CV)}, {"path": str(_CA), "summary_only": True}],
        "randles_sevcik": [{"voltammograms": [v], "area": 1e-6, "concentration": 1.0},
                           {"scan_rates": [0.05, 0.1, 0.2], "peak_currents": [1e-6, 1.4e-6, 2e-6], "area": 1e-6,
                            "concentration": 1.0}],
        "nicholson_k0": [{"scan_rates": [0.1, 1.0], "peak_separations": [0.07, 0.09], "D": 1e-9}],
        "tafel_analysis": [{"voltammogram": v, "E_eq": 0.0}],
        "cottrell_analysis": [{"t": t, "I": i, "area": 1e-6, "concentration": 1.0}],
        "fit_cv": [{"voltammograms": [v], "fixed": {"area": 1e-6, "c_bulk": 1.0}, "max_iterations": 2}],
        "compare_cv_models": [
            {"voltammograms": [v], "fixed": {"area": 1e-6, "c_bulk": 1.0}, "max_iterations": 2,
             "candidates": [{"mechanism": "E", "kinetics": "nernst", "params_to_fit": ["E0"]}]}
        ],
        "validate_mechanism": [mech],
        "score_mechanism": [{"prediction": mech, "reference": mech}],
        "compare_mechanisms": [{"first": mech, "second": mech}],
        "omes_score": [{"gold": mech, "prediction": mech}],
        "kg_ingest_events": [{"events": _EVENTS}],
        "kg_ingest_text": [{"text": text, "document_id": "t1", "extractor": "offline"}],
        "kg_stats": [{"s": 1}, {"s": 2, "fit": False}],
        "kg_neighbors": [{"concept": "insulin"}],
        "kg_paths": [{"a": "insulin", "b": "AKT", "k": 2}],
        "kg_hypotheses": [{"a": "insulin", "b": "AKT", "k": 2, "use_llm": False}],
        "kg_export": [{"path": "export.hif.json"}, {"path": "around.hif.json", "around": ["insulin"]}],
        "kg_ingest_batch": [{"documents": [{"id": "b1", "text": text}, {"id": "b2", "text": "AKT inhibits FOXO1."}],
                             "extractor": "offline"}],
        "sweep_cv": [{"cell": {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "dE": 0.005},
                      "vary": {"k0": [1e-3, 1e-2], "alpha": [0.4, 0.6]}, "chunk_size": 2}],
        "batch_fit_cv": [{"datasets": [{"voltammograms": [v], "fixed": {"area": 1e-6, "c_bulk": 1.0},
                                        "max_iterations": 2}]}],
        "load_sbml": [{"sbml": str(_SBML)}],
        "simulate_sbml": [{"sbml": str(_SBML), "t_end": 10.0, "n_points": 20}],
        "export_sbml": [{"reactions": cycle, "initial": {"A": 1.0}}, {"reactions": _NET, "path": "net.xml"}],
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------------- hostility


def _is_pathlike(name: str) -> bool:
    return any(word in name.lower() for word in ("path", "dir", "file"))


def hostile_value(name: str, current: Any, sandbox: Sandbox) -> st.SearchStrategy:
    """A hostile replacement for field ``name`` whose valid value was ``current``; mostly of the same JSON type."""
    if _is_pathlike(name):
        same = st.sampled_from(sandbox.paths)
    elif isinstance(current, bool):
        same = st.sampled_from([0, 1, "true", None])
    elif isinstance(current, int):
        same = st.sampled_from(HOSTILE_INTS) | st.sampled_from(HOSTILE_FLOATS)
    elif isinstance(current, float):
        same = st.sampled_from(HOSTILE_FLOATS) | st.sampled_from(HOSTILE_INTS)
    elif isinstance(current, str):
        same = st.sampled_from(HOSTILE_STRINGS) | st.sampled_from(sandbox.paths)
    elif isinstance(current, list):
        item = current[0] if current else 0.0
        same = st.sampled_from([[item] * HUGE, [float(i) for i in range(HUGE)], [None], [[]], [math.nan] * 3])
    elif isinstance(current, dict):
        same = st.sampled_from([{}, {"": None}, {k: None for k in current}])
    else:
        same = st.sampled_from(HOSTILE_FLOATS + HOSTILE_STRINGS)
    other = st.sampled_from([None, [], {}, "x" * HUGE, math.nan, 2**63, -1, True, [0.0] * HUGE])
    return st.one_of(same, same, same, other)


def _slots(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position (tuple of keys/indices) inside a JSON-like value, including the value's own fields."""
    out: list[tuple] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(_slots(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value[:8]):
            out.append((*prefix, i))
            out.extend(_slots(v, (*prefix, i)))
    return out


def _replace(value: Any, slot: tuple, new: Any) -> Any:
    if not slot:
        return new
    head, rest = slot[0], slot[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value.get(head), rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def hostile_args(draw, base: st.SearchStrategy, schema: dict, sandbox: Sandbox) -> dict:
    """An instance drawn from ``base`` with one field (or a missing top-level one) replaced by a hostile value."""
    inst = draw(base)
    slots = _slots(inst) + [(k,) for k in schema.get("properties", {}) if k not in inst]
    if not slots:
        return inst
    slot = draw(st.sampled_from(slots))
    name = next((str(p) for p in reversed(slot) if isinstance(p, str)), "")
    current = inst
    for p in slot:
        current = current[p] if (isinstance(current, dict) and p in current) or isinstance(current, list) else None
    return _replace(inst, slot, draw(hostile_value(name, current, sandbox)))


def tool_args(name: str, sandbox: Sandbox) -> st.SearchStrategy:
    """Schema instances, seeds, and either of them with a hostile value planted, for tool ``name``."""
    schema = get_tool(name).input_schema
    from_schema = schema_strategy(schema)
    seeded = st.sampled_from(seeds()[name])
    return st.one_of(
        from_schema, hostile_args(from_schema, schema, sandbox), seeded, hostile_args(seeded, schema, sandbox)
    )


# ---------------------------------------------------------------------------------------------------------- one call


@dataclass
class Outcome:
    """What one call did: ``kind`` is ``"ok"``, an error class name, ``"not run (estimate ...)"``, or a finding."""

    kind: str
    seconds: float
    finding: str | None = None


def _describe(args: Any, limit: int = 300) -> str:
    text = repr(args)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _raised_at(err: BaseException) -> str:
    """``file:line`` of the innermost frame of ``err``'s traceback inside labwright (else the innermost of all)."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"


def run_call(name: str, args: dict, *, run_cap_seconds: float = DEFAULT_RUN_CAP_SECONDS) -> Outcome:
    """Validate, price and (if cheap enough) run one call of tool ``name``; classify what happened."""
    spec = get_tool(name)
    t0 = time.perf_counter()
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    try:
        inp = spec.validate(args)
        est = spec.cost_model(inp).seconds
        if not (math.isfinite(est) and est >= 0):
            return Outcome("bad estimate", 0.0, f"{name}: estimate {est!r} s for {_describe(args)}")
        if est > run_cap_seconds:
            return Outcome("not run (estimate over cap)", time.perf_counter() - t0)
        # A call may run up to its deadline (then it is an "over deadline" finding); only past that is it a hang.
        faulthandler.dump_traceback_later(max(HANG_SECONDS, deadline_for(est) + 60.0), exit=True)
        t1 = time.perf_counter()
        spec.run(inp)
        elapsed = time.perf_counter() - t1
        if elapsed > deadline_for(est):
            finding = f"{name}: {elapsed:.1f} s, estimated {est:.3g} s: {_describe(args)}"
            return Outcome("over deadline", elapsed, finding)
        return Outcome("ok", elapsed)
    except LabwrightError as err:
        return Outcome(type(err).__name__, time.perf_counter() - t0)
    except Exception as err:  # noqa: BLE001 - the finding itself: anything but a LabwrightError
        return Outcome(
            "uncaught " + type(err).__name__,
            time.perf_counter() - t0,
            f"{name}: {type(err).__name__} at {_raised_at(err)}: {str(err)[:300]} for {_describe(args, limit=3000)}",
        )
    finally:
        faulthandler.cancel_dump_traceback_later()
