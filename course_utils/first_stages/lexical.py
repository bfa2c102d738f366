"""BM25 over fastembed's sparse vectors, in numpy: the IDF the engine applies, and the terms texts share.

fastembed's ``Qdrant/bm25`` gives every passage a sparse vector of (term id, term weight) pairs and
every query the weight 1 per term; the inverse document frequency needs the whole collection, so
the search engine applies it (``Modifier.IDF`` in Qdrant)::

    idf(t) = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))       N passages, n(t) of them contain t
    score(q, d) = sum over the query's terms t in d of idf(t) * weight(t, d)

:class:`Bm25Index` computes the same scores as Qdrant for every passage at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Bm25Index", "shared_terms"]


def _term_ids(vector, name: str) -> np.ndarray:
    indices = getattr(vector, "indices", None)
    if indices is None:
        raise TypeError(f"{name} must be a fastembed SparseEmbedding (with .indices and .values), "
                        f"got {type(vector).__name__}")
    return np.asarray(indices, dtype=np.int64)


class Bm25Index:
    """The passages' BM25 weights as a dense ``(passages, terms)`` matrix, and the IDF of each term.

    Args:
        passages: ``n`` fastembed ``SparseEmbedding`` (from ``SparseTextEmbedding.embed``).

    Attributes:
        weights: float64 ``(n, terms)``: the weight of each term (column) in each passage (row), 0 if absent.
        idf: float64 ``(terms,)``: Qdrant's IDF of each column over these ``n`` passages.
        columns: ``{term id: column}``.

    Raises:
        ValueError: no passages; TypeError: an entry is not a sparse vector.

    >>> from fastembed import SparseEmbedding
    >>> index = Bm25Index([SparseEmbedding(indices=np.array([1, 2]), values=np.array([1.0, 0.5])),
    ...                    SparseEmbedding(indices=np.array([2]), values=np.array([1.0]))])
    >>> index.scores(SparseEmbedding(indices=np.array([1, 9]), values=np.array([1.0, 1.0]))).round(4).tolist()
    [0.6931, 0.0]
    """

    def __init__(self, passages: Sequence):
        if isinstance(passages, (str, bytes)) or len(passages) == 0:
            raise ValueError("passages is empty: give the fastembed sparse vectors of every passage")
        ids = [_term_ids(v, f"passages[{i}]") for i, v in enumerate(passages)]
        self.columns = {int(t): c for c, t in enumerate(sorted({int(t) for row in ids for t in row}))}
        self.weights = np.zeros((len(passages), len(self.columns)))
        for row, (terms, vector) in enumerate(zip(ids, passages)):
            self.weights[row, [self.columns[int(t)] for t in terms]] = np.asarray(vector.values, dtype=float)
        containing = (self.weights > 0).sum(axis=0)
        self.idf = np.log(1 + (len(passages) - containing + 0.5) / (containing + 0.5))

    def __len__(self) -> int:
        return self.weights.shape[0]

    def scores(self, query) -> np.ndarray:
        """float64 ``(n,)`` BM25 score of every passage for one fastembed query vector (0: no shared term)."""
        columns = [self.columns[int(t)] for t in _term_ids(query, "query") if int(t) in self.columns]
        return self.weights[:, columns] @ self.idf[columns]


def shared_terms(query, passage) -> set[int]:
    """The term ids (stemmed words, stop words dropped) two fastembed sparse vectors have in common."""
    return {int(t) for t in _term_ids(query, "query")} & {int(t) for t in _term_ids(passage, "passage")}
