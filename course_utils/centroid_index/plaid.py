"""A PLAID-style centroid index: ColBERTv2's compressed tokens searched in PLAID's four stages.

Built from a :class:`~course_utils.scoring.maxsim.PackedCorpus` of ``n`` passages and ``T`` token
vectors of size ``dim``:

- ``centroids`` ``C``: float32 ``(K, dim)``, spherical k-means of (a sample of) the tokens;
- ``codes``: int32 ``(T,)``, each token's nearest centroid; ``residuals``: uint8 ``(T, dim * b / 8)``,
  each token's residual in ``b`` bits per number (:class:`~.residuals.ResidualCodec`);
- inverted lists: for each centroid, the passages that have a token assigned to it
  (``ivf[ivf_offsets[c]:ivf_offsets[c + 1]]``);
- each passage's distinct centroids (``passage_centroids``, ``passage_centroid_offsets``).

Search for a query ``Q`` (``(q, dim)``), with ``S = Q @ C.T`` (``(q, K)``, the query tokens' scores
against every centroid):

1. **candidate generation**: the passages in the inverted lists of each query token's ``nprobe``
   best centroids;
2. **centroid interaction with pruning**: ``sum_i max_{c in P, max_i' S[i', c] >= threshold} S[i, c]``,
   MaxSim with each token replaced by its centroid, counting only centroids that some query token
   scores at least ``threshold``; the best ``candidates`` passages go on;
3. **centroid interaction** without pruning on those; the best ``max(k, candidates // 4)`` go on;
4. **exact rerank**: their tokens decompressed (centroid + decoded residual) and scored with MaxSim;
   or, given ``rerank_vectors`` (the original token vectors, for example float16 memory-mapped from
   disk), scored on those: only these few passages' vectors are read per query, as lesson 6's binary
   search rescores its candidates with the originals. The decompressed vectors differ from the
   originals by the codec's error, which swaps near-tied passages in and out of the top ``k``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from course_utils.centroid_index import segments
from course_utils.centroid_index.centroids import kmeans, n_centroids_for, nearest_centroids, sample_rows
from course_utils.centroid_index.residuals import CODE_BYTES, ResidualCodec, check_bits
from course_utils.scoring.maxsim import PackedCorpus, _blas_controller, as_token_vectors, score_corpus, top_k

__all__ = ["CentroidIndex", "SearchResult", "build_index", "check_corpus"]

#: Tokens encoded per step while building (bounds the float32 residual block held at once).
ENCODE_BLOCK_ROWS = 65_536


@dataclass
class SearchResult:
    """What one search returns: the top passages, their exact scores, and how many passages each stage kept."""

    passages: np.ndarray
    """int64 ``(k,)`` passage indices, best first."""
    scores: np.ndarray
    """float32 ``(k,)`` MaxSim of the query with each passage's decompressed tokens (or its ``rerank_vectors``)."""
    stage_sizes: dict = field(default_factory=dict)
    """Passages left after each stage: ``{"candidates": n1, "after pruning": n2 (those with a centroid above the
    threshold), "centroid interaction": n3 (at most ``candidates``), "reranked": n4}``."""


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def check_corpus(corpus) -> PackedCorpus:
    """A :class:`PackedCorpus` with at least one passage, no empty passage and only finite numbers.

    Raises:
        ValueError: an empty corpus, an empty passage (named), NaN or infinity.
    """
    if isinstance(corpus, PackedCorpus):
        if len(corpus) == 0 or len(corpus.vectors) == 0:
            raise ValueError("corpus is empty: an index needs at least one passage with token vectors")
        as_token_vectors(corpus.vectors[:1], "corpus.vectors")
        if not np.isfinite(corpus.vectors.sum(axis=1, dtype=np.float64)).all():  # NaN and inf survive a sum
            raise ValueError("corpus.vectors contains NaN or infinity")
    else:
        corpus = PackedCorpus.from_documents(corpus)
    empty = np.flatnonzero(corpus.lengths == 0)
    if len(empty):
        raise ValueError(f"corpus passage {int(empty[0])} has no token vectors: every passage needs at least one")
    return corpus


