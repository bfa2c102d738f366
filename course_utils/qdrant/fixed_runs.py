"""Runs on a small in-memory collection of fixed vectors, as plain data for graded checks.

Each function stores fixed documents in a scratch embedded collection (or a Qdrant Edge
shard), runs what a student built on it, and returns plain data (ids, rounded scores) that a
graded check compares with a literal. Like :mod:`course_utils.qdrant.summaries`, they print
nothing and emit no warning.

>>> engine_hits([[1.0, 0.0]], [[[0.0, 1.0]], [[1.0, 0.0], [0.5, 0.5]]])
[[1, 1.0], [0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qdrant_client import QdrantClient, models

from course_utils.scoring.maxsim import as_token_vectors
from course_utils.qdrant.collection import (COLBERT_VECTOR, DENSE_VECTOR, _as_dense_rows, course_vectors_config,
                                            to_points)
from course_utils.qdrant.edge_index import EdgeMaxSimIndex
from course_utils.qdrant.summaries import _as_model, _point_as_plain, points_summary

__all__ = ["engine_hits", "scores_with_config", "search_fixed_collection", "stored_points"]

_CHECK_COLLECTION = "check"


def _score(value: float) -> float:
    """A score as plain data: float32 noise rounded away (6 decimals)."""
    return round(float(value), 6)


class _ScratchCollection:
    """An in-memory collection named ``"check"`` with the given vectors config, closed on exit."""

    def __init__(self, vectors_config):
        self.client = QdrantClient(":memory:")
        try:
            self.client.create_collection(_CHECK_COLLECTION, vectors_config=vectors_config)
        except Exception as error:
            self.client.close()
            raise ValueError(f"Qdrant cannot create a collection with this configuration: {error}") from None

    def upsert(self, points) -> None:
        try:
            self.client.upsert(_CHECK_COLLECTION, points=list(points), wait=True)
        except Exception as error:
            raise ValueError(f"Qdrant cannot store these points: {error}") from None

    def __enter__(self) -> _ScratchCollection:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()


def _hits(points) -> list[list]:
    """``[[id, score], ...]`` in the order given."""
    return [[hit.id, _score(hit.score)] for hit in points]


def _course_order(points) -> list:
    """Hits sorted by (-score, id): the engines order exact ties arbitrarily."""
    return sorted(points, key=lambda hit: (-_score(hit.score), hit.id))


def scores_with_config(config, dense_query, dense_vectors, colbert_query, colbert_vectors) -> dict[str, list]:
    """Scores that an embedded Qdrant collection created with ``config`` gives fixed documents.

    Creates an in-memory collection with ``vectors_config=config``, stores document ``k``
    as point ``k`` with vectors ``{"dense": dense_vectors[k], "colbert": colbert_vectors[k]}``,
    and queries each named vector with its query.

    Returns:
        ``{"dense": [score of document 0, 1, ...], "colbert": [...]}``.

    Raises:
        ValueError: Qdrant rejects the configuration or the vectors (its message included).
    """
    n = len(dense_vectors)
    points = [models.PointStruct(id=k, vector={DENSE_VECTOR: list(map(float, dense_vectors[k])),
                                               COLBERT_VECTOR: np.asarray(colbert_vectors[k], float).tolist()})
              for k in range(n)]
    with _ScratchCollection(config) as scratch:
        scratch.upsert(points)
        result = {}
        for name, query in ((DENSE_VECTOR, dense_query), (COLBERT_VECTOR, colbert_query)):
            try:
                hits = scratch.client.query_points(_CHECK_COLLECTION, query=np.asarray(query, float).tolist(),
                                                   using=name, limit=n).points
            except Exception as error:
                raise ValueError(f"Qdrant cannot query the vector {name!r}: {error}") from None
            by_id = {hit.id: hit.score for hit in hits}
            result[name] = [_score(by_id[k]) for k in range(n)]
    return result


def stored_points(points) -> list[dict]:
    """``points`` stored in an embedded course collection and read back, as plain data.

    The collection has the course's layout (:func:`course_vectors_config`), sized from the
    first point's vectors. Cosine vectors are stored scaled to length 1, as Qdrant does.

    Returns:
        ``points_summary`` of the stored points, sorted by id.

    Raises:
        TypeError: as :func:`points_summary`.
        ValueError: the points lack the course's two named vectors, or Qdrant rejects them.
    """
    summary = points_summary(points)
    if not summary:
        return []
    first = summary[0]["vector"]
    if not isinstance(first, dict) or set(first) != {DENSE_VECTOR, COLBERT_VECTOR}:
        raise ValueError(f"each point needs the named vectors {DENSE_VECTOR!r} and {COLBERT_VECTOR!r}; "
                         f"the first has {sorted(first) if isinstance(first, dict) else 'one unnamed vector'}")
    try:
        dense_dim, colbert_dim = len(first[DENSE_VECTOR]), len(first[COLBERT_VECTOR][0])
    except (TypeError, IndexError):
        raise ValueError("the first point's colbert vector must be a list of token vectors") from None
    with _ScratchCollection(course_vectors_config(dense_dim, colbert_dim)) as scratch:
        scratch.upsert(points)
        ids = [point["id"] for point in summary]
        records = scratch.client.retrieve(_CHECK_COLLECTION, ids=ids, with_payload=True, with_vectors=True)
    return sorted((_point_as_plain(record) for record in records), key=lambda p: (str(type(p["id"])), p["id"]))


def search_fixed_collection(request, dense_vectors, colbert_vectors, topics: Sequence[str] | None = None
                            ) -> list[list]:
    """Run ``request`` on an embedded course collection built from fixed vectors.

    Document ``k`` becomes point ``k`` with vectors ``{"dense": dense_vectors[k],
    "colbert": colbert_vectors[k]}`` and payload ``{"topic": topics[k]}`` (if given), in a
    collection with the course's layout sized from the vectors.

    Returns:
        ``[[id, score], ...]`` best first, as Qdrant ranks them (exact ties by id).

    Raises:
        TypeError: ``request`` is not a ``QueryRequest``.
        ValueError: Qdrant rejects the request (its message included).
    """
    request = _as_model(request, models.QueryRequest, "the request")
    dense = _as_dense_rows(dense_vectors)
    colbert = [np.asarray(c, dtype=np.float32) for c in colbert_vectors]
    payloads = None if topics is None else [{"topic": topic} for topic in topics]
    points = to_points(range(len(dense)), dense, colbert, payloads, dense_dim=dense.shape[1],
                       colbert_dim=colbert[0].shape[1])
    with _ScratchCollection(course_vectors_config(dense.shape[1], colbert[0].shape[1])) as scratch:
        scratch.upsert(points)
        try:
            response = scratch.client.query_batch_points(_CHECK_COLLECTION, requests=[request])[0]
        except Exception as error:
            raise ValueError(f"Qdrant cannot run this request: {error}") from None
    return _hits(_course_order(response.points))


def engine_hits(colbert_query, colbert_vectors, engine: str = "embedded") -> list[list]:
    """Every document ranked by an engine's MaxSim: ``[[id, score], ...]``, best first.

    Document ``k`` is ``colbert_vectors[k]`` (point id ``k``).

    Args:
        engine: ``"embedded"`` (qdrant-client's local mode, Python) or ``"edge"`` (Qdrant
            Edge: the Rust engine of the Qdrant server, in-process).

    Returns:
        ``[[id, score], ...]`` for all documents, sorted by (-score, id).

    Raises:
        ValueError: an unknown engine, or vectors as ``PackedCorpus.from_documents`` rejects.
    """
    documents = [np.asarray(c, dtype=np.float32) for c in colbert_vectors]
    query = as_token_vectors(colbert_query, "colbert_query")
    if engine == "edge":
        with EdgeMaxSimIndex(documents) as index:
            ids, scores = index.search(query)
        return sorted(([i, _score(s)] for i, s in zip(ids.tolist(), scores.tolist())),
                      key=lambda pair: (-pair[1], pair[0]))
    if engine != "embedded":
        raise ValueError(f"engine must be 'embedded' or 'edge', got {engine!r}")
    dim = query.shape[1]
    points = to_points(range(len(documents)), np.ones((len(documents), 1)), documents, dense_dim=1, colbert_dim=dim)
    with _ScratchCollection(course_vectors_config(1, dim)) as scratch:
        scratch.upsert(points)
        hits = scratch.client.query_points(_CHECK_COLLECTION, query=query, using=COLBERT_VECTOR,
                                           limit=len(documents)).points
    return _hits(_course_order(hits))
