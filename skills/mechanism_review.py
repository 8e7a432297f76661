"""Mechanism review: rank candidate mechanisms for one reaction against a reference.

The ``mechanism_review`` workflow chains these skills::

    load -> validate (validity, element/charge balance, continuity)         \\
         -> score (labwright score + oMeS against the reference)             -> rank (table, bar chart, report)
         -> kinetics (detailed balance of the reference's kinetic scheme)   /

Every number comes from a registered tool called through the skill context (``validate_mechanism``,
``score_mechanism``, ``omes_score``, ``compare_mechanisms``, ``check_detailed_balance``, ``canonicalize_smiles``);
the skills only read the review set, arrange the calls, sort by the tools' scores and draw the summary plot.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field

from ..errors import InvalidInput, MalformedFile
from ..tools.fields import Fraction, PositiveFloat, ToolModel
from ._skill import SkillContext, skill

__all__ = [
    "CandidateRef",
    "ReviewSet",
    "CandidateValidation",
    "ValidationSummary",
    "CandidateScore",
    "ScoreSummary",
    "KineticsCheck",
    "KineticsSummary",
    "RankedCandidate",
    "Ranking",
    "load_review_set",
    "validate_candidates",
    "score_candidates",
    "check_kinetic_scheme",
    "rank_candidates",
    "rank_order",
]

# ------------------------------------------------------------------------------------------------------- load ----


class LoadReviewInput(ToolModel):
    manifest: Path | None = Field(
        default=None, description="Review-set manifest (YAML: reaction, reference, kinetics, candidates[path, label])."
    )
    reference: Path | None = Field(default=None, description="Reference mechanism file (instead of a manifest).")
    candidates: list[Path] | None = Field(default=None, description="Candidate mechanism files (with `reference`).")
    kinetics: Path | None = Field(default=None, description="Kinetic scheme YAML of the reference (optional).")


class CandidateRef(ToolModel):
    label: str = Field(min_length=1, description="Short unique name of the candidate.")
    path: str = Field(description="Absolute path of the mechanism file.")
    expected: str | None = Field(default=None, description="What the curator expects the checks to find.")


class ReviewSet(ToolModel):
    reaction: str = Field(description="The reaction under review.")
    reference: str = Field(description="Absolute path of the reference mechanism.")
    candidates: list[CandidateRef] = Field(min_length=1)
    kinetics: str | None = Field(default=None, description="Absolute path of the reference's kinetic scheme.")
    n_candidates: int = Field(default=0, description="Number of candidates (shown in the CLI summary).")


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise MalformedFile(str(path), f"not valid YAML: {err}", line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise MalformedFile(str(path), "expected a YAML mapping")
    return data


def _review_set_from_manifest(path: Path) -> ReviewSet:
    """The review set a manifest describes; paths inside it are relative to the manifest's folder."""
    data = _read_yaml(path)
    base = path.resolve().parent
    for key in ("reference", "candidates"):
        if not data.get(key):
            raise InvalidInput(f"manifest.{key}", f"{path.name} names no {key}")
    cands = []
    for i, c in enumerate(data["candidates"]):
        if not isinstance(c, dict) or not c.get("path"):
            raise InvalidInput(f"manifest.candidates.{i}.path", "each candidate needs a path")
        p = base / str(c["path"])
        cands.append(CandidateRef(label=str(c.get("label") or p.stem), path=str(p), expected=c.get("expected")))
    kin = data.get("kinetics")
    return ReviewSet(
        reaction=str(data.get("reaction") or path.stem),
        reference=str(base / str(data["reference"])),
        candidates=cands,
        kinetics=str(base / str(kin)) if kin else None,
    )


