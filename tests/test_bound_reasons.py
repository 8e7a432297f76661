"""Every limit an input model puts on a value states why (issue 12: "finite and physically meaningful ranges with the
reason stated"): a ``Field`` bound other than a sign, non-emptiness or a fraction carries a comment on its lines (or
the line above), and every :class:`~labwright.tools.fields.Capped` a non-empty reason.

Scanned from the source with :mod:`ast` (comments with :mod:`tokenize`), so a new unexplained bound anywhere in the
package fails here."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"tests", "benchmarks", "examples", ".venv", "build"}
BOUNDS = {"le", "lt", "ge", "gt", "max_length", "min_length"}


def _sources() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py")) if not SKIP & set(p.relative_to(ROOT).parts)]


def _value(call: ast.Call, name: str) -> object:
    kw = next((k for k in call.keywords if k.arg == name), None)
    return kw.value.value if kw is not None and isinstance(kw.value, ast.Constant) else None


def _needs_reason(call: ast.Call) -> list[str]:
    """The bounds of a ``Field(...)`` call that do not explain themselves."""
    lower = _value(call, "ge") if _value(call, "ge") is not None else _value(call, "gt")
    upper = _value(call, "le") if _value(call, "le") is not None else _value(call, "lt")
    fraction = lower in (0, 0.0) and upper in (1, 1.0)  # a probability, similarity, confidence, coefficient in [0, 1]
    out = []
    for kw in call.keywords:
        if kw.arg not in BOUNDS:
            continue
        v = kw.value.value if isinstance(kw.value, ast.Constant) else None
        if kw.arg == "gt" and v in (0, 0.0) or kw.arg in ("ge", "min_length") and v in (0, 0.0, 1):
            continue  # a sign, or at least one (a count, a non-empty list)
        if fraction and kw.arg in ("ge", "gt", "le", "lt"):
            continue
        out.append(f"{kw.arg}={ast.unparse(kw.value)}")
    return out


def _unexplained(path: Path) -> list[str]:
    src = path.read_text(encoding="utf-8")
    commented = {t.start[0] for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type == tokenize.COMMENT}
    found = []
    for node in ast.walk(ast.parse(src)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        if name == "Field":
            bounds = _needs_reason(node)
            lines = range(node.lineno - 1, (node.end_lineno or node.lineno) + 1)
            if bounds and not commented.intersection(lines):
                found.append(f"{where} {', '.join(bounds)}")
        elif name == "Capped":
            why = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "why"), None)
            if why is None or isinstance(why, ast.Constant) and not str(why.value).strip():
                found.append(f"{where} Capped without a reason")
    return found


def test_every_bound_states_its_reason():
    missing = [m for p in _sources() for m in _unexplained(p)]
    assert not missing, "bounds without a stated reason (add a comment saying why):\n" + "\n".join(missing)


def test_the_scan_sees_bounds_and_their_comments(tmp_path):
    """The check itself: an unexplained cap is found, an explained one and a sign bound are not."""
    src = (
        "from pydantic import Field\n"
        "a = Field(default=1, le=50, description='paths')\n"
        "b = Field(default=1, le=50, description='paths')  # Yen's k paths: each costs one search\n"
        "c = Field(default=1.0, gt=0, description='positive')\n"
        "d = Field(default=0.5, ge=0, le=1, description='a fraction')\n"
    )
    (tmp_path / "m.py").write_text(src)
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        assert _unexplained(tmp_path / "m.py") == ["m.py:2 le=50"]
    finally:
        ROOT = old
