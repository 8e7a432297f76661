"""Chemical checks of a mechanism, step by step, with messages a chemist can act on.

* **smiles** – every SMILES parses and sanitises; valence errors name the atom ("atom #0 (C) has valence 5: a
  hypervalent carbon").
* **balance / charge** – for steps written as reactants -> products, elements (hydrogens included) and net charge
  are conserved; the difference is named ("products lack H2O", "charge +1 -> 0 without a counter-ion").
* **continuity** – every species a step consumes is a starting material, a reagent, or formed by an earlier step.
* **products** – the stated final products are formed (the last intermediate, for oMeBench-style steps).
* **taxonomy / arrows** – subtype present and consistent with the type; curved arrows (atom-map numbers) exist in
  the reactants and account for exactly the bond changes between mapped reactants and products.
* **electrons** – what happens to unpaired electrons and bonds matches the subtype (heterolytic vs homolytic, proton
  transfer, radical steps), no step is a no-op, isotope labels are conserved (:mod:`._electrons`).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Literal

from pydantic import Field
from rdkit import Chem

from ...errors import InvalidSmiles
from ..chem import to_mol, without_rdkit_log
from ..fields import ToolModel
from ._electrons import check_step_electrons
from ._model import Mechanism, Step
from ._species import composition, parse_error, species_key, total_composition
from ._taxonomy import SUBTYPES

__all__ = [
    "CheckIssue",
    "ValidationReport",
    "validate_mechanism",
    "check_step_balance",
    "check_arrows",
    "explain_smiles_error",
]

Check = Literal["smiles", "taxonomy", "balance", "charge", "continuity", "products", "arrows", "electrons"]


class CheckIssue(ToolModel):
    """One problem found in a mechanism."""

    severity: Literal["error", "warning"] = Field(description="'error' breaks validity; 'warning' is advisory.")
    check: Check = Field(description="Which check raised it.")
    step: int | None = Field(default=None, description="1-based step number; None for the whole mechanism.")
    field: str = Field(description="Dotted location in the mechanism, e.g. 'steps.2.products.0'.")
    message: str = Field(description="What is wrong, in plain language.")


class ValidationReport(ToolModel):
    """Result of :func:`validate_mechanism`."""

    valid: bool = Field(description="No errors: every SMILES sanitises, every full step balances, continuity holds.")
    smiles_valid: bool = Field(description="Every SMILES parses and sanitises.")
    balanced: bool | None = Field(description="Every full step conserves elements and charge (None: no full steps).")
    continuous: bool | None = Field(description="Each consumed species is available (None: not every step is full).")
    products_formed: bool | None = Field(description="The stated products are formed (None: none stated).")
    n_steps: int = Field(description="Number of steps.")
    step_balanced: list[bool | None] = Field(description="Per step: balanced, unbalanced, or None (not checkable).")
    issues: list[CheckIssue] = Field(default_factory=list, description="Problems found, errors first.")

    @property
    def errors(self) -> list[CheckIssue]:
        return [i for i in self.issues if i.severity == "error"]


_ELEMENT_NAMES = {
    "C": "carbon",
    "N": "nitrogen",
    "O": "oxygen",
    "S": "sulfur",
    "P": "phosphorus",
    "B": "boron",
    "F": "fluorine",
    "Cl": "chlorine",
    "Br": "bromine",
    "I": "iodine",
    "H": "hydrogen",
    "Si": "silicon",
}
_VALENCE = re.compile(r"Explicit valence for atom # ?(\d+) ([A-Z][a-z]?),? (\d+), is greater than permitted")
_KEKULE = re.compile(r"Can't kekulize mol\.\s*Unkekulized atoms: ([\d ]+)")


def explain_smiles_error(reason: str, smiles: str | None = None) -> str:
    """Rephrase RDKit's sanitisation message so it names the atom and the problem.

    With the offending ``smiles``, a charged atom is judged by what its charge allows (a carbocation has three
    bonds, an ammonium nitrogen four), not called hypervalent.
    """
    reason = re.sub(r"^invalid SMILES '.*?': ", "", reason)
    if m := _VALENCE.search(reason):
        idx, el, val = m.groups()
        name = _ELEMENT_NAMES.get(el, el)
        charge = _atom_charge(smiles, int(idx)) if smiles else 0
        if charge:
            return _charged_valence_message(int(idx), el, int(val), charge)
        return f"atom #{idx} ({el}) has valence {val}, more than {name} allows: a hypervalent {name}"
    if m := _KEKULE.search(reason):
        atoms = ", ".join(m.group(1).split())
        return f"aromatic ring cannot be kekulised (atoms {atoms}); check lowercase atoms and [nH]"
    return reason


def _atom_charge(smiles: str, idx: int) -> int:
    with without_rdkit_log():
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None or idx >= mol.GetNumAtoms():
        return 0
    return mol.GetAtomWithIdx(idx).GetFormalCharge()


_CHARGED_NAMES = {
    ("C", 1): "a carbocation",
    ("C", -1): "a carbanion",
    ("N", 1): "an ammonium-type N+",
    ("O", 1): "an oxonium O+",
    ("O", -1): "an alkoxide-type O-",
}


def _charged_valence_message(idx: int, el: str, val: int, charge: int) -> str:
    # An ion has the valence of its isoelectronic neighbour: C+ like B (3 bonds), N+ like C (4), O- like F (1).
    table = Chem.GetPeriodicTable()
    z = table.GetAtomicNumber(el) - charge
    allowed = table.GetDefaultValence(z) if 0 < z <= 118 else -1
    kind = _CHARGED_NAMES.get((el, charge), f"{el} with charge {charge:+d}")
    ion = el + ("+" if charge == 1 else "-" if charge == -1 else f"{abs(charge)}{'+' if charge > 0 else '-'}")
    fix = "drop the charge or remove a bond" if charge > 0 else "drop the charge, or a bond"
    if allowed < 0:
        return f"atom #{idx} ({ion}) has valence {val}, more than {kind} allows"
    return f"atom #{idx} ({ion}) has {val} bonds, but {kind} has {allowed}: {fix}"


# Small species whose loss or gain is worth naming; formula-and-charge signature -> name.
_NAMED_SPECIES = {
    "[H+]": "H+",
    "O": "H2O",
    "[OH3+]": "H3O+",
    "[OH-]": "OH-",
    "[H-]": "H- (hydride)",
    "Cl": "HCl",
    "[Cl-]": "Cl-",
    "Br": "HBr",
    "[Br-]": "Br-",
    "[I-]": "I-",
    "N": "NH3",
    "[NH4+]": "NH4+",
    "O=C=O": "CO2",
    "N#N": "N2",
    "CO": "CH3OH",
    "CCO": "EtOH",
    "[Na+]": "Na+",
    "[Li+]": "Li+",
    "[K+]": "K+",
    "[Mg+2]": "Mg2+",
    "[Br][Mg+]": "MgBr+",
    "O=S(=O)(O)O": "H2SO4",
    "OS(=O)(=O)[O-]": "HSO4-",
    "[O-][N+](=O)[O-]": "NO3-",
    "C=C": "C2H4",
    "O=P(c1ccccc1)(c1ccccc1)c1ccccc1": "Ph3PO",
    "[H][H]": "H2",
}


@functools.lru_cache(maxsize=1)
def _signatures() -> dict[tuple[tuple[tuple[str, int], ...], int], str]:
    out = {}
    for smi, name in _NAMED_SPECIES.items():
        elems, q = composition(smi)
        out[(tuple(sorted(elems)), q)] = name
    return out


def _formula(counts: Counter[str]) -> str:
    order = sorted(counts, key=lambda e: (e != "C", e != "H", e))
    return "".join(f"{e}{counts[e] if counts[e] > 1 else ''}" for e in order if counts[e])


def _name_difference(counts: Counter[str], charge: int) -> str:
    """Name a composition difference: a known species, a multiple of one, or a formula with charge."""
    sig = _signatures()
    key = (tuple(sorted((e, n) for e, n in counts.items() if n)), charge)
    if key in sig:
        return sig[key]
    for k in range(2, 5):
        if all(n % k == 0 for n in counts.values()) and charge % k == 0:
            sub = (tuple(sorted((e, n // k) for e, n in counts.items() if n)), charge // k)
            if sub in sig:
                return f"{k} {sig[sub]}"
    text = _formula(counts) or "no atoms"
    if charge:
        text += f" (charge {charge:+d})"
    return text


def _signed(q: int) -> str:
    return f"{q:+d}" if q else "0"


def check_step_balance(step: Step) -> list[str]:
    """Messages describing how a full step fails to conserve elements and charge (empty when balanced).

    Raises
    ------
    InvalidSmiles
        A species does not parse (check SMILES first).
    """
    left, q_left = total_composition(step.reactants)
    right, q_right = total_composition(step.products)
    lack = left - right  # in reactants, missing from products
    extra = right - left  # in products, missing from reactants
    if not lack and not extra:
        if q_left == q_right:
            return []
        return [f"charge {_signed(q_left)} -> {_signed(q_right)} without a counter-ion (or an unwritten electron)"]
    msgs = []
    # Attribute the charge difference to whichever side holds atoms, so "H+" is named rather than "H and +1".
    if lack and not extra:
        msgs.append(f"products lack {_name_difference(lack, q_left - q_right)}")
    elif extra and not lack:
        if set(extra) == {"H"} and q_right - q_left == -extra["H"]:
            n = extra["H"]
            msgs.append(
                f"products have {n} more H and charge {_signed(q_left)} -> {_signed(q_right)}, as if {n} hydride "
                "(H-) came from nowhere: the hydride donor is missing from the reactants (if a proton was meant to "
                "leave, the products have H too many and the charge should stay)"
            )
        else:
            msgs.append(f"products have extra {_name_difference(extra, q_right - q_left)} not present in the reactants")
    else:
        msgs.append(f"products lack {_name_difference(lack, 0)} and have extra {_name_difference(extra, 0)}")
        if q_left != q_right:
            msgs.append(f"charge {_signed(q_left)} -> {_signed(q_right)} is not conserved")
    return msgs


def _issue(severity: str, check: Check, step: int | None, field: str, message: str) -> CheckIssue:
    return CheckIssue(severity=severity, check=check, step=step, field=field, message=message)  # type: ignore[arg-type]


def _smiles_fields(mech: Mechanism) -> list[tuple[str, int | None, str]]:
    out: list[tuple[str, int | None, str]] = []
    for key in ("reactants", "products", "reagents"):
        out += [(f"{key}.{i}", None, s) for i, s in enumerate(getattr(mech, key))]
    for n, step in enumerate(mech.steps):
        for key in ("reactants", "products"):
            out += [(f"steps.{n}.{key}.{i}", n + 1, s) for i, s in enumerate(getattr(step, key))]
        if step.intermediate:
            out.append((f"steps.{n}.intermediate", n + 1, step.intermediate))
    return out


def _atom_maps(smiles_list: list[str]) -> set[int]:
    return {int(m) for s in smiles_list for m in re.findall(r":(\d+)\]", s)}


def _mapped_bonds(smiles_list: list[str]) -> tuple[dict[frozenset[int], float], dict[int, str]]:
    """Bond orders between atom-mapped atoms (Kekulé form) and the element of each mapped atom."""
    bonds: dict[frozenset[int], float] = {}
    elements: dict[int, str] = {}
    for smi in smiles_list:
        with without_rdkit_log():
            mol = Chem.Mol(to_mol(smi))
        Chem.Kekulize(mol, clearAromaticFlags=True)
        for atom in mol.GetAtoms():
            if atom.GetAtomMapNum():
                elements[atom.GetAtomMapNum()] = atom.GetSymbol()
        for bond in mol.GetBonds():
            a, b = bond.GetBeginAtom().GetAtomMapNum(), bond.GetEndAtom().GetAtomMapNum()
            if a and b:
                bonds[frozenset((a, b))] = bond.GetBondTypeAsDouble()
    return bonds, elements


def check_arrows(step: Step) -> list[str]:
    """Compare the bond changes implied by a step's curved arrows with those between its mapped species.

    A two-electron arrow from a lone pair (``source`` = one atom) to a bond forms that bond; from a bond to an atom
    breaks the bond; from a bond to a bond moves one bond order. A one-electron (fish-hook) arrow counts half. Only
    bonds whose two atoms carry map numbers on both sides are compared.

    Returns
    -------
    list[str]
        One message per disagreeing bond, e.g. "arrows form bond C1-O3 but the products do not".
    """
    if not step.arrows:
        return []
    before, elements = _mapped_bonds(step.reactants)
    after, after_elements = _mapped_bonds(step.products)
    elements.update(after_elements)
    implied: Counter[frozenset[int]] = Counter()
    for arrow in step.arrows:
        amount = arrow.electrons / 2
        if len(arrow.source) == 2:
            implied[frozenset(arrow.source)] -= amount
        if len(arrow.target) == 2:
            implied[frozenset(arrow.target)] += amount
    observed: Counter[frozenset[int]] = Counter()
    for key in set(before) | set(after):
        if key <= set(elements):
            observed[key] = after.get(key, 0.0) - before.get(key, 0.0)
    msgs = []
    for key in sorted(set(implied) | set(observed), key=sorted):
        want, got = implied.get(key, 0.0), observed.get(key, 0.0)
        if abs(want - got) > 1e-9:
            a, b = sorted(key)
            name = f"{elements.get(a, '?')}{a}-{elements.get(b, '?')}{b}"
            if want == 0:
                msgs.append(f"bond {name} changes by {got:+g} in the products but no arrow accounts for it")
            elif got == 0:
                msgs.append(f"arrows change bond {name} by {want:+g} but the products show no change")
            else:
                msgs.append(f"arrows change bond {name} by {want:+g} but the products show {got:+g}")
    return msgs


def validate_mechanism(mech: Mechanism) -> ValidationReport:
    """Run every chemical check on a mechanism.

    Parameters
    ----------
    mech
        The mechanism; full steps (reactants and products) get balance and continuity checks, oMeBench-style steps
        (intermediate only) get SMILES, taxonomy and final-product checks.

    Returns
    -------
    ValidationReport
        ``valid`` is False when any error was found; each issue names the step, field and problem.

    Examples
    --------
    >>> from labwright.tools.mechanism import Mechanism
    >>> m = Mechanism(reactants=["CC(=O)O", "CO"], products=["CC(=O)OC"], reagents=["[H+]"],
    ...               steps=[{"reactants": ["CC(=O)O", "CO"], "products": ["CC(=O)OC"],
    ...                       "subtype": "nucleophilic_substitution"}])
    >>> validate_mechanism(m).issues[0].message
    'step 1: products lack H2O'
    """
    issues: list[CheckIssue] = []
    bad: set[str] = set()
    for field, step_no, smi in _smiles_fields(mech):
        if (reason := parse_error(smi)) is not None:
            bad.add(smi)
            where = f"step {step_no}: " if step_no else ""
            msg = f"{where}{smi!r} is not a valid molecule: {explain_smiles_error(reason, smi)}"
            issues.append(_issue("error", "smiles", step_no, field, msg))

    step_balanced: list[bool | None] = []
    for n, step in enumerate(mech.steps, 1):
        field = f"steps.{n - 1}"
        if step.subtype is None:
            msg = f"step {n}: no subtype given, so it cannot be aligned with a reference"
            issues.append(_issue("warning", "taxonomy", n, f"{field}.subtype", msg))
        elif step.type is not None and SUBTYPES[step.subtype] != step.type:
            msg = f"step {n}: subtype {step.subtype!r} belongs to type {SUBTYPES[step.subtype]!r}, not {step.type!r}"
            issues.append(_issue("warning", "taxonomy", n, f"{field}.type", msg))
        if not step.is_full or bad.intersection(step.reactants + step.products):
            step_balanced.append(None)
        else:
            msgs = check_step_balance(step)
            step_balanced.append(not msgs)
            for msg in msgs:
                check: Check = "charge" if msg.startswith("charge") else "balance"
                issues.append(_issue("error", check, n, field, f"step {n}: {msg}"))
            for severity, msg in check_step_electrons(step):
                issues.append(_issue(severity, "electrons", n, field, f"step {n}: {msg}"))
        if step.arrows:
            known = _atom_maps(step.reactants)
            for k, arrow in enumerate(step.arrows):
                missing = sorted(set(arrow.source + arrow.target) - known)
                if missing:
                    msg = f"step {n}: arrow {k + 1} uses atom map(s) {missing} absent from the reactants"
                    issues.append(_issue("error", "arrows", n, f"{field}.arrows.{k}", msg))
            if not any(i.check == "arrows" and i.step == n for i in issues) and step.is_full:
                for msg in check_arrows(step) if not bad.intersection(step.reactants + step.products) else []:
                    issues.append(_issue("error", "arrows", n, f"{field}.arrows", f"step {n}: {msg}"))

    continuous = _check_continuity(mech, issues) if mech.is_full else None
    products_formed = _check_products(mech, issues)
    _check_overall(mech, issues, bad)

    issues.sort(key=lambda i: (i.severity != "error", i.step or 0))
    checkable = [b for b in step_balanced if b is not None]
    return ValidationReport(
        valid=not any(i.severity == "error" for i in issues),
        smiles_valid=not bad,
        balanced=all(checkable) if checkable else None,
        continuous=continuous,
        products_formed=products_formed,
        n_steps=len(mech.steps),
        step_balanced=step_balanced,
        issues=issues,
    )


def _key(smiles: str) -> str:
    return species_key(smiles) or smiles


def _check_continuity(mech: Mechanism, issues: list[CheckIssue]) -> bool:
    available = {_key(s) for s in mech.reactants + mech.reagents}
    formed_at: dict[str, int] = {}
    ok = True
    for n, step in enumerate(mech.steps, 1):
        for i, smi in enumerate(step.reactants):
            k = _key(smi)
            if k not in available:
                ok = False
                issues.append(
                    _issue(
                        "error",
                        "continuity",
                        n,
                        f"steps.{n - 1}.reactants.{i}",
                        f"step {n} consumes {smi}, which is neither a starting material or reagent nor formed "
                        "by an earlier step",
                    )
                )
        for smi in step.products:
            available.add(_key(smi))
            formed_at.setdefault(_key(smi), n)
    # Dead ends: formed, never consumed later, not a stated product or reagent (advisory only).
    stated = {_key(s) for s in mech.products + mech.reagents + mech.reactants}
    consumed_later: dict[str, int] = {}
    for n, step in enumerate(mech.steps, 1):
        for smi in step.reactants:
            consumed_later[_key(smi)] = n
    for k, n in formed_at.items():
        if k not in stated and consumed_later.get(k, 0) <= n:
            msg = f"step {n} forms {k}, which no later step uses and which is not a stated product"
            issues.append(_issue("warning", "continuity", n, f"steps.{n - 1}.products", msg))
    return ok


def _check_products(mech: Mechanism, issues: list[CheckIssue]) -> bool | None:
    if not mech.products:
        return None
    if mech.is_full:
        formed = {_key(s) for step in mech.steps for s in step.products}
        severity = "error"
    else:
        formed = {_key(s) for s in mech.steps[-1].key_smiles.split(".")}
        formed |= {_key(s) for s in mech.steps[-1].products}
        severity = "warning"  # oMeBench's last intermediate often omits by-products or counter-ions
    ok = True
    for i, smi in enumerate(mech.products):
        if _key(smi) not in formed:
            ok = False
            where = "any step" if mech.is_full else "the last step"
            issues.append(
                _issue(severity, "products", None, f"products.{i}", f"stated product {smi} is not formed by {where}")
            )
    return ok


def _check_overall(mech: Mechanism, issues: list[CheckIssue], bad: set[str]) -> None:
    if not (mech.reactants and mech.products) or bad.intersection(mech.reactants + mech.products):
        return
    try:
        msgs = check_step_balance(Step(reactants=mech.reactants, products=mech.products))
    except InvalidSmiles:  # pragma: no cover - guarded by `bad`
        return
    for msg in msgs:
        issues.append(_issue("warning", "balance", None, "products", f"overall reaction: {msg}"))
