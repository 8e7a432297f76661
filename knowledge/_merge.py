"""Node merging: names of one concept written differently ("cerium oxide nanoparticles", "CeO₂ nanoparticles") mapped
to one name before they become nodes.

As in the HyperGraphReasoning pipeline (Buehler et al.), names whose embeddings have cosine similarity above a
threshold in 0.9–0.95 are merged; embeddings come from the endpoint's ``/v1/embeddings``. Without one, character
n-gram TF-IDF vectors (scikit-learn, 3–5-grams within word boundaries) stand in, at their own threshold
(:data:`TFIDF_THRESHOLD`): they join inflections, not synonyms. Measured cosines: "chitosan nanoparticles" /
"chitosan nanoparticle" 0.886, "aluminium oxide" / "aluminum oxide" 0.663, "chitosan" / "chitosan nanoparticle" 0.572.
Clusters are the connected components of the above-threshold graph; each cluster's name is its most frequent member
(ties: the shortest, then alphabetical), so the result does not depend on input order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..errors import ExtractionFailed, InvalidInput
from ..settings import Settings
from ._llm import embed

__all__ = ["MERGE_THRESHOLD", "TFIDF_THRESHOLD", "merge_names", "tfidf_vectors"]

MERGE_THRESHOLD = 0.93  # embeddings: the paper's range is 0.9-0.95
TFIDF_THRESHOLD = 0.85  # character n-grams score lower than embeddings for the same variant


def tfidf_vectors(names: Sequence[str]) -> np.ndarray:
    """L2-normalised character 3–5-gram TF-IDF vectors of ``names`` (rows)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, sublinear_tf=True)
    return vec.fit_transform(list(names)).toarray()


def _clusters(sim: np.ndarray, threshold: float) -> list[int]:
    """Component label of each row of a similarity matrix, linking pairs with similarity ≥ threshold."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    adj = csr_matrix(np.triu(sim >= threshold, k=1))
    return connected_components(adj, directed=False)[1].tolist()


def merge_names(
    names: Sequence[str],
    *,
    threshold: float = MERGE_THRESHOLD,
    settings: Settings | None = None,
    use_embeddings: bool = True,
) -> tuple[dict[str, str], str]:
    """Map every name to its cluster's name; returns the mapping and the method used (``embeddings`` or
    ``tfidf``).

    Parameters
    ----------
    names
        Entity names as extracted (repeats count towards choosing a cluster's name).
    threshold
        Embedding cosine similarity at or above which two names are one concept; 0.9–0.95 as in the paper (the
        TF-IDF fallback uses :data:`TFIDF_THRESHOLD`).
    use_embeddings
        Ask the configured endpoint for embeddings; falls back to TF-IDF when it has none (or fails).
    """
    if not 0.9 <= threshold <= 0.95:
        raise InvalidInput("threshold", f"merge threshold must lie in [0.9, 0.95], got {threshold}")
    counts = Counter(n for n in names if n.strip())
    unique = sorted(counts)
    if len(unique) < 2:
        return {n: n for n in unique}, "none"
    method = "tfidf"
    vectors = None
    if use_embeddings and settings is not None and settings.llm_configured:
        try:
            vectors = np.asarray(embed(unique, settings=settings), dtype=float)
            method = "embeddings"
        except ExtractionFailed:
            vectors = None  # an endpoint without /v1/embeddings: merge offline
    if vectors is None:
        vectors, threshold = tfidf_vectors(unique), TFIDF_THRESHOLD
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    labels = _clusters(unit @ unit.T, threshold)
    best: dict[int, str] = {}
    for name, lab in zip(unique, labels):
        cur = best.get(lab)
        if cur is None or (-counts[name], len(name), name) < (-counts[cur], len(cur), cur):
            best[lab] = name
    return {name: best[lab] for name, lab in zip(unique, labels)}, method
