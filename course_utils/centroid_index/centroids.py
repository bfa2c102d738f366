"""Centroids of a corpus's token vectors: how many, k-means on a sample, and each token's nearest one.

Notation: ``V`` is the ``(n_tokens, dim)`` float32 matrix of every token vector of a corpus (a
:class:`~course_utils.scoring.maxsim.PackedCorpus`'s ``vectors``), ``C`` the ``(k, dim)`` centroids.

- ``n_centroids_for(n) = 2 ** floor(log2(16 * sqrt(n)))``: PLAID's rule, a power of two near
  16 x sqrt(tokens);
- ``kmeans(V, k)``: Lloyd's k-means by dot product on unit vectors (*spherical* k-means), as
  ColBERTv2 runs faiss's: assign every vector to the centroid of highest ``dot(v, c)``, move each
  centroid to the normalised mean of its vectors, repeat;
- ``nearest_centroids(V, C)[t] = argmax_c dot(V[t], C[c])`` (first on ties), in bounded memory.

Why our own k-means and not faiss's or scipy's: faiss-cpu would be a new dependency of the course
(and a heavy one on Colab) for one function; ``scipy.cluster.vq.kmeans2`` measures Euclidean
distances in a C loop without BLAS, several times slower here than one matrix product per step,
and it does not normalise the centroids. Thirty lines of numpy do what ColBERT does and can be read.

>>> V = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]], dtype=np.float32)
>>> C = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
>>> nearest_centroids(V, C)
array([0, 0, 1, 1], dtype=int32)
>>> n_centroids_for(6_000_000)       # 16 * sqrt(6e6) = 39,192 -> 32,768
32768
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.scoring.maxsim import as_token_vectors

__all__ = ["ASSIGN_BLOCK_ROWS", "kmeans", "n_centroids_for", "nearest_centroids", "sample_rows"]

#: Token vectors assigned per matrix product: bounds the (rows, k) score block held at once.
ASSIGN_BLOCK_ROWS = 16_384


def n_centroids_for(n_tokens: int) -> int:
    """PLAID's number of centroids for ``n_tokens`` token vectors: ``2 ** floor(log2(16 * sqrt(n_tokens)))``.

    Raises:
        ValueError: ``n_tokens < 1``.
    """
    if not isinstance(n_tokens, (int, np.integer)) or n_tokens < 1:
        raise ValueError(f"n_tokens must be a positive whole number, got {n_tokens!r}")
    return 2 ** int(math.floor(math.log2(16 * math.sqrt(n_tokens))))


def _positive_int(value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def nearest_centroids(vectors, centroids, *, block_rows: int = ASSIGN_BLOCK_ROWS) -> np.ndarray:
    """Index of the centroid with the highest dot product, for every token vector.

    Args:
        vectors: ``(n, dim)`` token vectors.
        centroids: ``(k, dim)`` centroids.
        block_rows: rows scored per matrix product (memory: ``block_rows * k`` float32).

    Returns:
        int32 ``(n,)`` with ``codes[t] = argmax_c dot(vectors[t], centroids[c])``, the lowest ``c`` on ties.

    Raises:
        ValueError: empty, non-finite or not 2-D input; a dimension mismatch (names the argument).
    """
    centroids = as_token_vectors(centroids, "centroids")
    vectors = as_token_vectors(vectors, "vectors", centroids.shape[1])
    block_rows = _positive_int(block_rows, "block_rows")
    codes = np.empty(len(vectors), dtype=np.int32)
    centroids_t = np.ascontiguousarray(centroids.T)
    for start in range(0, len(vectors), block_rows):
        codes[start:start + block_rows] = (vectors[start:start + block_rows] @ centroids_t).argmax(axis=1)
    return codes


def sample_rows(n_rows: int, size: int, seed: int = 0) -> np.ndarray:
    """``min(size, n_rows)`` distinct row indices drawn at random (seeded), in increasing order."""
    rng = np.random.default_rng(seed)
    if size >= n_rows:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def kmeans(vectors, k: int, *, iterations: int = 10, sample: int | None = None, seed: int = 0) -> np.ndarray:
    """Spherical k-means: ``k`` unit centroids of (a sample of) the token vectors.

    Starts from ``k`` distinct vectors of the sample drawn at random, then ``iterations`` rounds of
    Lloyd's algorithm by dot product; a centroid left with no vector keeps its place.

    Args:
        vectors: ``(n, dim)`` token vectors (unit length, as ColBERT's are).
        k: number of centroids, at most the sample's size.
        iterations: Lloyd rounds (PLAID's default is 20; 10 is within a few hundredths of its
            objective here).
        sample: train on this many rows drawn at random (PLAID trains on a sample); all rows if None.
        seed: the random draws.

    Returns:
        float32 ``(k, dim)`` unit-length centroids.

    Raises:
        ValueError: ``k < 1``, ``iterations < 1``, ``k`` larger than the sample, or bad ``vectors``.
    """
    vectors = as_token_vectors(vectors, "vectors")
    k = _positive_int(k, "k")
    iterations = _positive_int(iterations, "iterations")
    rows = sample_rows(len(vectors), _positive_int(sample, "sample") if sample is not None else len(vectors), seed)
    training = vectors[rows]
    if k > len(training):
        raise ValueError(f"k ({k}) must be at most the number of training vectors ({len(training)}): "
                         "lower k or give more vectors")
    rng = np.random.default_rng(seed + 1)
    centroids = training[np.sort(rng.choice(len(training), size=k, replace=False))].copy()
    for _ in range(iterations):
        codes = nearest_centroids(training, centroids)
        sums = np.zeros_like(centroids, dtype=np.float64)
        _add_rows(sums, codes, training)
        norms = np.linalg.norm(sums, axis=1)
        filled = norms > 0
        centroids[filled] = (sums[filled] / norms[filled, None]).astype(np.float32)
    return centroids


def _add_rows(sums: np.ndarray, codes: np.ndarray, rows: np.ndarray) -> None:
    """``sums[c] += rows[codes == c]`` for every ``c``, by sorting once (faster than ``np.add.at``)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sums[sorted_codes[starts]] += np.add.reduceat(rows[order].astype(np.float64), starts, axis=0)