@dataclass
class CentroidIndex:
    """The arrays of the index (see the module's docstring) and the codec of its residuals."""

    centroids: np.ndarray
    codes: np.ndarray
    residuals: np.ndarray
    offsets: np.ndarray
    codec: ResidualCodec
    ivf: np.ndarray
    ivf_offsets: np.ndarray
    passage_centroids: np.ndarray
    passage_centroid_offsets: np.ndarray
    build_seconds: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def dim(self) -> int:
        return self.centroids.shape[1]

    @property
    def bytes_per_token(self) -> float:
        """Bytes of one stored token: its centroid id and its packed residual."""
        return CODE_BYTES + self.residuals.shape[1]

    @property
    def nbytes(self) -> int:
        """Bytes of every array of the index (codes stored as int32, as counted in ``bytes_per_token``)."""
        return sum(a.nbytes for a in (self.centroids, self.codes, self.residuals, self.offsets, self.ivf,
                                      self.ivf_offsets, self.passage_centroids, self.passage_centroid_offsets))

    def decompress(self, passages) -> PackedCorpus:
        """The decoded token vectors of ``passages`` (int ``(m,)``), as a PackedCorpus of ``m`` passages."""
        positions, offsets = segments.gather_positions(self.offsets, np.asarray(passages, dtype=np.int64))
        vectors = self.codec.decode(self.residuals[positions], self.centroids, self.codes[positions])
        return PackedCorpus(vectors, offsets)

    def centroid_scores(self, query) -> np.ndarray:
        """float32 ``(q, K)``: ``S[i, c] = dot(query[i], centroids[c])``."""
        return as_token_vectors(query, "query", self.dim) @ self.centroids.T

    def candidates(self, scores: np.ndarray, nprobe: int) -> np.ndarray:
        """Stage 1: int64 passages (increasing) in the lists of each query token's ``nprobe`` best centroids."""
        nprobe = min(_positive(nprobe, "nprobe"), scores.shape[1])
        probed = np.unique(np.argpartition(-scores, nprobe - 1, axis=1)[:, :nprobe])
        positions, _ = segments.gather_positions(self.ivf_offsets, probed)
        found = np.zeros(len(self), dtype=bool)
        found[self.ivf[positions]] = True
        return np.flatnonzero(found)

    def centroid_interaction(self, scores: np.ndarray, passages: np.ndarray, threshold: float | None = None):
        """Stages 2-3: float32 ``(m,)`` approximate MaxSim of ``passages`` from their centroids' scores.

        With a ``threshold``, centroids that no query token scores at least that high are left out
        (pruning); a passage left with none scores ``-inf``.
        """
        positions, offsets = segments.gather_positions(self.passage_centroid_offsets, passages)
        ids = self.passage_centroids[positions]
        if threshold is not None:
            keep = (scores.max(axis=0) >= threshold)[ids]
            counts = np.add.reduceat(keep, offsets[:-1]) if len(ids) else np.zeros(len(passages), np.int64)
            ids = ids[keep]
            offsets = np.zeros(len(passages) + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
        out = np.full(len(passages), -np.inf, dtype=np.float32)
        filled = np.flatnonzero(np.diff(offsets) > 0)
        if len(filled):
            table = np.ascontiguousarray(scores.T)[ids]                     # (centroids kept, q)
            out[filled] = np.maximum.reduceat(table, offsets[filled], axis=0).sum(axis=1)
        return out

    def search(self, query, k: int = 10, *, nprobe: int = 2, threshold: float | None = 0.45,
               candidates: int = 256, rerank_vectors: PackedCorpus | None = None) -> SearchResult:
        """The ``k`` best passages for ``query`` (``(q, dim)``) through PLAID's four stages.

        Args:
            k: passages returned.
            nprobe: centroids probed per query token (stage 1).
            threshold: centroid pruning threshold of stage 2 (None: no pruning).
            candidates: passages kept after stage 2; ``max(k, candidates // 4)`` are reranked exactly.
            rerank_vectors: the passages' original token vectors (a PackedCorpus with the index's passages,
                tokens and ``dim``; any float type, memory-mapped is fine): stage 4 scores the survivors on
                them instead of on their decompressed tokens.

        Raises:
            ValueError: ``k``, ``nprobe`` or ``candidates`` below 1, a non-finite ``threshold``, a bad
                query (not 2-D, empty, another ``dim``, NaN or infinity), or ``rerank_vectors`` that do not
                match the index (other passage lengths or ``dim``).
        """
        k, candidates = _positive(k, "k"), _positive(candidates, "candidates")
        if threshold is not None and not np.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number or None, got {threshold!r}")
        if rerank_vectors is not None and not (
                isinstance(rerank_vectors, PackedCorpus) and rerank_vectors.dim == self.dim
                and np.array_equal(rerank_vectors.offsets, self.offsets)):
            raise ValueError("rerank_vectors must be a PackedCorpus of the index's own passages (same token counts "
                             f"and dim {self.dim}): the corpus the index was built from, for example as float16")
        # one thread: its products are small, and several BLAS threads only wait for each other
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._search(query, k, nprobe, threshold, candidates, rerank_vectors)

    def _search(self, query, k: int, nprobe: int, threshold: float | None, candidates: int,
                rerank_vectors: PackedCorpus | None = None) -> SearchResult:
        """:meth:`search` after its arguments were checked."""
        scores = self.centroid_scores(query)
        found = self.candidates(scores, nprobe)
        approximate = self.centroid_interaction(scores, found, threshold)
        kept = found[np.isfinite(approximate)]
        best = kept[top_k(approximate[np.isfinite(approximate)], candidates)] if len(kept) else kept
        if len(best) == 0:
            return SearchResult(best, np.zeros(0, np.float32), {"candidates": len(found), "after pruning": 0,
                                                                "centroid interaction": 0, "reranked": 0})
        second = best[top_k(self.centroid_interaction(scores, best), max(k, candidates // 4))]
        if rerank_vectors is None:
            survivors = self.decompress(second)
        else:
            positions, offsets = segments.gather_positions(self.offsets, second)
            survivors = PackedCorpus(np.asarray(rerank_vectors.vectors[positions], dtype=np.float32), offsets)
        exact = score_corpus(query, survivors, workers=1)
        order = top_k(exact, k)
        return SearchResult(second[order], exact[order],
                            {"candidates": len(found), "after pruning": len(kept),
                             "centroid interaction": len(best), "reranked": len(second)})


def build_index(corpus, *, n_centroids: int | None = None, bits: int = 2, sample: int | None = None,
                iterations: int = 10, seed: int = 0) -> CentroidIndex:
    """Build a :class:`CentroidIndex` from a corpus's token vectors.

    Args:
        corpus: a :class:`PackedCorpus` or a list of ``(d_k, dim)`` arrays (unit-length token vectors).
        n_centroids: ``K``; default :func:`~.centroids.n_centroids_for` (PLAID's 16 x sqrt(tokens),
            a power of two), at most the number of tokens.
        bits: bits per residual number: 1, 2 or 4.
        sample: k-means trains on this many tokens drawn at random (default: all of them).
        iterations, seed: k-means rounds and random draws.

    Raises:
        ValueError: an empty corpus or passage, NaN or infinity, ``n_centroids < 1`` or more than
            the tokens, ``bits`` not in {1, 2, 4}.
    """
    bits = check_bits(bits)
    corpus = check_corpus(corpus)
    n_tokens = len(corpus.vectors)
    k = min(n_centroids_for(n_tokens), n_tokens) if n_centroids is None else _positive(n_centroids, "n_centroids")
    if k > n_tokens:
        raise ValueError(f"n_centroids ({k}) must be at most the number of token vectors ({n_tokens})")
    seconds, start = {}, time.perf_counter()
    centroids = kmeans(corpus.vectors, k, iterations=iterations, sample=sample, seed=seed)
    seconds["k-means"], start = time.perf_counter() - start, time.perf_counter()
    codes = nearest_centroids(corpus.vectors, centroids)
    seconds["assignment"], start = time.perf_counter() - start, time.perf_counter()
    training = sample_rows(n_tokens, ENCODE_BLOCK_ROWS, seed)  # the codec learns from a sample's residuals
    codec = ResidualCodec.train(corpus.vectors[training] - centroids[codes[training]], bits)
    residuals = np.concatenate([codec.encode(corpus.vectors[s:s + ENCODE_BLOCK_ROWS], centroids,
                                             codes[s:s + ENCODE_BLOCK_ROWS])
                                for s in range(0, n_tokens, ENCODE_BLOCK_ROWS)])
    seconds["residuals"], start = time.perf_counter() - start, time.perf_counter()
    per_passage, per_passage_offsets = segments.unique_per_row(codes, corpus.offsets)
    owners = segments.row_ids(per_passage_offsets)
    ivf, ivf_offsets = segments.group_by(per_passage, owners.astype(np.int32), k)
    seconds["inverted lists"] = time.perf_counter() - start
    return CentroidIndex(centroids, codes, residuals, corpus.offsets.astype(np.int64), codec, ivf, ivf_offsets,
                         per_passage.astype(np.int32), per_passage_offsets, seconds)
