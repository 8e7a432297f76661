"""Entity normalisation: one canonical key per concept.

Chemicals are keyed by their structure or formula, so that spellings of one substance merge without a table of
spellings: a structure (a SMILES given explicitly, one OPSIN parsed from a name during extraction, or a name in the
small built-in table below) and a molecular formula written in the text (``_formula``, checked against RDKit's
periodic table) both give a composition. Carbon compounds with hydrogen (organic: isomers share a formula) are keyed
by their standard InChIKey ("ethylene carbonate" and ``C1COC(=O)O1``); everything else (inorganic, and carbon
without hydrogen: CO2, Li2CO3, ferricyanide) by its Hill formula with charge, because there the formula names the
substance and the drawings differ ("O=[Ce]=O" and OPSIN's "[O-2].[Ce+4].[O-2]" for "cerium(IV) oxide" are one CeO2;
cis/trans isomers such as the platins are the exception this merges). A formula written for an organic compound
("C6H12O6") stays a formula node: it cannot tell glucose from fructose. A chemical followed by a word for the form it
takes ("CeO2 nanoparticles", "TiO2 films") is that chemical.

Everything else is keyed by normalised text: lower case, hyphens and underscores as spaces, collapsed whitespace, a
plural folded to its singular (LemmInflect's lexicon; regular rules for words it does not know), and a small curated
synonym table of trivial names applied last. No network access is involved.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from ..errors import InvalidInput, InvalidSmiles
from ..tools.chem import to_inchikey, to_mol, to_smiles, without_rdkit_log
from ._formula import Formula, parse_formula, structure_formula

__all__ = ["Concept", "normalise_text", "normalise_concept", "chemical_part", "MOLECULE_SMILES", "SYNONYMS"]

# Common names of small molecules and salts that appear in electrolyte, biomaterial and signalling texts.
# Keys are already in normalised-text form (see `normalise_text`).
MOLECULE_SMILES: dict[str, str] = {
    "ethylene carbonate": "C1COC(=O)O1",
    "propylene carbonate": "CC1COC(=O)O1",
    "dimethyl carbonate": "COC(=O)OC",
    "diethyl carbonate": "CCOC(=O)OCC",
    "ethyl methyl carbonate": "CCOC(=O)OC",
    "fluoroethylene carbonate": "O=C1OCC(F)O1",
    "vinylene carbonate": "O=c1occo1",
    "lithium hexafluorophosphate": "[Li+].F[P-](F)(F)(F)(F)F",
    "lithium bi(trifluoromethanesulfonyl)imide": "[Li+].O=S(=O)([N-]S(=O)(=O)C(F)(F)F)C(F)(F)F",
    "lithium fluoride": "[Li+].[F-]",
    "lithium carbonate": "[Li+].[Li+].[O-]C([O-])=O",
    "hydrogen fluoride": "F",
    "acetonitrile": "CC#N",
    "water": "O",
    "hydrogen peroxide": "OO",
    "superoxide": "[O-][O]",
    "cerium oxide": "O=[Ce]=O",
    "glutaraldehyde": "O=CCCCC=O",
    "genipin": "COC(=O)C1=CO[C@H](O)[C@@H]2C1=CC[C@H]2CO",
    "glucosamine": "NC1C(O)OC(CO)C(O)C1O",
    "caprolactone": "O=C1CCCCCO1",
    "lactic acid": "CC(O)C(=O)O",
    "glycine": "NCC(=O)O",
    "adenosine triphosphate": "Nc1ncnc2c1ncn2[C@@H]1O[C@H](COP(=O)(O)OP(=O)(O)OP(=O)(O)O)[C@@H](O)[C@H]1O",
    "staurosporine": "CN[C@@H]1C[C@H]2O[C@@](C)([C@@H]1OC)n1c3ccccc3c3c4CNC(=O)c4c4c5ccccc5n2c4c31",
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "calcium chloride": "[Ca+2].[Cl-].[Cl-]",
    "sodium tripolyphosphate": "[Na+].[Na+].[Na+].[Na+].[Na+].[O-]P(=O)([O-])OP(=O)([O-])OP(=O)([O-])[O-]",
}

# Curated synonyms: spelling variants and formulae of one concept mapped to one preferred normalised form. No
# abbreviations: a two- to four-letter abbreviation means different things in different papers ("HA" is hyaluronic
# acid or hydroxyapatite, "DEC" a carbonate or December), so abbreviations are resolved only from their definition
# in the same document (see ``_text.abbreviations``).
# Formulae ("CeO2", "LiPF6") and systematic names ("cerium(IV) oxide") need no entry: they merge through their
# composition (see the module docstring).
SYNONYMS: dict[str, str] = {
    "litfsi": "lithium bi(trifluoromethanesulfonyl)imide",
    "ceria": "cerium oxide",  # trivial names of the material
    "nanoceria": "cerium oxide",
    "cerium oxide nanoparticle": "cerium oxide",  # nanoceria: the literature uses the three names for one material
    "poly(caprolactone)": "polycaprolactone",
    "poly(epsilon caprolactone)": "polycaprolactone",
    "poly(ε caprolactone)": "polycaprolactone",
    "erk1": "erk1/2",
    "erk2": "erk1/2",
}

# Synonyms also applied when they occur as one word of a longer phrase ("CeO2 nanoparticles").
_WORD_SYNONYMS = frozenset({"litfsi", "ceria"})

# Words for the form a chemical takes: "CeO2 nanoparticles" is CeO2 (what a text says of the particles it says of
# the substance, as far as a knowledge graph of mechanisms is concerned).
FORM_NOUNS = frozenset(
    "nanoparticle particle nanocrystal crystal powder film nanofilm nanorod nanowire nanosheet nanocube nanotube "
    "microsphere nanosphere".split()
)

# Leading words that do not belong to a concept's name.
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those", "its", "their", "our"})

_SPACE = re.compile(r"[\s_\-‐‑–—]+")
_PUNCT_EDGE = re.compile(r"^[\s\"'`.,;:!?]+|[\s\"'`.,;:!?]+$")


@functools.lru_cache(maxsize=65_536)
def _singular(word: str) -> str:
    """Singular of a lower-case noun: the lemma from LemmInflect's English lexicon when it knows the word (bias,
    lens, matrices, hypotheses, species), otherwise the regular rules; words not ending in "s" are left alone
    (LemmInflect reads "ceria" as a plural of "cerium"), and so are "-ics" fields (kinetics, genetics) and
    "-is"/"-us"/"-ss" words."""
    if len(word) <= 3 or not word.isalpha() or not word.endswith("s") or word.endswith(("ics", "is", "us", "ss")):
        return word
    from lemminflect import getAllLemmas

    known = getAllLemmas(word, upos="NOUN").get("NOUN")
    if known:
        return word if word in known else known[0]
    # Words outside the lexicon (cellulases, nanorods, MXenes) are regular plurals. inflect's rules would do, but
    # importing it costs seconds (typeguard); these four cases are all it would apply to such words.
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


@functools.lru_cache(maxsize=262_144)
def normalise_text(text: str) -> str:
    """Normalised text form of a concept name.

    Lower case (Unicode NFKC first), hyphens/underscores/dashes and runs of whitespace as one space, surrounding
    punctuation and a leading article stripped, the last word made singular, then the synonym table applied.

    Examples
    --------
    >>> normalise_text("  Cerium-Oxide  Nanoparticles ")
    'cerium oxide nanoparticle'
    >>> normalise_text("Ceria nanoparticles")
    'cerium oxide'
    """
    t = unicodedata.normalize("NFKC", text).lower()
    t = _PUNCT_EDGE.sub("", _SPACE.sub(" ", t)).strip()
    if not t:
        return ""
    words = t.split(" ")
    while len(words) > 1 and words[0] in _DETERMINERS:
        words = words[1:]
    words[-1] = _singular(words[-1])
    if len(words) > 1:  # abbreviations inside a phrase: "PCL scaffolds" -> "polycaprolactone scaffold"
        words = [SYNONYMS.get(w, w) if w in _WORD_SYNONYMS else w for w in words]
    t = " ".join(words)
    return SYNONYMS.get(t, t)


@dataclass(frozen=True)
class Concept:
    """A normalised concept: the store's node identity.

    Attributes
    ----------
    key : str
        Canonical key: ``"inchikey:<InChIKey>"`` for resolved molecules, otherwise ``"text:<normalised text>"``.
    label : str
        Human-readable label (the normalised text, or the molecule name).
    kind : str
        ``"molecule"`` or the caller's kind (default ``"concept"``).
    surface : str
        The normalised text form the concept was found under (kept as a synonym for lookups).
    smiles : str | None
        Canonical SMILES for molecules with a known structure.
    formula : str | None
        Hill formula with charge for chemicals (``CeO2``, ``C6FeN6-3``).
    """

    key: str
    label: str
    kind: str
    surface: str
    smiles: str | None = None
    formula: str | None = None


def _chemical_key(f: Formula, mol=None) -> str:
    """``formula:<Hill>`` unless the compound is organic (carbon with hydrogen) and its structure is known."""
    elements = dict(f.counts)
    if mol is not None and "C" in elements and "H" in elements:
        return f"inchikey:{to_inchikey(mol)}"
    return f"formula:{f.hill}"


def _molecule(smiles: str, label: str, surface: str, field: str) -> Concept:
    with without_rdkit_log():
        mol = to_mol(smiles, field=field)
    f = structure_formula(mol)
    return Concept(_chemical_key(f, mol), label, "molecule", surface, to_smiles(mol), f.hill)


def chemical_part(name: str) -> str:
    """``name`` without a trailing word for the form a chemical takes ("CeO2 nanoparticles" → "CeO2")."""
    words = name.split()
    if len(words) > 1 and normalise_text(words[-1]) in FORM_NOUNS:
        return " ".join(words[:-1])
    return name


@functools.lru_cache(maxsize=262_144)
def _concept_cached(name: str, smiles: str | None, kind: str | None) -> Concept:
    surface = normalise_text(name) if name else ""
    if smiles:
        return _molecule(smiles, surface or smiles, surface or smiles, "smiles")
    if not surface:
        raise InvalidInput("name", f"concept name {name!r} is empty after normalisation")
    if kind in (None, "molecule"):
        part = chemical_part(name.strip())
        known = MOLECULE_SMILES.get(normalise_text(part))
        if known is not None:
            return _molecule(known, surface, surface, "smiles")
        f = parse_formula(part)
        if f is not None:
            return Concept(_chemical_key(f), part, "molecule", surface, None, f.hill)
    return Concept(f"text:{surface}", surface, kind or "concept", surface)


def normalise_concept(name: str, *, smiles: str | None = None, kind: str | None = None, field: str = "name") -> Concept:
    """Resolve a mention to its canonical :class:`Concept`.

    Parameters
    ----------
    name
        The mention as written ("Ceria", "EC", "chitosan scaffolds").
    smiles
        Optional structure; when given the concept is a molecule keyed by InChIKey.
    kind
        Optional node kind (``"material"``, ``"protein"``...); ignored for resolved molecules.
    field
        Field name reported in errors.

    Raises
    ------
    InvalidInput
        The name is empty after normalisation, or ``smiles`` does not parse (:class:`InvalidSmiles`).
    """
    if not isinstance(name, str):
        raise InvalidInput(field, f"concept name must be a string, got {type(name).__name__}")
    try:
        return _concept_cached(name, smiles.strip() if smiles else None, kind)
    except InvalidSmiles as err:
        raise InvalidSmiles(err.smiles, err.reason.split(": ", 1)[-1], field=field) from None
    except InvalidInput as err:
        raise InvalidInput(field, err.reason) from None
