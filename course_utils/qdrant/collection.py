"""The course's collection layout, and fastembed's outputs turned into its points.

- :func:`create_course_collection` makes the course's collection layout
  (:func:`course_vectors_config`): one point per document with two named vectors,

  - ``"dense"``: one 384-d vector (cosine), for fast first-stage retrieval;
  - ``"colbert"``: a multivector, one 128-d row per token, compared with MaxSim
    (dot product per token pair), without an HNSW index: it only reranks candidates.

- :func:`to_points` and :func:`upload_points` turn fastembed's outputs into points and store them.

>>> sorted(course_vectors_config())
['colbert', 'dense']
>>> point = to_points([7], [[1.0, 0.0]], [[[0.5, 0.5]]], dense_dim=2, colbert_dim=2)[0]
>>> point.id, point.vector
(7, {'dense': [1.0, 0.0], 'colbert': [[0.5, 0.5]]})
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

import numpy as np
from qdrant_client import QdrantClient, models

from course_utils.scoring.maxsim import as_token_vectors
from course_utils.models import COLBERT_DIM, DENSE_DIM

__all__ = ["COLBERT_VECTOR", "DENSE_VECTOR", "course_vectors_config", "create_course_collection", "to_points",
           "upload_points"]

#: Names of the two vectors each point of a course collection has.
DENSE_VECTOR = "dense"
COLBERT_VECTOR = "colbert"


def course_vectors_config(dense_dim: int = DENSE_DIM,
                          colbert_dim: int = COLBERT_DIM) -> dict[str, models.VectorParams]:
    """The named vectors of a course collection.

    Returns:
        ``{"dense": cosine, size dense_dim; "colbert": MaxSim multivector of dot products,
        size colbert_dim per token, HNSW off (m=0): it is used to rerank, not to search)}``.
    """
    return {
        DENSE_VECTOR: models.VectorParams(size=dense_dim, distance=models.Distance.COSINE),
        COLBERT_VECTOR: models.VectorParams(
            size=colbert_dim,
            distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            hnsw_config=models.HnswConfigDiff(m=0),
        ),
    }


def create_course_collection(client: QdrantClient, name: str, *, dense_dim: int = DENSE_DIM,
                             colbert_dim: int = COLBERT_DIM, replace: bool = True) -> None:
    """Create the collection ``name`` with :func:`course_vectors_config`.

    Args:
        replace: delete an existing collection of that name first (so a lesson cell
            can be run again); with False, an existing collection raises ``ValueError``.
    """
    if client.collection_exists(name):
        if not replace:
            raise ValueError(f"a collection named {name!r} already exists; pass replace=True to recreate it")
        client.delete_collection(name)
    client.create_collection(name, vectors_config=course_vectors_config(dense_dim, colbert_dim))


def _as_point_id(value, index: int) -> int | str:
    """A point id as Qdrant takes it: a non-negative int, or a UUID string."""
    problem = f"ids[{index}] is {value!r}: a point id must be a non-negative whole number or a UUID string"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        if value >= 0:
            return int(value)
        raise ValueError(problem)
    if not isinstance(value, str):
        raise TypeError(problem)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(problem) from None


def _as_dense_rows(dense_vectors) -> np.ndarray:
    """``dense_vectors`` (an array or a list of vectors) as one float32 array."""
    rows = dense_vectors if isinstance(dense_vectors, np.ndarray) else list(dense_vectors)
    try:
        return np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError) as error:  # vectors of different sizes, or not numbers
        raise ValueError(f"dense_vectors must be one vector per document, all of the same size: {error}") from None


def to_points(ids: Sequence, dense_vectors, colbert_vectors: Sequence, payloads: Sequence[dict] | None = None, *,
              dense_dim: int = DENSE_DIM, colbert_dim: int = COLBERT_DIM) -> list[models.PointStruct]:
    """One point per document, from fastembed's outputs.

    Args:
        ids: ``n`` distinct ids (non-negative ints or UUID strings).
        dense_vectors: ``(n, dense_dim)`` array, or ``n`` vectors of ``dense_dim``
            (``list(TextEmbedding(...).embed(texts))``).
        colbert_vectors: ``n`` arrays of shape ``(d_k, colbert_dim)``
            (``list(LateInteractionTextEmbedding(...).passage_embed(texts))``).
        payloads: ``n`` dicts stored with the points (e.g. ``{"text": ...}``), or None.

    Returns:
        ``n`` ``PointStruct``; point ``k`` has ``vector={"dense": dense_vectors[k],
        "colbert": colbert_vectors[k]}`` as lists of floats and ``payload=payloads[k]``.

    Raises:
        ValueError: the inputs have different lengths, an id is repeated, negative or not a
            UUID, or a vector has the wrong shape, is empty or not finite (the argument is named).
        TypeError: an id is neither a whole number nor a string, or token vectors are not numbers.
    """
    ids, colbert_vectors = list(ids), list(colbert_vectors)
    n = len(ids)
    if n == 0:
        raise ValueError("ids is empty: give at least one document")
    dense = _as_dense_rows(dense_vectors)
    if dense.ndim != 2:
        raise ValueError(f"dense_vectors must be 2-D (documents, {dense_dim}), got shape {dense.shape}")
    lengths = {"dense_vectors": len(dense), "colbert_vectors": len(colbert_vectors)}
    if payloads is not None:
        lengths["payloads"] = len(payloads)
    wrong = {key: count for key, count in lengths.items() if count != n}
    if wrong:
        raise ValueError(f"ids has {n} entries but " + ", ".join(f"{key} has {count}" for key, count in wrong.items())
                         + ": give one of each per document")
    if dense.shape[1] != dense_dim:
        raise ValueError(f"dense_vectors has vectors of size {dense.shape[1]}, but {dense_dim} was expected "
                         f"(shape {dense.shape})")
    if not np.isfinite(dense).all():
        raise ValueError("dense_vectors contains NaN or infinity")
    point_ids = [_as_point_id(value, k) for k, value in enumerate(ids)]
    repeated = [str(i) for i, count in Counter(point_ids).items() if count > 1]
    if repeated:
        raise ValueError(f"ids must be distinct (a repeated id overwrites a point); repeated: {', '.join(repeated)}")
    colbert = [as_token_vectors(c, f"colbert_vectors[{k}]", colbert_dim) for k, c in enumerate(colbert_vectors)]
    return [models.PointStruct(id=point_ids[k],
                               vector={DENSE_VECTOR: dense[k].tolist(), COLBERT_VECTOR: colbert[k].tolist()},
                               payload=None if payloads is None else payloads[k])
            for k in range(n)]


def upload_points(client: QdrantClient, name: str, points: Sequence[models.PointStruct], *,
                  batch_size: int = 64, progress: bool = True) -> int:
    """Upsert ``points`` into collection ``name``, ``batch_size`` at a time, with a progress bar.

    Returns:
        the number of points sent.
    """
    from tqdm.auto import tqdm

    points = list(points)
    with tqdm(total=len(points), desc=f"Uploading to {name}", unit="point", disable=not progress) as bar:
        for start in range(0, len(points), batch_size):
            batch = points[start:start + batch_size]
            client.upsert(name, points=batch, wait=True)
            bar.update(len(batch))
    return len(points)

