"""Token-level nearest-neighbour candidates: the classic first stage of late interaction.

MaxSim over whole passages cannot be looked up in an ordinary vector index, but the passages' token
vectors can: put every token vector of the corpus in one index, remembering which passage owns it.
For each query token, fetch its ``per_token`` nearest token vectors; the passages that own them are
the candidates (ColBERT's end-to-end retrieval, the starting point of PLAID, and the baseline that
the MUVERA paper, arXiv 2405.19504, compares against). The candidates are ranked by a partial MaxSim:
for each query token, the best similarity among its retrieved tokens that a passage owns (0 if it
owns none), summed over the query tokens. The exact rerank then scores them with full MaxSim.

Here the nearest tokens are found exactly (one matrix product over the 218-passage corpus); a real
system uses an approximate index (HNSW, IVF) over millions of token vectors.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from course_utils.scoring.maxsim import PackedCorpus, as_token_vectors

__all__ = ["TokenIndex"]


def _nearest(similarity: np.ndarray, fetch: int) -> np.ndarray:
    """int ``(rows, fetch)``: each row's ``fetch`` largest columns; among equal values the lower column first."""
    kth = np.partition(similarity, -fetch, axis=1)[:, -fetch:-fetch + 1 or None]   # (rows, 1) the cut value
    chosen = []
    for row, cut in zip(similarity, kth[:, 0]):
        above = np.flatnonzero(row > cut)
        chosen.append(np.concatenate([above, np.flatnonzero(row == cut)[:fetch - len(above)]]))
    return np.array(chosen, dtype=np.int64)


class TokenIndex:
    """Every token vector of a corpus, with the passage that owns it.

    Args:
        passages: ``n`` arrays ``(tokens_i, dim)``, or a :class:`PackedCorpus`.

    Attributes:
        vectors: float32 ``(total tokens, dim)``; owner: int64 ``(total tokens,)`` passage index of each row.

    >>> index = TokenIndex([np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [0.6, 0.8]])])
    >>> index.candidates(np.array([[1.0, 0.0]]), per_token=2).tolist()
    [0, 1]
    """

    def __init__(self, passages: Sequence | PackedCorpus):
        packed = passages if isinstance(passages, PackedCorpus) else PackedCorpus.from_documents(passages)
        self.vectors = np.asarray(packed.vectors, dtype=np.float32)
        self._vectors64 = self.vectors.astype(np.float64)
        self.owner = np.repeat(np.arange(len(packed), dtype=np.int64), packed.lengths)
        self.n_passages = len(packed)

    def __len__(self) -> int:
        return len(self.owner)

    def candidates(self, query, per_token: int) -> np.ndarray:
        """int64 ``(m,)`` passages owning a query token's ``per_token`` nearest token vectors, best first.

        Args:
            query: ``(query tokens, dim)`` token vectors.
            per_token: nearest token vectors fetched per query token, >= 1 (capped at the index size).

        Returns:
            The union of their owners (``m <= n``), by decreasing partial MaxSim (the sum over query tokens
            of the best retrieved similarity a passage owns), ties: lower passage index first. Equally
            similar token vectors at the ``per_token`` cut: the lower row of the index is fetched.

        Raises:
            ValueError: ``query`` is not 2-D with the index's ``dim``, or ``per_token`` is not a whole number >= 1.
        """
        q = as_token_vectors(query, "query", dim=self.vectors.shape[1])
        if isinstance(per_token, bool) or not isinstance(per_token, numbers.Integral) or per_token < 1:
            raise ValueError(f"per_token must be a whole number >= 1, got {per_token!r}")
        fetch = min(int(per_token), len(self.owner))
        similarity = q.astype(np.float64) @ self._vectors64.T                 # (query tokens, total tokens)
        nearest = _nearest(similarity, fetch)                                  # (query tokens, fetch)
        rows = np.repeat(np.arange(len(q)), fetch)
        owners, values = self.owner[nearest.ravel()], similarity[rows, nearest.ravel()]
        keys = rows * self.n_passages + owners                                 # one key per (query token, passage)
        order = np.lexsort((-values, keys))                                    # each key's best similarity first
        first = order[np.r_[True, keys[order][1:] != keys[order][:-1]]]
        score = np.bincount(owners[first], weights=values[first], minlength=self.n_passages)
        found = np.bincount(owners, minlength=self.n_passages) > 0
        members = np.flatnonzero(found)
        return members[np.lexsort((members, -score[members]))].astype(np.int64)