@skill("mech.load_review_set", version="1", role="mechanist")
def load_review_set(ctx: SkillContext, inp: LoadReviewInput) -> ReviewSet:
    """Read a review set: the reference mechanism, the candidates and the kinetic scheme (file hashes recorded)."""
    if inp.manifest is not None:
        rs = _review_set_from_manifest(ctx.input_file(inp.manifest))
    elif inp.reference is not None and inp.candidates:
        rs = ReviewSet(
            reaction=Path(inp.reference).stem,
            reference=str(inp.reference),
            candidates=[CandidateRef(label=Path(p).stem, path=str(p)) for p in inp.candidates],
            kinetics=str(inp.kinetics) if inp.kinetics else None,
        )
    else:
        raise InvalidInput("manifest", "give a manifest, or a reference and a list of candidates")
    rs = rs.model_copy(update={"n_candidates": len(rs.candidates)})
    labels = [c.label for c in rs.candidates]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise InvalidInput("candidates", f"candidate labels must be unique; repeated: {', '.join(dup)}")
    # Record every file's sha256 (they feed all later artifacts' provenance); a missing file fails here, by name.
    for p in [rs.reference, *(c.path for c in rs.candidates), *([rs.kinetics] if rs.kinetics else [])]:
        try:
            ctx.input_file(p)
        except InvalidInput as err:
            raise InvalidInput("manifest" if inp.manifest else "candidates", err.reason) from None
    art = ctx.save_json("review_set.json", rs, kind="data", title="Review set: reference, candidates, kinetic scheme")
    ctx.claim(f"candidate mechanisms under review for {rs.reaction}", value=len(rs.candidates), artifacts=[art])
    return rs


# --------------------------------------------------------------------------------------------------- validate ----


class ValidateInput(ToolModel):
    reference: str = Field(description="Reference mechanism file.")
    candidates: list[CandidateRef] = Field(min_length=1)


class CandidateValidation(ToolModel):
    label: str
    valid: bool = Field(description="No errors (validate_mechanism).")
    smiles_valid: bool
    balanced: bool | None = Field(description="Every step conserves elements and charge.")
    continuous: bool | None = Field(description="Every consumed species exists when it is needed.")
    products_formed: bool | None
    n_steps: int
    errors: list[str] = Field(default_factory=list, description="The tool's error messages, in its order.")
    warnings: list[str] = Field(default_factory=list)


class ValidationSummary(ToolModel):
    reference_valid: bool = Field(description="The reference itself passes validate_mechanism.")
    validations: list[CandidateValidation]


def _validation_row(label: str, rep) -> CandidateValidation:
    return CandidateValidation(
        label=label,
        valid=rep.valid,
        smiles_valid=rep.smiles_valid,
        balanced=rep.balanced,
        continuous=rep.continuous,
        products_formed=rep.products_formed,
        n_steps=rep.n_steps,
        errors=[i.message for i in rep.issues if i.severity == "error"],
        warnings=[i.message for i in rep.issues if i.severity == "warning"],
    )


@skill("mech.validate", version="1", role="mechanist", tools=("validate_mechanism",))
def validate_candidates(ctx: SkillContext, inp: ValidateInput) -> ValidationSummary:
    """Check each candidate (and the reference): valid SMILES, element and charge balance, continuity, products."""
    ref = ctx.call("validate_mechanism", {"path": inp.reference})
    rows = [_validation_row(c.label, ctx.call("validate_mechanism", {"path": c.path})) for c in inp.candidates]
    out = ValidationSummary(reference_valid=ref.valid, validations=rows)
    art = ctx.save_json("validation.json", out, kind="table", title="Validity and balance of each candidate")
    if not ref.valid:
        ctx.claim("the reference mechanism fails its own checks", value=ref.issues[0].message, artifacts=[art])
    for r in rows:
        if r.valid:
            ctx.claim(f"candidate {r.label}: valid, balanced and continuous", artifacts=[art])
        else:
            ctx.claim(
                f"candidate {r.label}: {len(r.errors)} chemical error(s), first", value=r.errors[0], artifacts=[art]
            )
    return out


# ------------------------------------------------------------------------------------------------------ score ----


class ScoreInput(ToolModel):
    reference: str = Field(description="Reference mechanism file (the step weights come from it).")
    candidates: list[CandidateRef] = Field(min_length=1)
    tau: Fraction = Field(default=0.6, description="Tanimoto threshold for similarity credit (oMeS: 0.6).")


class CandidateScore(ToolModel):
    label: str
    total: Fraction = Field(description="score_mechanism total in [0, 1].")
    breakdown: dict[str, float | None] = Field(description="score_mechanism components (None: not applicable).")
    summary: str = Field(description="score_mechanism's one-paragraph verdict.")
    S_total: Fraction = Field(description="oMeS S_total (omes_score).")
    S_partial: Fraction = Field(description="oMeS S_partial.")
    V: Fraction = Field(description="oMeS V: valid predicted SMILES share.")
    L: Fraction = Field(description="oMeS L: subtype-matched aligned steps / gold steps.")
    alignment: list[str] = Field(description="oMeS alignment moves.")
    similarity: Fraction = Field(description="compare_mechanisms symmetric similarity to the reference.")
    diagnostics: list[str] = Field(description="Per-step messages of score_mechanism that are not 'identical'.")


