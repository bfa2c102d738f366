"""Token pooling: fewer vectors per document, by merging similar token vectors.

A document's token vectors are grouped by hierarchical clustering (Ward's method, scipy's
``linkage`` and ``fcluster``), into at most ``max(1, d // pool_factor)`` clusters, and each
cluster is replaced by the mean of its vectors (Clavié et al. 2024, arXiv 2409.14683, found
hierarchical clustering the best of the pooling methods they tried). For unit-length vectors the
squared Euclidean distance is ``2 - 2 * cosine``, so tokens that point the same way merge first.

- ``cluster_means(V, labels)[c] = mean of V[t] over the t with labels[t] == c-th smallest label``
- ``pool_document(D, f)``: ``(m, dim)`` with ``m <= max(1, d // f)`` (``m = d`` when ``f = 1``)
- ``pool_corpus(corpus, f)``: :func:`pool_document` applied to every document of a ``PackedCorpus``

The means are not rescaled to length 1: a merged vector is a little shorter than its members
(the more they differ, the shorter), so a cluster of dissimilar tokens matches queries less strongly.
"""

from __future__ import annotations

import numbers

import numpy as np

from course_utils.scoring.maxsim import PackedCorpus, as_token_vectors

__all__ = ["cluster_means", "pool_corpus", "pool_document"]


def cluster_means(vectors, labels) -> np.ndarray:
    """The mean vector of each cluster.

    Args:
        vectors: ``(n, dim)`` token vectors.
        labels: ``(n,)`` cluster label of each vector (any integers).

    Returns:
        float32 ``(n_clusters, dim)`` array ``M``; row ``c`` is the mean of the vectors whose label
        is the ``c``-th smallest distinct label.

    Raises:
        ValueError: ``labels`` is not one integer label per vector.
    """
    vectors = as_token_vectors(vectors, "vectors")
    labels = np.asarray(labels)
    if labels.shape != (len(vectors),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {len(vectors)} integers, one per vector, got shape {labels.shape} "
                         f"of {labels.dtype}")
    distinct, which = np.unique(labels, return_inverse=True)
    sums = np.zeros((len(distinct), vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, which, vectors)
    return (sums / np.bincount(which)[:, None]).astype(np.float32)


def _check_factor(pool_factor) -> int:
    if isinstance(pool_factor, bool) or not isinstance(pool_factor, numbers.Integral):
        raise TypeError(f"pool_factor must be a whole number, got {pool_factor!r}")
    if pool_factor < 1:
        raise ValueError(f"pool_factor must be at least 1 (1 keeps every vector), got {pool_factor}")
    return int(pool_factor)


def pool_document(vectors, pool_factor: int) -> np.ndarray:
    """Merge a document's token vectors into at most ``max(1, d // pool_factor)`` cluster means.

    Args:
        vectors: ``(d, dim)`` token vectors of one document.
        pool_factor: 2 keeps about half the vectors, 3 a third, 4 a quarter; 1 keeps them all.

    Returns:
        float32 ``(m, dim)``: :func:`cluster_means` of the clusters that Ward's hierarchical
        clustering finds when cut into at most ``max(1, d // pool_factor)`` clusters (fewer only
        when vectors are identical). With ``pool_factor`` 1 or a single vector: the vectors unchanged.

    Raises:
        TypeError: ``pool_factor`` is not a whole number. ValueError: it is < 1, or ``vectors``
        is not a valid ``(d, dim)`` array.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    factor = _check_factor(pool_factor)
    vectors = as_token_vectors(vectors, "vectors")
    target = max(1, len(vectors) // factor)
    if target >= len(vectors):
        return vectors.copy()
    tree = linkage(vectors.astype(np.float64), method="ward")
    return cluster_means(vectors, fcluster(tree, t=target, criterion="maxclust"))


def pool_corpus(corpus, pool_factor: int) -> PackedCorpus:
    """:func:`pool_document` of every document.

    Args:
        corpus: a ``PackedCorpus`` or a list of ``(d_k, dim)`` arrays.
        pool_factor: as in :func:`pool_document`.

    Returns:
        a new ``PackedCorpus`` whose document ``k`` is ``pool_document(corpus.document(k), pool_factor)``.
    """
    factor = _check_factor(pool_factor)
    corpus = PackedCorpus.from_documents(corpus)
    return PackedCorpus.from_documents([pool_document(corpus.document(k), factor) for k in range(len(corpus))])
