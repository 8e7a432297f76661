"""Step types and subtypes of organic mechanisms (oMeBench's 11 types and 30 subtypes).

The oMeBench Gold set uses exactly these names. Its Template set and LLM outputs also use a few synonyms
(``lewis_acid_base_coordination``, ``hydride_shift``, ...); :func:`normalise_subtype` maps those onto the 30 names so
that alignment, which requires equal subtypes, is not defeated by spelling.
"""

from __future__ import annotations

from ...errors import InvalidInput

__all__ = ["STEP_TYPES", "SUBTYPES", "SUBTYPE_ALIASES", "normalise_subtype", "normalise_type"]

# subtype -> type, as used in data/oMe_Gold.json (all 30 subtypes occur there).
SUBTYPES: dict[str, str] = {
    "acid_base_proton_transfer": "proton_transfer",
    "nucleophilic_addition": "addition",
    "electrophilic_addition": "addition",
    "oxidative_addition": "addition",
    "radical_addition": "addition",
    "leaving_group_elimination": "elimination",
    "proton_elimination": "elimination",
    "radical_elimination": "elimination",
    "reductive_elimination": "elimination",
    "nucleophilic_substitution": "substitution",
    "electrophilic_substitution": "substitution",
    "radical_substitution": "substitution",
    "cycloaddition": "pericyclic",
    "cycloreversion": "pericyclic",
    "electrocyclization": "pericyclic",
    "sigmatropic_rearrangement": "pericyclic",
    "cheletropic_reaction": "pericyclic",
    "ene_reaction": "pericyclic",
    "group_transfer": "pericyclic",
    "heterolytic_cleavage": "cleavage",
    "homolytic_cleavage": "cleavage",
    "1,2-shift": "rearrangement",
    "radical_rearrangement": "rearrangement",
    "radical_initiation": "radical",
    "radical_propagation": "radical",
    "radical_coupling": "radical",
    "radical_termination": "radical",
    "coordination": "coordination",
    "single_electron_transfer": "electron_transfer",
    "dissociation": "dissociation",
}

STEP_TYPES: tuple[str, ...] = tuple(dict.fromkeys(SUBTYPES.values()))

# Synonyms seen in oMeBench's Template file (and plausible in model output) -> canonical subtype.
SUBTYPE_ALIASES: dict[str, str] = {
    "intramolecular_nucleophilic_addition": "nucleophilic_addition",
    "lewis_acid_base_coordination": "coordination",
    "dehydration": "leaving_group_elimination",
    "aromatic_electrophilic_substitution": "electrophilic_substitution",
    "intramolecular_proton_transfer": "acid_base_proton_transfer",
    "proton_transfer": "acid_base_proton_transfer",
    "protonation": "acid_base_proton_transfer",
    "deprotonation": "acid_base_proton_transfer",
    "hydride_shift": "1,2-shift",
    "alkyl_shift": "1,2-shift",
    "rearrangement": "1,2-shift",
    "electron_transfer": "single_electron_transfer",
    "sigmatropic_shift": "sigmatropic_rearrangement",
}

# Types with a single subtype, so a missing subtype can be filled in unambiguously.
_ONLY_SUBTYPE = {
    t: next(s for s, tt in SUBTYPES.items() if tt == t)
    for t in STEP_TYPES
    if sum(tt == t for tt in SUBTYPES.values()) == 1
}


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_").replace("1,2_shift", "1,2-shift")


def normalise_subtype(subtype: str | None, step_type: str | None = None, *, field: str = "subtype") -> str | None:
    """Canonical subtype name, mapping known synonyms; ``None`` stays ``None`` unless the type implies it.

    Raises
    ------
    InvalidInput
        The name is neither one of the 30 subtypes nor a known synonym; the message lists close names.
    """
    if subtype is None or not str(subtype).strip():
        return _ONLY_SUBTYPE.get(step_type or "")
    key = _key(str(subtype))
    if key in SUBTYPES:
        return key
    if key in SUBTYPE_ALIASES:
        return SUBTYPE_ALIASES[key]
    if key in STEP_TYPES and key in _ONLY_SUBTYPE:
        return _ONLY_SUBTYPE[key]
    import difflib

    close = difflib.get_close_matches(key, list(SUBTYPES), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known subtypes: {', '.join(SUBTYPES)}"
    raise InvalidInput(field, f"unknown step subtype {subtype!r}{hint}")


def normalise_type(step_type: str | None, subtype: str | None, *, field: str = "type") -> str | None:
    """Canonical step type: the given one if it is one of the 11, else the subtype's own type, else as given.

    An unrecognised type (``aromatization`` in oMeBench's Template file) is returned unchanged when there is no
    subtype to decide it; :class:`~labwright.tools.mechanism.Step` then takes the type from the subtype.
    """
    del field
    if step_type is not None and _key(step_type) in STEP_TYPES:
        return _key(step_type)
    if subtype is not None:
        return SUBTYPES[subtype]
    if step_type is None or not str(step_type).strip():
        return None
    return str(step_type)
