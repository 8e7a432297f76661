"""Text handling for extraction: input checks, sentence spans, word tokens and in-document abbreviations.

Sentences come from pysbd (a maintained rule-based segmenter that knows "e.g.", "Fig. 2", decimals and initials);
abbreviation definitions from the Schwartz-Hearst algorithm (``abbreviations`` package), applied to the document
they were defined in only, so "HA" means hyaluronic acid where a text says "hyaluronic acid (HA)" and nothing
elsewhere.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from ..errors import InvalidInput

__all__ = [
    "MAX_SENTENCE_CHARS",
    "MAX_EVIDENCE_CHARS",
    "Token",
    "check_text",
    "split_sentences",
    "tokenise",
    "abbreviations",
    "cap_evidence",
]

# Longest run without a sentence end (., !, ?, ;) or line break that is still read as prose. Real sentences stay
# far below it (the longest sentences in scientific writing are a few hundred characters); past it the input is a
# table dump, a base64 blob or a single-line file, which no sentence model can split.
MAX_SENTENCE_CHARS = 20_000
MAX_EVIDENCE_CHARS = 1_000
_BREAKS = re.compile(r"[.!?;\n]")
SURROGATE = re.compile("[\ud800-\udfff]")  # unpaired surrogates: str values with no UTF-8 form


def check_text(text: str, field: str = "text") -> None:
    """Refuse text that is not prose: NUL bytes (binary data) or a run with no sentence break.

    Raises
    ------
    InvalidInput
        One line naming ``field``, the reason and the character offset.
    """
    nul = text.find("\x00")
    if nul >= 0:
        raise InvalidInput(field, f"contains a NUL byte at character {nul}: binary data, not text")
    bad = SURROGATE.search(text)
    if bad is not None:
        raise InvalidInput(field, f"contains an unpaired surrogate at character {bad.start()}: not valid Unicode text")
    pos = 0
    for m in _BREAKS.finditer(text):
        if m.start() - pos > MAX_SENTENCE_CHARS:
            break
        pos = m.end()
    else:
        if len(text) - pos <= MAX_SENTENCE_CHARS:
            return
    raise InvalidInput(
        field,
        f"no sentence break in more than {MAX_SENTENCE_CHARS:,} characters from character {pos}: "
        "not splittable into sentences",
    )


@functools.lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


_WINDOW = 4_000  # characters given to pysbd at once: its time grows with the square of its input's length


def _segment(line: str) -> list[tuple[int, int]]:
    """pysbd's sentence spans of one line, segmented in windows so a long paragraph costs linear time: every
    sentence of a window but the last (which the window may cut) is kept, and the next window starts at that last
    sentence. A sentence longer than a window is cut at the window's end."""
    out: list[tuple[int, int]] = []
    pos = 0
    while pos < len(line):
        window = line[pos : pos + _WINDOW]
        spans = [(s.start, s.end) for s in _segmenter().segment(window)]
        if pos + _WINDOW >= len(line):
            out += [(pos + a, pos + b) for a, b in spans]
            break
        if len(spans) <= 1:
            out.append((pos, pos + len(window)))
            pos += len(window)
            continue
        out += [(pos + a, pos + b) for a, b in spans[:-1]]
        pos += spans[-1][0]
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text`` (pysbd), trailing whitespace excluded.

    Line breaks are hard breaks (headings, list items); each line is segmented on its own.
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        if not line.group().strip():
            continue
        for s0, s1 in _segment(line.group()):
            a, b = line.start() + s0, line.start() + s1
            while b > a and text[b - 1].isspace():
                b -= 1
            while a < b and text[a].isspace():
                a += 1
            if b > a:
                spans.append((a, b))
    return spans


def cap_evidence(text: str, limit: int = MAX_EVIDENCE_CHARS) -> str:
    """``text`` itself when at most ``limit`` characters, else its head and tail around an ellipsis."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


@dataclass(frozen=True)
class Token:
    """A word or punctuation mark of a sentence, with its span in the sentence."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


# A word: letters/digits with inner hyphens, slashes, apostrophes, dots between digits, bracketed oxidation states or
# substituents ("cerium(IV)", "poly(caprolactone)"), a trailing charge ("Ce3+"). Punctuation marks are their own
# tokens so that clause structure stays visible.
_WORD = r"\w+(?:(?:[-‐/'′]|\.(?=\d))\w+|\(\w[\w ,\-‐]*\)\w*)*(?:\d?[+−-](?![\w]))?"
_TOKEN = re.compile(rf"{_WORD}|[,;:()\[\]]")


def tokenise(sentence: str) -> list[Token]:
    """Word and punctuation tokens of a sentence."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(sentence)]


def abbreviations(text: str) -> dict[str, str]:
    """Abbreviation → long form, for the pairs ``long form (ABBR)`` that ``text`` itself defines.

    A definition whose long form does not start with the abbreviation's first letter is dropped (Schwartz-Hearst
    already demands that the letters occur in order).
    """
    from abbreviations import schwartz_hearst

    logging.getLogger("abbreviations").setLevel(logging.ERROR)
    pairs = schwartz_hearst.extract_abbreviation_definition_pairs(doc_text=text)
    out = {}
    for abbr, long in pairs.items():
        long = " ".join(long.split())
        if abbr and long and long[0].lower() == abbr[0].lower() and len(long) > len(abbr):
            out[abbr] = long
    return out
