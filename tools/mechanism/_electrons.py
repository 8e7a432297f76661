"""Electron and bond bookkeeping of one elementary step, checked against the step's stated subtype.

Balance (``_checks.check_step_balance``) only counts atoms and charge, so a step can balance and still be the wrong
kind of chemistry. This module looks at what happens to *electrons* and *bonds*:

* **unpaired electrons** — a polar (two-electron) step keeps their number; heterolytic cleavage gives both bonding
  electrons to one fragment, so it makes ions, never radicals; homolysis and radical initiation make them; radical
  coupling and termination pair them up; propagation, radical addition/substitution/elimination carry one through;
* **bonds** — a proton transfer moves only hydrogens (bonds between heavy atoms may change order, as in a
  tautomerisation, but none forms or breaks);
  a cleavage breaks a bond and a coupling forms one;
* **no-op steps** — the same species on both sides;
* **isotopes** — labelled atoms ([2H], [13C]) are conserved like elements;
* **free hydrogen atoms** — H• is almost never a species of a solution mechanism; an abstraction hands the atom to
  the radical (X–H + R• → X• + R–H) rather than setting it free.

Counting follows RDKit's perception of radicals (``[CH3]`` has one unpaired electron) on sanitised molecules; the
caller checks SMILES validity first. References: Clayden, Greeves & Warren, *Organic Chemistry* 2nd ed., ch. 5
(curly arrows: two-electron movements) and ch. 37 (radical chain steps); IUPAC Gold Book, "heterolysis", "homolysis".
"""

from __future__ import annotations

import functools
from collections import Counter

from rdkit import Chem

from ..chem import to_mol, without_rdkit_log
from ._model import Step
from ._species import species_key

__all__ = ["check_step_electrons", "unpaired_electrons"]

# Two-electron (polar or pericyclic) subtypes: the number of unpaired electrons cannot change.
_PAIRED = frozenset(
    {
        "acid_base_proton_transfer",
        "nucleophilic_addition",
        "electrophilic_addition",
        "leaving_group_elimination",
        "proton_elimination",
        "nucleophilic_substitution",
        "electrophilic_substitution",
        "cycloaddition",
        "cycloreversion",
        "electrocyclization",
        "sigmatropic_rearrangement",
        "cheletropic_reaction",
        "ene_reaction",
        "group_transfer",
        "heterolytic_cleavage",
        "1,2-shift",
        "coordination",
        "dissociation",
    }
)
_MAKES_RADICALS = frozenset({"homolytic_cleavage", "radical_initiation"})
_PAIRS_RADICALS = frozenset({"radical_coupling"})
_CARRIES_RADICAL = frozenset(
    {"radical_addition", "radical_elimination", "radical_substitution", "radical_propagation", "radical_rearrangement"}
)
_BREAKS_BOND = frozenset({"heterolytic_cleavage", "homolytic_cleavage"})
_FORMS_BOND = frozenset({"radical_coupling"})


@functools.lru_cache(maxsize=65536)
def unpaired_electrons(smiles: str) -> int:
    """Unpaired electrons of a species, as RDKit perceives radicals (``[CH3]`` → 1, ``[O][O]`` → 2)."""
    with without_rdkit_log():
        mol = to_mol(smiles)
    return sum(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms())


# Elements whose bonds count as covalent skeleton; bonds to metals (Mg in a Grignard alkoxide, Li, Zn, ...) are
# treated as ionic, so their protonolysis still reads as a proton transfer.
_NONMETALS = frozenset({1, 2, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 33, 34, 35, 36, 52, 53, 54, 86})


@functools.lru_cache(maxsize=65536)
def _skeleton(smiles: str) -> tuple[str, ...]:
    """Fragments of the heavy-atom connectivity, with hydrogens, metals, charges, radicals and bond orders erased.

    A proton transfer moves hydrogens and may shift double bonds (a tautomerisation, an enol to a ketone), but it
    neither forms nor breaks a bond between heavy atoms, so the multiset of these fragments is unchanged.
    """
    with without_rdkit_log():
        mol = Chem.RWMol(to_mol(smiles))
        # Every hydrogen goes, labelled ones ([2H]) included, which RemoveHs would keep; metals go too.
        drop = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 1 or a.GetAtomicNum() not in _NONMETALS]
        for idx in sorted(drop, reverse=True):
            mol.RemoveAtom(idx)
        for bond in mol.GetBonds():
            bond.SetBondType(Chem.BondType.SINGLE)
            bond.SetIsAromatic(False)
        for atom in mol.GetAtoms():
            atom.SetIsAromatic(False)
            atom.SetFormalCharge(0)
            atom.SetNumExplicitHs(0)
            atom.SetNoImplicit(True)
            atom.SetNumRadicalElectrons(0)
            atom.SetAtomMapNum(0)
            atom.SetIsotope(0)
        if mol.GetNumAtoms() == 0:
            return ()
        return tuple(Chem.MolToSmiles(mol, canonical=True).split("."))


@functools.lru_cache(maxsize=65536)
def _bond_count(smiles: str) -> int:
    """Number of bonds, hydrogens included (each bond once, whatever its order)."""
    with without_rdkit_log():
        return Chem.AddHs(to_mol(smiles)).GetNumBonds()


