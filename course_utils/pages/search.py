"""Pooled prefetch and full rerank of page images, in Qdrant's embedded mode and in Qdrant Edge (lesson 7).

Each page is one point with two named multivectors, both compared by MaxSim of
dot products and without an HNSW graph:

- ``"pooled"``: the page's patch vectors mean-pooled by rows (a few dozen vectors),
  for a cheap first stage over every page;
- ``"full"``: every vector of the page (hundreds), to rerank the candidates.

One request does both: a ``Prefetch`` by ``"pooled"`` keeps ``candidates`` pages,
and the query by ``"full"`` reranks them. :func:`prefetch_rerank` sends it to
qdrant-client (embedded or server), :class:`EdgePageIndex` to Qdrant Edge.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence

import numpy as np
import qdrant_edge as edge
from qdrant_client import QdrantClient, models

from course_utils.qdrant.edge_shard import TemporaryShard

__all__ = [
    "EdgePageIndex",
    "create_page_collection",
    "full_search",
    "overlap_at_k",
    "page_vectors_config",
    "prefetch_rerank",
]

POOLED, FULL = "pooled", "full"


def _rows(vectors, name: str) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (n, dim) array of vectors, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _pages(full_vectors: Sequence, pooled_vectors: Sequence) -> tuple[list, list, int]:
    if len(full_vectors) == 0 or len(full_vectors) != len(pooled_vectors):
        raise ValueError(f"full_vectors and pooled_vectors must be non-empty lists of the same length (one entry "
                         f"per page), got {len(full_vectors)} and {len(pooled_vectors)}")
    full = [_rows(v, f"full_vectors[{k}]") for k, v in enumerate(full_vectors)]
    pooled = [_rows(v, f"pooled_vectors[{k}]") for k, v in enumerate(pooled_vectors)]
    dims = {v.shape[1] for v in full + pooled}
    if len(dims) != 1:
        raise ValueError(f"every page vector must have the same size, got sizes {sorted(dims)}")
    return full, pooled, dims.pop()


def page_vectors_config(dim: int = 128) -> dict[str, models.VectorParams]:
    """``{"pooled": ..., "full": ...}``: two MaxSim multivectors of ``dim``-d rows, dot product, no HNSW."""
    def multivector():
        return models.VectorParams(
            size=dim, distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            hnsw_config=models.HnswConfigDiff(m=0))
    return {POOLED: multivector(), FULL: multivector()}


def create_page_collection(client: QdrantClient, name: str, full_vectors: Sequence, pooled_vectors: Sequence,
                           payloads: Sequence[dict] | None = None) -> int:
    """(Re)create collection ``name`` with page ``k`` as point ``k``; return the number of points.

    Args:
        full_vectors: ``n`` arrays ``(v_k, dim)``, every vector of each page.
        pooled_vectors: ``n`` arrays ``(p_k, dim)``, the pooled vectors of each page.
        payloads: ``n`` dicts stored with the pages (e.g. ``{"page_id": "p07"}``).
    """
    full, pooled, dim = _pages(full_vectors, pooled_vectors)
    if payloads is not None and len(payloads) != len(full):
        raise ValueError(f"payloads must have one dict per page ({len(full)}), got {len(payloads)}")
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=page_vectors_config(dim))
    points = [models.PointStruct(id=k, vector={FULL: full[k].tolist(), POOLED: pooled[k].tolist()},
                                 payload=dict(payloads[k]) if payloads is not None else {})
              for k in range(len(full))]
    for start in range(0, len(points), 8):
        client.upsert(name, points[start:start + 8])
    return len(points)


def _ids_scores(points) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p.id for p in points], dtype=np.int64), np.array([p.score for p in points], dtype=np.float32))


def prefetch_rerank(client: QdrantClient, name: str, query_vectors, candidates: int, limit: int):
    """One query: the ``candidates`` best pages by ``"pooled"``, reranked by ``"full"``; best ``limit``.

    Returns:
        ``(ids, scores)``: int64 ``(limit,)`` page numbers, best first, and their full MaxSim scores.
    """
    q = _rows(query_vectors, "query_vectors").tolist()
    response = client.query_points(name, prefetch=models.Prefetch(query=q, using=POOLED, limit=candidates),
                                   query=q, using=FULL, limit=limit)
    return _ids_scores(response.points)


def full_search(client: QdrantClient, name: str, query_vectors, limit: int, using: str = FULL):
    """The ``limit`` best pages by MaxSim over ``using`` (default every vector), no prefetch."""
    q = _rows(query_vectors, "query_vectors").tolist()
    return _ids_scores(client.query_points(name, query=q, using=using, limit=limit).points)


class EdgePageIndex(TemporaryShard):
    """The same two multivectors in a Qdrant Edge shard (the engine's Rust code, in-process).

    Page ``k`` is point ``k``. The shard lives in a temporary folder that :meth:`close`
    (or leaving a ``with`` block) deletes.
    """

    def __init__(self, full_vectors: Sequence, pooled_vectors: Sequence):
        full, pooled, self.dim = _pages(full_vectors, pooled_vectors)
        self.size = len(full)
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-pages-")
        try:
            def params():
                return edge.EdgeVectorParams(
                    size=self.dim, distance=edge.Distance.Dot,
                    multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
                    hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000))
            config = edge.EdgeConfig(vectors={POOLED: params(), FULL: params()}, wal_enabled=False)
            self.shard = edge.EdgeShard.create(self.folder, config)
            points = [edge.Point(k, {FULL: full[k].tolist(), POOLED: pooled[k].tolist()}) for k in range(self.size)]
            self.shard.update(edge.UpdateOperation.upsert_points(points))
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def prefetch_rerank(self, query_vectors, candidates: int, limit: int):
        """As :func:`prefetch_rerank`, in Qdrant Edge: ``(ids, scores)``, best first."""
        q = _rows(query_vectors, "query_vectors").tolist()
        exact = edge.SearchParams(exact=True)
        first = edge.Prefetch(limit=candidates, query=edge.Query.Nearest(q, using=POOLED), params=exact)
        request = edge.QueryRequest(limit=limit, query=edge.Query.Nearest(q, using=FULL), prefetches=[first],
                                    params=exact)
        return _ids_scores(self.shard.query(request))

    def full_search(self, query_vectors, limit: int, using: str = FULL):
        """As :func:`full_search`, in Qdrant Edge."""
        q = _rows(query_vectors, "query_vectors").tolist()
        request = edge.QueryRequest(limit=limit, query=edge.Query.Nearest(q, using=using),
                                    params=edge.SearchParams(exact=True))
        return _ids_scores(self.shard.query(request))


def overlap_at_k(ranking: Sequence, reference: Sequence, k: int) -> float:
    """Share of the first ``k`` of ``reference`` that are among the first ``k`` of ``ranking`` (0 to 1)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    top = list(reference)[:k]
    if not top:
        raise ValueError("reference is empty: nothing to compare with")
    return len(set(list(ranking)[:k]) & set(top)) / len(top)
