"""Binary MaxSim: token vectors stored as one bit per number, searched with exact rescoring.

Notation as in :mod:`course_utils.scoring.maxsim` (a query ``Q`` of shape ``(q, dim)``, a document
``D`` of shape ``(d, dim)``), and for two token vectors ``a`` and ``b``:

- ``bits(a)[t] = 1 if a[t] > 0 else 0``, packed 8 to a byte (``np.packbits``): a ``dim``-number
  vector takes ``ceil(dim / 8)`` bytes instead of ``4 * dim``;
- ``hamming(a, b) = number of t with bits(a)[t] != bits(b)[t]`` (XOR, then count the ones);
- ``binary_similarity(a, b) = dim - 2 * hamming(a, b)``: the dot product of the two ``+1/-1``
  sign vectors, an integer between ``-dim`` and ``dim`` (Qdrant's binary-quantization score for
  the dot product is the same number);
- ``binary_maxsim(Q, D) = sum_i max_j binary_similarity(Q[i], D[j])``;
- :meth:`BinaryCorpus.scores` ``(Q)[k] = binary_maxsim(Q, corpus.document(k))`` for every document;
- :meth:`BinaryCorpus.asymmetric_scores` ``(Q)[k] = sum_i max_j Q[i] . signs(D_k[j])``, with
  ``signs(b)[t] = +1 if b[t] > 0 else -1``: the documents stay 1 bit per number, the query keeps
  its float values (*asymmetric* quantization: Qdrant's ``query_encoding`` option does the same
  with 8-bit queries). It ranks better than binary MaxSim at the same storage;
- :meth:`BinaryCorpus.search` ``(Q, k, oversampling)``: the ``ceil(k * oversampling)`` documents
  with the best binary (or asymmetric) MaxSim (the *candidates*), rescored with exact MaxSim
  (:func:`course_utils.scoring.maxsim.score_corpus`) against the float vectors, best ``k`` of them.

Bad input raises ``TypeError`` (not numbers, not a ``PackedCorpus``) or ``ValueError`` (wrong
shape, NaN or infinity, ``k`` or ``oversampling`` out of range), naming the argument.

Speed, measured (``python -m benchmarks.binary_scorer``, README): in plain numpy, XOR and popcount
took about 0.7x the time of the float32 matrix products of ``score_corpus`` (two runs on the
course's busy 2-core test machine): numpy has no fused XOR-popcount kernel, so every step is a pass
over memory. The 32x memory saving is real; the speed of binary search belongs to engines such as
Qdrant, whose compiled loops compare 128 bits in a few instructions.
"""

from __future__ import annotations

import math
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from course_utils.scoring.maxsim import PackedCorpus, _blas_controller, as_token_vectors, score_corpus, top_k

__all__ = ["BinaryCorpus", "binarize"]

#: Bytes of the XOR block (``(chunk tokens, query tokens)`` uint64 words) one worker holds at a time.
BLOCK_BYTES = 2 * 1024 * 1024

if hasattr(np, "bitwise_count"):  # numpy >= 2.0
    def _popcount(words: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.bitwise_count(words, out=out)
else:  # pragma: no cover - numpy 1.26: count the ones of each byte with a table
    _ONES = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)

    def _popcount(words: np.ndarray, out: np.ndarray) -> np.ndarray:
        per_byte = _ONES[words.view(np.uint8).reshape(*words.shape, 8)]
        return per_byte.sum(axis=-1, dtype=out.dtype, out=out)


def _numeric(array, name: str) -> np.ndarray:
    """``array`` as a numpy array of numbers; ``TypeError`` naming ``name`` otherwise."""
    try:
        values = np.asarray(array)
    except (TypeError, ValueError):
        values = np.asarray(array, dtype=object)
    if values.dtype == object or not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise TypeError(f"{name} must hold numbers (token vectors), not {values.dtype} values")
    return values


def binarize(vectors, name: str = "vectors") -> np.ndarray:
    """The sign bits of token vectors, packed 8 to a byte.

    Args:
        vectors: ``(n, dim)`` token vectors.
        name: the argument's name, for error messages.

    Returns:
        uint8 ``(n, ceil(dim / 8))`` array ``B`` with bit ``t`` of row ``i`` (most significant bit
        first, as ``np.packbits``) equal to ``1 if vectors[i, t] > 0 else 0``.

    Raises:
        TypeError: not numbers. ValueError: not 2-D, empty, NaN or infinity.
    """
    checked = as_token_vectors(_numeric(vectors, name), name)
    return np.packbits(checked > 0, axis=1)