@functools.lru_cache(maxsize=65536)
def _isotopes(smiles: str) -> tuple[tuple[str, int], ...]:
    with without_rdkit_log():
        mol = to_mol(smiles)
    counts = Counter(f"{a.GetIsotope()}{a.GetSymbol()}" for a in mol.GetAtoms() if a.GetIsotope())
    return tuple(sorted(counts.items()))


def _total(fn, smiles: list[str]) -> Counter:
    out: Counter = Counter()
    for smi in smiles:
        out.update(dict(fn(smi)))
    return out


def _describe(counts: Counter) -> str:
    return ", ".join(f"{n} {iso}" for iso, n in sorted(counts.items()))


def check_step_electrons(step: Step) -> list[tuple[str, str]]:
    """Electron, bond, isotope and no-op problems of a full step, as ``(severity, message)`` pairs.

    Parameters
    ----------
    step
        A step with reactants and products whose SMILES are valid (check them first).

    Returns
    -------
    list[tuple[str, str]]
        Empty when nothing is wrong; ``severity`` is ``"error"`` or ``"warning"``.

    Examples
    --------
    >>> s = Step(reactants=["CBr"], products=["[CH3]", "[Br]"], subtype="heterolytic_cleavage")
    >>> check_step_electrons(s)[0][1][:60]
    'heterolytic cleavage gives both bonding electrons to one fra'
    """
    out: list[tuple[str, str]] = []
    keys_r = Counter(species_key(s) for s in step.reactants)
    keys_p = Counter(species_key(s) for s in step.products)
    if keys_r == keys_p:
        return [("error", "the step changes nothing: its products are the same species as its reactants")]

    iso_r, iso_p = _total(_isotopes, step.reactants), _total(_isotopes, step.products)
    if iso_r != iso_p:
        lost, gained = iso_r - iso_p, iso_p - iso_r
        parts = []
        if lost:
            parts.append(f"reactants carry {_describe(lost)} that the products do not")
        if gained:
            parts.append(f"products carry {_describe(gained)} absent from the reactants")
        out.append(("error", "isotope labels are not conserved: " + "; ".join(parts)))

    u_r = sum(unpaired_electrons(s) for s in step.reactants)
    u_p = sum(unpaired_electrons(s) for s in step.products)
    subtype = step.subtype
    name = (subtype or "").replace("_", " ")
    if subtype == "heterolytic_cleavage" and u_p > u_r:
        out.append(
            (
                "error",
                "heterolytic cleavage gives both bonding electrons to one fragment (ions, not radicals), but the "
                f"products carry {u_p - u_r} more unpaired electron(s) than the reactants: this is a homolytic "
                "cleavage, or the fragments' charges are missing",
            )
        )
    elif subtype in _PAIRED and u_p != u_r:
        out.append(
            (
                "error",
                f"a {name} step moves electron pairs, so the number of unpaired electrons cannot change, but it goes "
                f"from {u_r} to {u_p}: a radical step, or a missing charge or hydrogen",
            )
        )
    elif subtype in _MAKES_RADICALS and u_p <= u_r:
        out.append(
            (
                "error",
                f"a {name} step creates unpaired electrons (each fragment keeps one electron of the broken bond), "
                f"but they go from {u_r} to {u_p}",
            )
        )
    elif subtype in _PAIRS_RADICALS and u_p >= u_r:
        out.append(("error", f"a {name} step pairs two radicals, but unpaired electrons go from {u_r} to {u_p}"))
    elif subtype in _CARRIES_RADICAL and (u_r == 0 or u_p == 0):
        side = "reactants" if u_r == 0 else "products"
        out.append(("error", f"a {name} step carries a radical through, but its {side} have no unpaired electron"))
    elif subtype == "single_electron_transfer" and u_r == 0 and u_p == 0:
        out.append(("error", "a single electron transfer makes or consumes an odd-electron species, but none appears"))

    if subtype == "acid_base_proton_transfer":
        skel_r = Counter(frag for s in step.reactants for frag in _skeleton(s))
        skel_p = Counter(frag for s in step.products for frag in _skeleton(s))
        if skel_r != skel_p:
            out.append(
                (
                    "error",
                    "a proton transfer only moves hydrogens, but bonds between heavy atoms form or break "
                    f"({', '.join(sorted(skel_r - skel_p)) or 'nothing'} becomes "
                    f"{', '.join(sorted(skel_p - skel_r)) or 'nothing'})",
                )
            )
    bonds_r = sum(_bond_count(s) for s in step.reactants)
    bonds_p = sum(_bond_count(s) for s in step.products)
    if subtype in _BREAKS_BOND and bonds_p >= bonds_r:
        out.append(("error", f"a {name} breaks a bond, but the products have {bonds_p} bonds against {bonds_r}"))
    if subtype in _FORMS_BOND and bonds_p <= bonds_r:
        out.append(("error", f"a {name} forms a bond, but the products have {bonds_p} bonds against {bonds_r}"))

    free_h = sum(1 for s in step.products if species_key(s) == "[H]")
    if free_h and not any(species_key(s) == "[H]" for s in step.reactants):
        severity = "error" if subtype in _CARRIES_RADICAL else "warning"
        out.append(
            (
                severity,
                "the step sets a free hydrogen atom (H•) loose; in an abstraction the radical takes the atom it "
                "abstracts (X–H + R• → X• + R–H), so check which atom moves and which radical is left",
            )
        )
    return out
