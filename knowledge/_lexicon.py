"""General English word classes for the offline extractor: effect verbs with their sign, and function words.

Nothing here names a concept: concepts are whatever noun phrases the text contains. The verbs are the general
vocabulary of cause and effect in scientific English (raise/lower, activate/inhibit, bind/convert...), each with
the sign of its effect on its object: ``+`` more of it (or more activity), ``-`` less, ``0`` neither stated.
Inflected forms come from LemmInflect, with British and American spellings (-ise/-ize, -yse/-yze) both listed.
"""

from __future__ import annotations

import functools

__all__ = [
    "VerbSense",
    "verb_sense",
    "function_words",
    "DETERMINERS",
    "AUXILIARIES",
    "NEGATIONS",
    "CLAUSE_BREAKS",
    "is_adverb",
    "is_other_verb",
]

_SIGNED_VERBS = {
    "+": """increase raise elevate enhance boost augment amplify potentiate upregulate up-regulate stimulate activate
        induce trigger promote accelerate speed facilitate drive improve strengthen stabilise prolong extend sustain
        restore generate produce yield release initiate catalyse evoke elicit support enable favour increase
        intensify""",
    "-": """decrease reduce lower diminish attenuate downregulate down-regulate inhibit suppress repress block
        impair prevent abolish abrogate antagonise deactivate inactivate slow retard hinder limit shorten weaken
        destabilise degrade damage attack disrupt denature neutralise scavenge quench deplete eliminate remove destroy
        kill mitigate alleviate delay counteract hydrolyse poison corrode decompose cleave silence
        oppose restrict reverse""",
    "0": """bind form convert phosphorylate dephosphorylate acetylate methylate oxidise crosslink cross-link encode
        mediate regulate modulate affect alter recruit transport encapsulate coat mimic interact react occupy
        target contain dissolve""",
}


class VerbSense(tuple):
    """``(lemma, sign)`` of an effect verb form."""

    __slots__ = ()

    @property
    def lemma(self) -> str:
        return self[0]

    @property
    def sign(self) -> str:
        return self[1]


def _spellings(lemma: str) -> set[str]:
    out = {lemma}
    for uk, us in (("ise", "ize"), ("yse", "yze"), ("our", "or")):
        if lemma.endswith(uk):
            out.add(lemma[: -len(uk)] + us)
    return out


@functools.lru_cache(maxsize=1)
def _forms() -> dict[str, VerbSense]:
    from lemminflect import getAllInflections, getAllInflectionsOOV

    table: dict[str, VerbSense] = {}
    for sign, words in _SIGNED_VERBS.items():
        for lemma in words.split():
            for spelling in _spellings(lemma):
                infl = getAllInflections(spelling, upos="VERB") or getAllInflectionsOOV(spelling, upos="VERB")
                for form in {spelling, *(f for forms in infl.values() for f in forms)}:
                    table.setdefault(form, VerbSense((lemma, sign)))
    return table


def verb_sense(word: str) -> VerbSense | None:
    """The effect verb a lower-case word form belongs to, or None."""
    return _forms().get(word)


AUXILIARIES = frozenset(
    "is are was were be been being am has have had do does did can could may might will would shall should must "
    "also".split()
)
NEGATIONS = frozenset("not no never n't cannot neither nor".split())
# Words that start a new clause: its subject is read afresh (or, for relative pronouns, is the preceding phrase).
CLAUSE_BREAKS = frozenset(
    "that which who whereas while but although though because since whereby where when unless if as".split()
)
DETERMINERS = frozenset(
    "the a an its their this these those our his her your my own "
    "many several most some all both each every few various".split()
)


@functools.lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    """Scikit-learn's English stop words, less the few that are content words in science writing (imported on first
    use: scikit-learn takes seconds to import)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS - {"system", "thick", "thin", "fire", "part", "amount", "interest"})


@functools.lru_cache(maxsize=65_536)
def is_adverb(word: str) -> bool:
    """True for a lower-case word that LemmInflect's lexicon knows only as an adverb (irreversibly, slowly)."""
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    return word not in function_words() and bool(lemmas) and set(lemmas) == {"ADV"}


@functools.lru_cache(maxsize=65_536)
def is_other_verb(word: str) -> bool:
    """True for a lower-case word that LemmInflect's lexicon knows only as a verb (found, characterised, taken):
    a verb that states no effect, so it ends a noun phrase without starting a relation."""
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    return bool(lemmas) and set(lemmas) == {"VERB"}