class ScoreSummary(ToolModel):
    scores: list[CandidateScore]


@skill(
    "mech.score",
    version="1",
    role="mechanist",
    tools=("score_mechanism", "omes_score", "compare_mechanisms"),
)
def score_candidates(ctx: SkillContext, inp: ScoreInput) -> ScoreSummary:
    """Score each candidate against the reference: labwright's score with per-step diagnosis, oMeS and similarity."""
    ref = {"path": inp.reference}
    rows = []
    for c in inp.candidates:
        pred = {"path": c.path}
        s = ctx.call("score_mechanism", {"prediction": pred, "reference": ref, "tau": inp.tau})
        o = ctx.call("omes_score", {"gold": ref, "prediction": pred, "tau": inp.tau})
        cmp = ctx.call("compare_mechanisms", {"first": ref, "second": pred, "tau": inp.tau})
        rows.append(
            CandidateScore(
                label=c.label,
                total=s.total,
                breakdown=s.breakdown.model_dump(),
                summary=s.summary,
                S_total=o.S_total,
                S_partial=o.S_partial,
                V=o.V,
                L=o.L,
                alignment=list(o.alignment),
                similarity=cmp.similarity,
                diagnostics=[d.message for d in s.diagnostics if d.status != "identical"],
            )
        )
    out = ScoreSummary(scores=rows)
    art = ctx.save_json("scores.json", out, kind="table", title="Scores against the reference (labwright, oMeS)")
    for r in rows:
        ctx.claim(f"candidate {r.label}: score vs reference", value=r.total, artifacts=[art])
        ctx.claim(f"candidate {r.label}: oMeS S_total", value=r.S_total, artifacts=[art])
    return out


# --------------------------------------------------------------------------------------------------- kinetics ----


class KineticsInput(ToolModel):
    kinetics: str | None = Field(description="Kinetic scheme YAML: species (name -> SMILES) and reactions.")
    reference: str = Field(description="Reference mechanism the scheme should follow step by step.")
    extra_reactions: list[str] = Field(
        default_factory=list,
        description="Reactions added for the detailed-balance check only, e.g. the overall reaction with its "
        "measured equilibrium constant (closes a thermodynamic cycle).",
    )
    # A relative tolerance above 1 accepts any cycle: the check would say nothing.
    rtol: PositiveFloat = Field(default=1e-6, le=1.0, description="Tolerance on |Σ c ln(k+/k-)| around a cycle.")


class KineticsCheck(ToolModel):
    satisfied: bool | None = Field(description="check_detailed_balance: both conditions hold.")
    structural_ok: bool
    algebraic_ok: bool | None
    cycle_conditions: list[str] = Field(description="Wegscheider conditions of a cycle basis.")
    violated_cycle: list[str] = Field(default_factory=list, description="Reactions of the violated cycle (c·name).")
    log_deviation: float | None = Field(description="Σ c ln(k+/k-) on the violated cycle (0 at detailed balance).")
    message: str
    scheme_valid: bool = Field(description="validate_mechanism on the scheme's elementary steps.")
    scheme_errors: list[str] = Field(default_factory=list)
    steps_match_reference: list[bool] = Field(
        description="Per reaction: same species (canonical SMILES) as the reference step at the same position."
    )
    illustrative: bool = Field(description="The file says its rate constants are illustrative, not measured.")


class KineticsSummary(ToolModel):
    detailed_balance: KineticsCheck
    satisfied: bool | None = Field(description="Detailed balance holds (check_detailed_balance).")


def _species_smiles(doc: dict, path: str) -> dict[str, str]:
    species = doc.get("species")
    if not isinstance(species, dict) or not species:
        raise InvalidInput("kinetics.species", f"{Path(path).name} needs a 'species' mapping name -> SMILES")
    return {str(k): str(v) for k, v in species.items()}


def _side(counts: dict[str, int], smiles: dict[str, str], where: str) -> list[str]:
    """Species of one side of a reaction as SMILES, repeated by stoichiometric coefficient."""
    out = []
    for name, n in counts.items():
        if name not in smiles:
            raise InvalidInput(f"kinetics.species.{name}", f"{where} uses {name!r}, which has no SMILES")
        out += [smiles[name]] * int(n)
    return out


