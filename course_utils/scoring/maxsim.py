"""MaxSim, the late-interaction score, for one document or a whole corpus.

Notation used in every docstring: a query is a ``(q, dim)`` array of token
vectors ``Q``, a document a ``(d, dim)`` array ``D`` (what fastembed's
``query_embed`` and ``passage_embed`` yield, float32).

- ``similarity_matrix(Q, D)[i, j] = dot(Q[i], D[j])``
- ``maxsim(Q, D) = sum_i max_j dot(Q[i], D[j])``
- ``token_alignment(Q, D)``: for each query token ``i``, ``argmax_j`` and ``max_j``
- ``score_corpus(Q, corpus)[k] = maxsim(Q, corpus[k])`` for every document ``k``,
  computed chunk by chunk over a :class:`PackedCorpus` with no Python loop per document.

Bad input raises ``ValueError`` naming the argument: wrong number of
dimensions, mismatched embedding sizes, an empty query, document or corpus,
NaN or infinity; ``TypeError`` when it is not numbers at all.

>>> Q = np.array([[1.0, 0.0], [0.0, 1.0]])            # 2 query tokens, dim 2
>>> D = np.array([[1.0, 0.0], [0.6, 0.8]])            # 2 document tokens
>>> similarity_matrix(Q, D)
array([[1. , 0.6],
       [0. , 0.8]], dtype=float32)
>>> round(maxsim(Q, D), 4)                            # 1.0 (best of row 0) + 0.8 (best of row 1)
1.8
>>> token_alignment(Q, D).document_index              # which document token each query token matched
array([0, 1])
>>> score_corpus(Q, [D, np.array([[0.0, 1.0]])])      # one score per document
array([1.8, 1. ], dtype=float32)
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

__all__ = ["BLOCK_BYTES", "CACHE_BYTES", "FEW_QUERY_TOKENS", "SMALL_PRODUCT", "PackedCorpus", "TokenAlignment",
           "as_token_vectors", "maxsim", "score_corpus", "score_in_chunks", "score_queries", "similarity_matrix",
           "token_alignment", "top_k"]

#: Largest similarity block (in bytes) one worker holds at a time while scoring a corpus.
BLOCK_BYTES = 8 * 1024 * 1024
#: Up to this many query tokens, a chunk's similarities are laid out (chunk tokens, query tokens)
#: and kept small enough for a core's cache; above it, (query tokens, chunk tokens).
FEW_QUERY_TOKENS = 64
#: Similarity block (in bytes) of a chunk when the query tokens are few: it stays in a core's cache.
CACHE_BYTES = 512 * 1024
#: OpenBLAS has a faster kernel for products of at most about this many multiply-adds.
SMALL_PRODUCT = 1_000_000


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (looked up once: the lookup takes about a millisecond)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def as_token_vectors(array, name: str = "array", dim: int | None = None) -> np.ndarray:
    """Check one query or document and return it as a C-contiguous float32 ``(n, dim)`` array.

    Args:
        array: array-like of shape ``(n_tokens, dim)``.
        name: the argument's name, used in error messages.
        dim: the embedding size it must have, if known.

    Raises:
        ValueError: not 2-D, no tokens, a different ``dim``, NaN or infinity.
        TypeError: not numbers.
    """
    try:
        vectors = np.asarray(array)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise ValueError(f"{name} must be a 2-D array of token vectors; it could not be made into one: "
                         f"{error}") from None
    if vectors.dtype == object or not (np.issubdtype(vectors.dtype, np.number) or vectors.dtype == bool):
        raise TypeError(f"{name} must hold numbers, not {vectors.dtype} values")
    if vectors.ndim != 2:
        hint = (" (a single vector: use array[None, :] to make it one token)" if vectors.ndim == 1 else
                " (a batch of several texts: pass one text at a time, or use score_queries)" if vectors.ndim == 3
                else "")
        raise ValueError(f"{name} must be 2-D (tokens, dim), got {vectors.ndim}-D with shape {vectors.shape}{hint}")
    if vectors.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no token vectors (shape {vectors.shape})")
    if vectors.shape[1] == 0:
        raise ValueError(f"{name} has token vectors of size 0 (shape {vectors.shape})")
    if dim is not None and vectors.shape[1] != dim:
        raise ValueError(f"{name} has token vectors of size {vectors.shape[1]}, but {dim} was expected: "
                         "query and documents must come from the same model")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if not np.isfinite(vectors).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return vectors


def similarity_matrix(query, document) -> np.ndarray:
    """All token-to-token dot products of a query and a document.

    Args:
        query: ``(q, dim)`` token vectors.
        document: ``(d, dim)`` token vectors.

    Returns:
        float32 ``(q, d)`` array ``S`` with ``S[i, j] = dot(query[i], document[j])``.
    """
    q = as_token_vectors(query, "query")
    d = as_token_vectors(document, "document", q.shape[1])
    return q @ d.T


def maxsim(query, document) -> float:
    """MaxSim(Q, D): for each query token its best dot product with any document token, summed.

    Returns:
        ``sum_i max_j dot(query[i], document[j])`` as a Python float.
    """
    return float(similarity_matrix(query, document).max(axis=1).sum())


class TokenAlignment(NamedTuple):
    """Which document token each query token matched best, and how well."""

    document_index: np.ndarray
    """int64 ``(q,)``: ``document_index[i] = argmax_j dot(query[i], document[j])`` (first on ties)."""
    score: np.ndarray
    """float32 ``(q,)``: ``score[i] = max_j dot(query[i], document[j])``; ``score.sum()`` is MaxSim."""


def token_alignment(query, document) -> TokenAlignment:
    """For each query token, the index and similarity of its best-matching document token.

    Returns:
        :class:`TokenAlignment` of two ``(q,)`` arrays.
    """
    sims = similarity_matrix(query, document)
    best = sims.argmax(axis=1)
    return TokenAlignment(best, sims[np.arange(len(best)), best])


class PackedCorpus:
    """Many documents' token vectors in one array, as a search engine stores them.

    Attributes:
        vectors: float32 ``(n_tokens, dim)``, every document's rows one after another.
        offsets: int64 ``(n_documents + 1,)``; document ``k`` is
            ``vectors[offsets[k]:offsets[k + 1]]``.
    """

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray):
        self.vectors = vectors
        self.offsets = offsets

    @classmethod
    def from_documents(cls, documents: Sequence) -> PackedCorpus:
        """Pack a list of ``(d_k, dim)`` arrays (fastembed's ``passage_embed`` output).

        Raises:
            ValueError: an empty corpus; a document that is not 2-D, empty, of
                another ``dim`` than the first, or not finite (its index is named).
        """
        if isinstance(documents, PackedCorpus):
            return documents
        if isinstance(documents, np.ndarray) and documents.ndim == 2:
            raise ValueError("documents must be a list of 2-D arrays, one per document, not one 2-D array "
                             "(wrap a single document as [document])")
        documents = list(documents)
        if not documents:
            raise ValueError("documents is empty: a corpus needs at least one document")
        first = as_token_vectors(documents[0], "documents[0]")
        dim = first.shape[1]
        checked = [first] + [as_token_vectors(d, f"documents[{k}]", dim) for k, d in enumerate(documents[1:], 1)]
        lengths = np.array([len(d) for d in checked], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return cls(np.concatenate(checked, axis=0), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def dim(self) -> int:
        """Size of each token vector."""
        return self.vectors.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        """int64 ``(n_documents,)``: number of token vectors of each document."""
        return np.diff(self.offsets)

    @property
    def nbytes(self) -> int:
        """Bytes held by the token vectors and the offsets."""
        return self.vectors.nbytes + self.offsets.nbytes

    def document(self, k: int) -> np.ndarray:
        """The ``(d_k, dim)`` token vectors of document ``k`` (a view, not a copy)."""
        return self.vectors[self.offsets[k]:self.offsets[k + 1]]

    def chunks(self, max_tokens: int) -> list[tuple[int, int]]:
        """Split the documents into runs ``(first, stop)`` of about ``max_tokens`` rows.

        Each chunk holds whole documents; a document longer than ``max_tokens``
        gets a chunk of its own.
        """
        bounds = [0]
        n = len(self)
        while bounds[-1] < n:
            start = bounds[-1]
            stop = int(np.searchsorted(self.offsets, self.offsets[start] + max_tokens, side="right")) - 1
            bounds.append(min(max(stop, start + 1), n))
        return list(zip(bounds[:-1], bounds[1:]))

    def __repr__(self) -> str:
        return (f"PackedCorpus({len(self)} documents, {len(self.vectors)} token vectors of dim {self.dim}, "
                f"{self.nbytes / 2**20:.1f} MiB)")


def _packed_queries(queries, dim: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack queries into one ``(sum q_i, dim)`` array and their row offsets ``(n_queries,)``."""
    if isinstance(queries, np.ndarray) and queries.ndim == 3:
        queries = list(queries)
    if isinstance(queries, np.ndarray):
        raise ValueError("queries must be a list of (q, dim) arrays or one (n_queries, q, dim) array")
    if not isinstance(queries, (list, tuple)):
        raise TypeError("queries must be a list of (q, dim) arrays or one (n_queries, q, dim) array")
    if not queries:
        raise ValueError("queries is empty: give at least one query")
    checked = [as_token_vectors(q, f"queries[{i}]", dim) for i, q in enumerate(queries)]
    if dim is None:
        for i, q in enumerate(checked[1:], 1):
            if q.shape[1] != checked[0].shape[1]:
                raise ValueError(f"queries[{i}] has token vectors of size {q.shape[1]}, queries[0] of size "
                                 f"{checked[0].shape[1]}: all queries must come from the same model")
    starts = np.cumsum([0] + [len(q) for q in checked[:-1]]).astype(np.int64)
    return np.concatenate(checked, axis=0), starts


def _chunk_tokens(n_query_tokens: int) -> int:
    """Corpus tokens per chunk: as many as fit the similarity block (at least 1)."""
    budget = min(BLOCK_BYTES, CACHE_BYTES) if n_query_tokens <= FEW_QUERY_TOKENS else BLOCK_BYTES
    return max(1, budget // (4 * n_query_tokens))


def _score_chunk(corpus: PackedCorpus, first: int, stop: int, queries: np.ndarray, query_starts: np.ndarray,
                 out: np.ndarray, block: np.ndarray) -> None:
    """MaxSim of every query against documents ``first:stop``, written into ``out[:, first:stop]``.

    1. Matrix products: the similarity of every token of the chunk with every query token.
    2. A segment-wise max over each document's tokens: each query token's best match in each document.
    3. Each query's best matches added up: its MaxSim with each document.

    ``block`` is the worker's own float32 buffer; the similarities are written into it (``out=``),
    so nothing is allocated per chunk.
    """
    offsets = corpus.offsets[first:stop + 1]
    tokens = corpus.vectors[offsets[0]:offsets[-1]]                    # (chunk tokens, dim)
    starts = offsets[:-1] - offsets[0]                                 # each document's first row
    rows, columns, dim = len(tokens), len(queries), corpus.dim
    if columns <= FEW_QUERY_TOKENS:
        # one query: a tall, narrow block (chunk tokens, query tokens), computed as a stack of small
        # products (one numpy call, one BLAS call per `step` rows), and a max down each document's rows
        sims = block[:rows * columns].reshape(rows, columns)
        queries_t = np.ascontiguousarray(queries.T)                    # (dim, query tokens)
        step = max(1, SMALL_PRODUCT // (columns * dim))
        whole = rows - rows % step
        np.matmul(tokens[:whole].reshape(-1, step, dim), queries_t, out=sims[:whole].reshape(-1, step, columns))
        np.matmul(tokens[whole:], queries_t, out=sims[whole:])
        best = np.maximum.reduceat(sims, starts, axis=0).T            # (query tokens, documents)
    else:
        # many queries: (query tokens, chunk tokens), so that each max runs along contiguous memory
        sims = np.matmul(queries, tokens.T, out=block[:columns * rows].reshape(columns, rows))
        best = np.maximum.reduceat(sims, starts, axis=1)              # (query tokens, documents)
    out[:, first:stop] = np.add.reduceat(best, query_starts, axis=0)  # (queries, documents)


def score_queries(queries, corpus, *, workers: int | None = None) -> np.ndarray:
    """MaxSim of each query against every document of a corpus.

    Args:
        queries: a list of ``(q_i, dim)`` arrays, or one ``(n_queries, q, dim)`` array.
        corpus: a :class:`PackedCorpus`, or a list of ``(d_k, dim)`` arrays (packed here;
            pack once with ``PackedCorpus.from_documents`` when scoring many times).
        workers: threads to split the chunks over (default: the machine's cores).

    Returns:
        float32 ``(n_queries, n_documents)`` array ``R`` with
        ``R[i, k] = maxsim(queries[i], corpus.document(k))``.

    Memory beyond the corpus and the result is bounded: each worker holds one
    similarity block of at most about ``BLOCK_BYTES`` at a time (more only when a
    single document is longer than a chunk).
    """
    return score_in_chunks(queries, corpus, workers=workers)


def score_in_chunks(queries, corpus, *, workers: int | None = None,
                    score_chunk: Callable[..., None] | None = None) -> np.ndarray:
    """:func:`score_queries` with a replaceable step: ``score_chunk`` scores one chunk of documents.

    ``score_chunk(corpus, first, stop, stacked_queries, query_starts, out, block)`` must write the
    scores of documents ``first:stop`` into ``out[:, first:stop]``, using the float32 buffer ``block``;
    the default is the course's MaxSim. The benchmark passes one that does only the matrix
    products, to time them in the same chunks, buffers and threads.

    Returns:
        float32 ``(n_queries, n_documents)`` array ``out``, as ``score_chunk`` filled it.
    """
    score_chunk = score_chunk or _score_chunk
    corpus = PackedCorpus.from_documents(corpus)
    stacked, starts = _packed_queries(queries, corpus.dim)
    out = np.empty((len(starts), len(corpus)), dtype=np.float32)
    chunk_tokens = _chunk_tokens(len(stacked))
    chunks = corpus.chunks(chunk_tokens)
    block_size = max(chunk_tokens, int(corpus.lengths.max())) * len(stacked)
    workers = min(workers or os.cpu_count() or 1, len(chunks))
    remaining = iter(chunks)
    lock = threading.Lock()

    def work() -> None:  # take the next chunk until none is left: a busy core simply takes fewer
        block = np.empty(block_size, dtype=np.float32)
        while True:
            with lock:
                chunk = next(remaining, None)
            if chunk is None:
                return
            score_chunk(corpus, *chunk, stacked, starts, out, block)

    if workers <= 1:
        work()
    else:
        # the matrix products are small: one BLAS thread per worker is fastest
        with _blas_controller().limit(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
            for done in [pool.submit(work) for _ in range(workers)]:
                done.result()
    return out


def score_corpus(query, corpus, *, workers: int | None = None) -> np.ndarray:
    """MaxSim of one query against every document of a corpus.

    Args:
        query: ``(q, dim)`` token vectors.
        corpus: a :class:`PackedCorpus` or a list of ``(d_k, dim)`` arrays.

    Returns:
        float32 ``(n_documents,)`` array ``r`` with ``r[k] = maxsim(query, corpus.document(k))``.
    """
    return score_queries([as_token_vectors(query, "query")], corpus, workers=workers)[0]


def top_k(scores, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties go to the lower index.

    Args:
        scores: ``(n,)`` scores.
        k: how many to return (at most ``n``).

    Returns:
        int64 ``(min(k, n),)`` indices.

    Raises:
        ValueError: ``scores`` is not a non-empty 1-D array, or ``k < 1``.
        TypeError: ``k`` is not a whole number.
    """
    scores = np.asarray(scores)
    if scores.ndim != 1 or len(scores) == 0:
        raise ValueError(f"scores must be a non-empty 1-D array, got shape {scores.shape}")
    if not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be a positive whole number, got {k!r}")
    if k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    order = np.lexsort((np.arange(len(scores)), -scores.astype(np.float64)))
    return order[:k]
