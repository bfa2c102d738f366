"""Qdrant Edge: the Qdrant engine's own exact MaxSim, in-process, as a reference.

:class:`EdgeMaxSimIndex` stores documents' token vectors in a Qdrant Edge shard (the Rust
engine of the Qdrant server, run inside this process) and ranks them by exact MaxSim.
"""

from __future__ import annotations

import shutil
import tempfile

import numpy as np
import qdrant_edge as edge

from course_utils.scoring.maxsim import PackedCorpus, as_token_vectors
from course_utils.qdrant.collection import COLBERT_VECTOR
from course_utils.qdrant.edge_shard import TemporaryShard

__all__ = ["EdgeMaxSimIndex"]


class EdgeMaxSimIndex(TemporaryShard):
    """Documents' token vectors in an in-process Qdrant Edge shard, searched exactly with MaxSim.

    The shard lives in a temporary folder that :meth:`close` (or leaving a ``with``
    block) deletes. Document ``k`` is stored as point id ``k``::

        with EdgeMaxSimIndex(documents) as index:
            ids, scores = index.search(query, k=10)

    Args:
        documents: ``n`` arrays of shape ``(d_k, dim)`` (or a ``PackedCorpus``).
        batch_size: documents sent to the shard per update.

    Raises:
        ValueError: as ``PackedCorpus.from_documents`` (empty, wrong shape, NaN...).
            Edge itself would store NaN without complaint.
    """

    def __init__(self, documents, *, batch_size: int = 256):
        corpus = PackedCorpus.from_documents(documents)
        self.dim, self.size = corpus.dim, len(corpus)
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-")
        try:
            self.shard = edge.EdgeShard.create(self.folder, self._config(self.dim))
            for start in range(0, self.size, batch_size):
                points = [edge.Point(k, {COLBERT_VECTOR: corpus.document(k)})
                          for k in range(start, min(start + batch_size, self.size))]
                self.shard.update(edge.UpdateOperation.upsert_points(points))
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @staticmethod
    def _config(dim: int) -> edge.EdgeConfig:
        """A shard with one multivector, ``"colbert"``: MaxSim of dot products, no HNSW graph."""
        colbert = edge.EdgeVectorParams(
            size=dim,
            distance=edge.Distance.Dot,  # Cosine would normalise the stored vectors
            multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
            hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
        )
        return edge.EdgeConfig(vectors={COLBERT_VECTOR: colbert}, wal_enabled=False)

    def search(self, query, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` documents (default: all) with the highest MaxSim, by exact search.

        Args:
            query: ``(q, dim)`` token vectors.

        Returns:
            ``(ids, scores)``: int64 ``(k,)`` document indices, best first, and float32 ``(k,)``
            scores with ``scores[i] = maxsim(query, documents[ids[i]])`` as Qdrant computes it.
            Edge orders tied scores arbitrarily (not by id).
        """
        q = as_token_vectors(query, "query", self.dim)
        limit = self.size if k is None else k
        if not isinstance(limit, (int, np.integer)):
            raise TypeError(f"k must be a positive whole number, got {k!r}")
        if limit < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        request = edge.QueryRequest(limit=int(limit), query=edge.Query.Nearest(q, using=COLBERT_VECTOR),
                                    params=edge.SearchParams(exact=True))
        hits = self.shard.query(request)
        return (np.array([hit.id for hit in hits], dtype=np.int64),
                np.array([hit.score for hit in hits], dtype=np.float32))

    def scores(self, query) -> np.ndarray:
        """float32 ``(n,)`` array ``r`` with ``r[k] = maxsim(query, documents[k])`` as Qdrant computes it."""
        ids, scores = self.search(query)
        out = np.empty(self.size, dtype=np.float32)
        out[ids] = scores
        return out


    def __repr__(self) -> str:
        return f"EdgeMaxSimIndex({self.size} documents, dim {self.dim}, folder {self.folder})"