@skill(
    "mech.kinetic_scheme",
    version="1",
    role="reviewer",
    tools=("check_detailed_balance", "validate_mechanism", "canonicalize_smiles"),
)
def check_kinetic_scheme(ctx: SkillContext, inp: KineticsInput) -> KineticsSummary:
    """Check the reference's kinetic scheme: its steps follow the mechanism, balance, and obey detailed balance."""
    from ..tools.kinetics import parse_network
    from ..tools.mechanism import load_mechanism

    if inp.kinetics is None:
        raise InvalidInput("kinetics", "the review set names no kinetic scheme")
    doc = _read_yaml(ctx.input_file(inp.kinetics))
    smiles = _species_smiles(doc, inp.kinetics)
    reactions = doc.get("reactions")
    if not isinstance(reactions, list) or not reactions:
        raise InvalidInput("kinetics.reactions", "the scheme lists no reactions")
    net = parse_network(reactions)  # parsing only (names, sides); the numbers come from the tools below
    steps = []
    for r in net.reactions:
        steps.append(
            {
                "reactants": _side(r.reactants, smiles, r.name),
                "products": _side(r.products, smiles, r.name),
                "description": r.name,
            }
        )
    ref = load_mechanism(ctx.input_file(inp.reference))
    scheme = {
        "id": "kinetic-scheme",
        "reactants": list(ref.reactants),
        "products": list(ref.products),
        "reagents": list(ref.reagents),
        "steps": steps,
    }
    val = ctx.call("validate_mechanism", {"mechanism": scheme})
    canon: dict[str, str] = {}

    def key(species: list[str]) -> list[str]:
        for s in species:
            if s not in canon:
                canon[s] = ctx.call("canonicalize_smiles", {"smiles": s}).canonical_smiles
        return sorted(canon[s] for s in species)

    match = []
    for i, st in enumerate(steps):
        if i >= len(ref.steps):
            match.append(False)
            continue
        rs = ref.steps[i]
        match.append(key(st["reactants"]) == key(rs.reactants) and key(st["products"]) == key(rs.products))
    db = ctx.call("check_detailed_balance", {"reactions": [*reactions, *inp.extra_reactions], "rtol": inp.rtol})
    check = KineticsCheck(
        satisfied=db.satisfied,
        structural_ok=db.structural_ok,
        algebraic_ok=db.algebraic_ok,
        cycle_conditions=list(db.cycle_conditions),
        violated_cycle=[f"{t.coefficient:+g}·{t.reaction}" for t in db.violated_cycle],
        log_deviation=db.log_deviation,
        message=db.message,
        scheme_valid=val.valid,
        scheme_errors=[i.message for i in val.issues if i.severity == "error"],
        steps_match_reference=match,
        illustrative=bool(doc.get("constants_are_illustrative", False)),
    )
    if check.illustrative:
        ctx.note("The scheme's rate constants are illustrative (the data file says so), not measured.")
    art = ctx.save_json("detailed_balance.json", check, kind="parameters", title="Kinetic scheme checks")
    verdict = {True: "holds", False: "is violated", None: "could not be decided"}[check.satisfied]
    ctx.claim(f"detailed balance of the kinetic scheme {verdict}", value=db.message, artifacts=[art])
    if check.log_deviation is not None:
        ctx.claim("deviation on the violated cycle, Σ c ln(k+/k-)", value=check.log_deviation, artifacts=[art])
    ctx.claim(
        "kinetic scheme steps: balanced and continuous"
        if val.valid
        else f"kinetic scheme steps fail validation ({check.scheme_errors[0]})",
        artifacts=[art],
    )
    ctx.claim(
        "kinetic scheme follows the reference mechanism step by step"
        if all(match) and len(match) == len(ref.steps)
        else "kinetic scheme departs from the reference mechanism",
        artifacts=[art],
    )
    return KineticsSummary(detailed_balance=check, satisfied=check.satisfied)


# ------------------------------------------------------------------------------------------------------- rank ----


class RankInput(ToolModel):
    validations: list[CandidateValidation] = Field(min_length=1)
    scores: list[CandidateScore] = Field(min_length=1)
    detailed_balance: KineticsCheck | None = Field(default=None, description="Kinetic-scheme check, if one ran.")


