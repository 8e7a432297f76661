"""Unsupervised keyphrase ranking of a document's candidate concepts: PositionRank.

PositionRank (Florescu and Caragea, ACL 2017, "PositionRank: An Unsupervised Approach to Keyphrase Extraction from
Scholarly Documents") runs PageRank on the graph of the document's candidate words, linked when they occur within a
small window of each other in a sentence, with a teleport vector that favours words occurring early and often (the
sum of 1/position over a word's occurrences). A phrase scores the sum of its words' scores. The candidates are the
noun phrases the extractor's general rules found; no part-of-speech tagger or vocabulary is involved. PageRank is
networkx's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ._normalise import normalise_text

__all__ = ["WINDOW", "rank_phrases"]

WINDOW = 3  # words linked when at most this many candidate words apart (the paper's best windows are small)
_DAMPING = 0.85


def _words(phrase: str) -> list[str]:
    return [w for w in normalise_text(phrase).split() if w != "of"]


def rank_phrases(sentences: Sequence[Sequence[str]]) -> dict[str, float]:
    """PositionRank score of every candidate phrase of a document, keyed by the phrase as given.

    Parameters
    ----------
    sentences
        The candidate phrases of each sentence, in reading order.

    Returns
    -------
    dict
        Phrase → sum of its words' PageRank scores (the word scores sum to 1 over the document); empty when the
        document has no candidate word.
    """
    import networkx as nx

    graph = nx.Graph()
    teleport: dict[str, float] = defaultdict(float)
    position = 0
    for phrases in sentences:
        seq = [w for p in phrases for w in _words(p)]
        for k, word in enumerate(seq):
            position += 1
            teleport[word] += 1.0 / position
            graph.add_node(word)
            for other in seq[k + 1 : k + WINDOW]:
                if other != word:
                    weight = graph.get_edge_data(word, other, {"weight": 0})["weight"]
                    graph.add_edge(word, other, weight=weight + 1)
    if not graph:
        return {}
    total = sum(teleport.values())
    scores = nx.pagerank(graph, alpha=_DAMPING, personalization={w: v / total for w, v in teleport.items()})
    return {p: sum(scores.get(w, 0.0) for w in _words(p)) for phrases in sentences for p in phrases}
