"""Token-level candidates: ColBERT's original end-to-end retrieval, before centroids.

Every token vector of the corpus sits in one matrix ``V`` (``(T, dim)``, a PackedCorpus's
``vectors``). For each query token, its ``k`` nearest token vectors (highest dot product) are found;
the passages that own them are the candidates, then scored exactly.

- ``nearest_tokens(Q, V, k)[i]``: the rows of the ``k`` highest ``dot(Q[i], V[t])``, best first;
- ``owners(rows, offsets)``: the passage of each row, ``searchsorted(offsets, row, "right") - 1``.

>>> offsets = np.array([0, 3, 5, 9])
>>> owners(np.array([0, 2, 3, 8]), offsets)
array([0, 0, 1, 2])
"""

from __future__ import annotations

import numpy as np

from course_utils.scoring.maxsim import PackedCorpus, as_token_vectors

__all__ = ["nearest_tokens", "owners", "token_candidates"]


def nearest_tokens(query, corpus: PackedCorpus, k: int) -> np.ndarray:
    """int64 ``(q, min(k, T))``: for each query token the rows of its ``k`` nearest corpus tokens, best first.

    Raises:
        ValueError: ``k < 1``; a bad query or a dimension mismatch.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    query = as_token_vectors(query, "query", corpus.dim)
    sims = query @ corpus.vectors.T                                    # (q, T)
    k = min(int(k), sims.shape[1])
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int64)


def owners(rows, offsets) -> np.ndarray:
    """int64: the passage owning each token row (``offsets`` as in a PackedCorpus)."""
    return np.searchsorted(np.asarray(offsets), np.asarray(rows), side="right").astype(np.int64) - 1


def token_candidates(query, corpus: PackedCorpus, k: int) -> np.ndarray:
    """int64 passages (increasing) owning at least one of the query tokens' ``k`` nearest token vectors."""
    return np.unique(owners(nearest_tokens(query, corpus, k), corpus.offsets))