class RankedCandidate(ToolModel):
    rank: int = Field(ge=1)
    label: str
    total: Fraction = Field(description="score_mechanism total.")
    S_total: Fraction
    S_partial: Fraction
    valid: bool
    balanced: bool | None
    continuous: bool | None
    errors: list[str] = Field(description="Chemical errors from validate_mechanism (empty: none).")
    summary: str


class Ranking(ToolModel):
    ranking: list[RankedCandidate]
    best: str = Field(description="Label of the top-ranked candidate.")
    kinetics_consistent: bool | None = Field(description="The reference's kinetic scheme obeys detailed balance.")


def rank_order(scores: list[CandidateScore], validations: list[CandidateValidation]) -> list[str]:
    """Candidate labels best first: by score total, then validity, then oMeS S_total and S_partial, then label.

    The score already folds in validity, balance and continuity; the later keys only break ties, so that of two
    equally scored candidates the chemically valid one comes first.
    """
    valid = {v.label: v.valid for v in validations}
    return [
        s.label
        for s in sorted(
            scores, key=lambda s: (-s.total, not valid.get(s.label, False), -s.S_total, -s.S_partial, s.label)
        )
    ]


def _score_figure(ctx: SkillContext, rows: list[RankedCandidate], scores: dict[str, CandidateScore]):
    """Grouped bars: each candidate's score components and total, in rank order."""
    import numpy as np

    parts = ["validity", "balance", "alignment", "similarity", "logic", "continuity"]
    fig = ctx.figure(figsize=(8.0, 3.8))
    ax = fig.subplots()
    x = np.arange(len(rows))
    width = 0.8 / (len(parts) + 1)
    for j, p in enumerate(parts):
        vals = [scores[r.label].breakdown.get(p) for r in rows]
        ax.bar(x + j * width, [v if v is not None else 0.0 for v in vals], width, label=p, alpha=0.75)
    ax.bar(x + len(parts) * width, [r.total for r in rows], width, label="total", color="black")
    ax.set_xticks(x + 0.4 - width / 2, [f"#{r.rank} {r.label}" for r in rows])
    ax.set_ylim(0, 1.25)  # headroom for the legend above the bars
    ax.set_ylabel("score (0-1)")
    ax.set_title("Candidate mechanisms vs reference (score_mechanism components)")
    ax.legend(ncol=7, fontsize=7, loc="upper center")
    return fig


@skill("mech.rank", version="1", role="mechanist")
def rank_candidates(ctx: SkillContext, inp: RankInput) -> Ranking:
    """Rank the candidates by their score against the reference and summarise what is wrong with each."""
    scores = {s.label: s for s in inp.scores}
    vals = {v.label: v for v in inp.validations}
    missing = sorted(set(scores) ^ set(vals))
    if missing:
        raise InvalidInput("scores", f"validations and scores cover different candidates: {', '.join(missing)}")
    rows = []
    for n, label in enumerate(rank_order(inp.scores, inp.validations), start=1):
        s, v = scores[label], vals[label]
        rows.append(
            RankedCandidate(
                rank=n,
                label=label,
                total=s.total,
                S_total=s.S_total,
                S_partial=s.S_partial,
                valid=v.valid,
                balanced=v.balanced,
                continuous=v.continuous,
                errors=list(v.errors),
                summary=s.summary,
            )
        )
    db = inp.detailed_balance
    out = Ranking(ranking=rows, best=rows[0].label, kinetics_consistent=db.satisfied if db else None)
    flat = [{**r.model_dump(), "errors": "; ".join(r.errors)} for r in rows]
    table = ctx.save_table("ranking.csv", flat, title="Ranked candidates")
    js = ctx.save_json("ranking.json", out, kind="table", title="Ranked candidates (JSON)")
    fig = ctx.save_figure("scores.png", _score_figure(ctx, rows, scores), title="Score components per candidate")
    for r in rows:
        why = "; ".join(r.errors) if r.errors else "no chemical errors"
        ctx.claim(f"rank {r.rank}: {r.label} ({why}); score", value=r.total, artifacts=[js, table, fig])
    if db is not None:
        ctx.claim(
            "the reference's kinetic scheme is thermodynamically consistent (detailed balance)"
            if db.satisfied
            else "the reference's kinetic scheme violates detailed balance",
            artifacts=[js],
        )
    return out