def _words(bits: np.ndarray) -> np.ndarray:
    """Packed bits ``(n, n_bytes)`` as uint64 words ``(n, ceil(n_bytes / 8))``, padded with zero bytes."""
    n_bytes = bits.shape[1]
    padded = np.zeros((bits.shape[0], -(-n_bytes // 8) * 8), dtype=np.uint8)
    padded[:, :n_bytes] = bits
    return padded.view(np.uint64)


class BinaryCorpus:
    """A :class:`PackedCorpus` stored as sign bits: 1 bit per number instead of 32.

    Build it once with :meth:`from_corpus`; it keeps a reference to the float corpus it was
    built from, for exact rescoring in :meth:`search` (an engine keeps those on disk).
    ``from_corpus(corpus, keep_source=False)`` (or :meth:`without_source`) keeps only the bits and
    the offsets: :meth:`scores`, :meth:`score_queries`, :meth:`asymmetric_scores` and :meth:`signs`
    work as before, while :meth:`search` (whose exact rescoring needs the float vectors) raises a
    ``ValueError`` saying so. That is the form to keep when the float vectors must not be stored (the
    capstone's byte counter counts every array a pipeline keeps, the float ``source`` too).

    Attributes:
        words: uint64 ``(n_tokens, ceil(dim / 64))``, the bits of every token vector
            (:func:`binarize`, padded with zeros to whole 64-bit words).
        offsets: int64 ``(n_documents + 1,)``, as ``PackedCorpus.offsets``.
        dim: the size of each token vector.
        source: the float :class:`PackedCorpus` the bits were made from, or None (built with
            ``keep_source=False``: bits only, no exact rescoring).
    """

    def __init__(self, words: np.ndarray, offsets: np.ndarray, dim: int, source: PackedCorpus | None):
        self.words, self.offsets, self.dim, self.source = words, offsets, dim, source

    @classmethod
    def from_corpus(cls, corpus: PackedCorpus, *, keep_source: bool = True) -> BinaryCorpus:
        """Binarize every token vector of ``corpus``.

        Args:
            corpus: the float token vectors.
            keep_source: keep a reference to ``corpus`` for the exact rescoring of :meth:`search`
                (the default); ``False`` keeps only the bits and the offsets (1 bit per number).

        Raises:
            TypeError: ``corpus`` is not a ``PackedCorpus`` (pack a list of arrays with
                ``PackedCorpus.from_documents`` first), or its vectors are not numbers.
            ValueError: its vectors are not 2-D, empty, or hold NaN or infinity.
        """
        if not isinstance(corpus, PackedCorpus):
            raise TypeError(f"corpus must be a PackedCorpus (PackedCorpus.from_documents(list of arrays)), "
                            f"got {type(corpus).__name__}")
        vectors = _numeric(corpus.vectors, "corpus.vectors")
        if vectors.ndim != 2 or len(vectors) == 0 or vectors.shape[1] == 0:
            raise ValueError(f"corpus.vectors must be a non-empty 2-D array, got shape {vectors.shape}")
        words = np.empty((len(vectors), -(-vectors.shape[1] // 64)), dtype=np.uint64)
        step = 1 << 16
        for start in range(0, len(vectors), step):  # in blocks: no temporary as large as the corpus
            block = vectors[start:start + step]
            if not np.isfinite(block).all():
                raise ValueError("corpus.vectors contains NaN or infinity")
            words[start:start + step] = _words(np.packbits(block > 0, axis=1))
        return cls(words, np.asarray(corpus.offsets, dtype=np.int64), int(vectors.shape[1]),
                   corpus if keep_source else None)

    def without_source(self) -> BinaryCorpus:
        """The same bits and offsets without the float ``source`` (bits only; :meth:`search` then raises)."""
        return BinaryCorpus(self.words, self.offsets, self.dim, None)

    def _chunks(self, max_tokens: int) -> list[tuple[int, int]]:
        """Runs of whole documents of about ``max_tokens`` token vectors (as ``PackedCorpus.chunks``),
        computed from the offsets alone: no float vectors needed."""
        bounds, n = [0], len(self)
        while bounds[-1] < n:
            start = bounds[-1]
            stop = int(np.searchsorted(self.offsets, self.offsets[start] + max_tokens, side="right")) - 1
            bounds.append(min(max(stop, start + 1), n))
        return list(zip(bounds[:-1], bounds[1:]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        """Bytes held by the bits and the offsets (not the float ``source``)."""
        return self.words.nbytes + self.offsets.nbytes

    def _query_words(self, query, name: str) -> tuple[np.ndarray, int]:
        checked = as_token_vectors(_numeric(query, name), name, self.dim)
        return _words(np.packbits(checked > 0, axis=1)), len(checked)

    def _score_chunk(self, first: int, stop: int, query_words: np.ndarray, query_starts: np.ndarray,
                     out: np.ndarray, xor: np.ndarray, ham: np.ndarray, count: np.ndarray) -> None:
        """Binary MaxSim of every query against documents ``first:stop``, into ``out[:, first:stop]``.

        1. XOR every token's words with every query token's words, count the ones: Hamming distances
           ``(chunk tokens, query tokens)``.
        2. A segment-wise minimum over each document's tokens: each query token's best match.
        3. ``dim - 2 * hamming`` summed over each query's tokens.
        """
        offsets = self.offsets[first:stop + 1]
        tokens = self.words[offsets[0]:offsets[-1]]
        rows, columns = len(tokens), len(query_words)
        xor, ham, count = (b[:rows * columns].reshape(rows, columns) for b in (xor, ham, count))
        ham[...] = 0
        for w in range(tokens.shape[1]):
            np.bitwise_xor(tokens[:, w, None], query_words[None, :, w], out=xor)
            ham += _popcount(xor, count)
        nearest = np.minimum.reduceat(ham, offsets[:-1] - offsets[0], axis=0)  # (documents, query tokens)
        similarity = self.dim - 2 * nearest.astype(np.int64)
        out[:, first:stop] = np.add.reduceat(similarity, query_starts, axis=1).T

    def score_queries(self, queries, *, workers: int | None = None) -> np.ndarray:
        """Binary MaxSim of each query against every document.

        Args:
            queries: a list of ``(q_i, dim)`` arrays (or one ``(n_queries, q, dim)`` array).
            workers: threads to split the documents over (default: the machine's cores).

        Returns:
            int64 ``(n_queries, n_documents)`` array ``R`` with
            ``R[i, k] = binary_maxsim(queries[i], document k)``.

        Memory beyond the corpus and the result is bounded: each worker holds blocks of
        about ``BLOCK_BYTES`` (more only when one document is longer than a chunk).
        """
        if isinstance(queries, np.ndarray) and queries.ndim == 3:
            queries = list(queries)
        if not isinstance(queries, (list, tuple)) or not queries:
            raise ValueError("queries must be a non-empty list of (q, dim) arrays")
        packed = [self._query_words(q, f"queries[{i}]") for i, q in enumerate(queries)]
        query_words = np.concatenate([w for w, _ in packed])
        query_starts = np.cumsum([0] + [n for _, n in packed[:-1]]).astype(np.int64)
        out = np.empty((len(packed), len(self)), dtype=np.int64)
        chunk_tokens = max(1, BLOCK_BYTES // (8 * len(query_words)))
        chunks = self._chunks(chunk_tokens)
        size = max(chunk_tokens, int(np.diff(self.offsets).max())) * len(query_words)
        ham_type = np.uint8 if self.dim < 256 else np.uint16
        remaining, lock = iter(chunks), threading.Lock()

        def work() -> None:
            buffers = (np.empty(size, np.uint64), np.empty(size, ham_type), np.empty(size, np.uint8))
            while True:
                with lock:
                    chunk = next(remaining, None)
                if chunk is None:
                    return
                self._score_chunk(*chunk, query_words, query_starts, out, *buffers)

        workers = min(workers or os.cpu_count() or 1, len(chunks))
        if workers <= 1:
            work()
        else:
            with ThreadPoolExecutor(workers) as pool:
                for done in [pool.submit(work) for _ in range(workers)]:
                    done.result()
        return out

    def scores(self, query, *, workers: int | None = None) -> np.ndarray:
        """Binary MaxSim of one query against every document.

        Args:
            query: ``(q, dim)`` token vectors.

        Returns:
            int64 ``(n_documents,)`` array ``r`` with
            ``r[k] = sum_i max_j (dim - 2 * hamming(query[i], document_k[j]))``.
        """
        return self.score_queries([query], workers=workers)[0]

    def signs(self, first: int = 0, stop: int | None = None) -> np.ndarray:
        """The ``+1/-1`` sign vectors of token vectors ``first:stop``: float32 ``(stop - first, dim)``."""
        rows = self.words[first:stop]
        bits = np.unpackbits(rows.view(np.uint8).reshape(len(rows), -1), axis=1)[:, :self.dim]
        return bits.astype(np.float32) * 2 - 1

    def asymmetric_scores(self, query) -> np.ndarray:
        """Asymmetric MaxSim of one float query against every document's sign vectors.

        Args:
            query: ``(q, dim)`` token vectors (kept as floats).

        Returns:
            float32 ``(n_documents,)`` array ``r`` with ``r[k] = sum_i max_j query[i] . signs(document_k[j])``.

        Memory beyond the corpus and the result is bounded: the sign vectors are unpacked in
        chunks of about ``BLOCK_BYTES`` of float32 similarities.
        """
        query = as_token_vectors(_numeric(query, "query"), "query", self.dim).astype(np.float32)
        out = np.empty(len(self), dtype=np.float32)
        chunk_tokens = max(1, BLOCK_BYTES // (4 * max(len(query), self.dim)))
        for first, stop in self._chunks(chunk_tokens):
            offsets = self.offsets[first:stop + 1]
            similarities = self.signs(offsets[0], offsets[-1]) @ query.T  # (chunk tokens, q)
            best = np.maximum.reduceat(similarities, offsets[:-1] - offsets[0], axis=0)
            out[first:stop] = best.sum(axis=1)
        return out

    def search(self, query, k: int, oversampling: float = 4.0, *, asymmetric: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
        """Binary search, then exact rescoring of the candidates.

        1. candidates = the ``min(n, ceil(k * oversampling))`` documents with the highest
           :meth:`scores` (:meth:`asymmetric_scores` if ``asymmetric``; ties: the lower index);
        2. exact MaxSim (``score_corpus``) of the query against the candidates' float vectors;
        3. the ``k`` best candidates by exact MaxSim (ties: the better binary rank).

        Args:
            query: ``(q, dim)`` token vectors.
            k: how many documents to return, 1 to the number of documents.
            oversampling: candidates per returned document, a number >= 1.

        Returns:
            ``(ids, scores)``: int64 ``(k,)`` document indices, best first, and float32 ``(k,)``
            exact scores, ``scores[i] = maxsim(query, document ids[i])``.

        Raises:
            TypeError: ``k`` is not a whole number, ``oversampling`` not a number.
            ValueError: ``k`` < 1 or larger than the corpus; ``oversampling`` < 1 or not finite; the
                corpus was built with ``keep_source=False`` (no float vectors to rescore with).
        """
        if self.source is None:
            raise ValueError("this BinaryCorpus keeps only the bits (built with keep_source=False): search "
                             "rescores with the float vectors, which it does not have. Rank with scores(query) "
                             "or asymmetric_scores(query) instead (e.g. top_k of them), or rescore your "
                             "candidates with vectors you keep yourself")
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(f"k must be a whole number, got {k!r}")
        if not 1 <= k <= len(self):
            raise ValueError(f"k must be between 1 and the number of documents ({len(self)}), got {k}")
        if isinstance(oversampling, bool) or not isinstance(oversampling, numbers.Real):
            raise TypeError(f"oversampling must be a number >= 1, got {oversampling!r}")
        if not math.isfinite(oversampling) or oversampling < 1:
            raise ValueError(f"oversampling must be a finite number >= 1, got {oversampling!r}")
        query = as_token_vectors(_numeric(query, "query"), "query", self.dim)
        approximate = self.asymmetric_scores(query) if asymmetric else self.scores(query)
        candidates = top_k(approximate, min(len(self), math.ceil(k * oversampling)))
        rows = [self.source.document(int(i)) for i in candidates]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        subset = PackedCorpus(np.concatenate(rows), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        with _blas_controller().limit(limits=1, user_api="blas"):  # a few small products
            exact = score_corpus(query, subset, workers=1)
        order = top_k(exact, k)
        return candidates[order].astype(np.int64), exact[order]

    def __repr__(self) -> str:
        return (f"BinaryCorpus({len(self)} documents, {len(self.words)} token vectors of dim {self.dim}, "
                f"{self.nbytes / 2**20:.2f} MiB)")
