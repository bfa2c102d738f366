"""What a student builds with qdrant-client, as plain data for graded checks.

A graded check compares plain data (numbers, strings, lists, dicts) with a literal. These
functions turn the qdrant-client objects a student's function returns into such data.
They are course code, so a check can trust them; they print nothing and emit no warning
(a graded cell must stay silent). Anything that is not a vector becomes what
:func:`course_utils.lesson.checks.plain` makes of it.

>>> from qdrant_client import models
>>> vectors_config_summary({"dense": models.VectorParams(size=4, distance=models.Distance.COSINE)})
{'dense': {'size': 4, 'distance': 'Cosine', 'multivector': None, 'hnsw': 'on'}}
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from qdrant_client import models

from course_utils.lesson.checks import plain

__all__ = ["points_summary", "query_request_summary", "vectors_config_summary"]


def _as_model(value, model_class, where: str):
    """``value`` as a qdrant-client ``model_class`` (a dict is validated into one).

    Raises:
        ValueError: a dict that is not a valid ``model_class``.
        TypeError: anything else.
    """
    if isinstance(value, model_class):
        return value
    if isinstance(value, Mapping):
        try:
            return model_class.model_validate(dict(value))
        except ValueError as error:
            raise ValueError(f"{where} is not a valid {model_class.__name__}: {error}") from None
    raise TypeError(f"{where} must be a models.{model_class.__name__}, got {type(value).__name__}")


def vectors_config_summary(config) -> dict[str, dict]:
    """A collection's named-vector configuration as plain data.

    Args:
        config: ``{vector name: models.VectorParams}`` (what ``vectors_config=`` takes).

    Returns:
        ``{name: {"size": int, "distance": "Cosine" | "Dot" | "Euclid" | "Manhattan",
        "multivector": comparator name ("max_sim") or None, "hnsw": "off" if its HNSW graph
        is disabled (m=0) else "on"}}``.

    Raises:
        TypeError: ``config`` is not a dict of ``VectorParams``.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"the configuration must be a dict {{vector name: models.VectorParams}}, "
                        f"got {type(config).__name__}")
    summary = {}
    for name, value in config.items():
        params = _as_model(value, models.VectorParams, f"the configuration of {name!r}")
        multivector = params.multivector_config
        hnsw = params.hnsw_config
        summary[str(name)] = {
            "size": int(params.size),
            "distance": models.Distance(params.distance).value,
            "multivector": None if multivector is None else models.MultiVectorComparator(multivector.comparator).value,
            "hnsw": "off" if hnsw is not None and hnsw.m == 0 else "on",
        }
    return summary


def _point_as_plain(point) -> dict:
    vector = point.vector
    if isinstance(vector, Mapping):
        vector = {str(name): np.asarray(value, dtype=float).tolist() for name, value in vector.items()}
    else:
        vector = np.asarray(vector, dtype=float).tolist()
    return {"id": point.id, "vector": vector, "payload": point.payload}


def points_summary(points) -> list[dict]:
    """Points as plain data: ``[{"id": ..., "vector": {name: lists of floats}, "payload": dict}]``.

    Raises:
        TypeError: ``points`` is not a list of ``models.PointStruct``.
    """
    if not isinstance(points, (list, tuple)):
        raise TypeError(f"expected a list of models.PointStruct, got {type(points).__name__}")
    for k, point in enumerate(points):
        if not isinstance(point, models.PointStruct):
            raise TypeError(f"expected a list of models.PointStruct, but item {k} is a {type(point).__name__}")
    return [_point_as_plain(point) for point in points]


def _query_vector(query):
    """The vector(s) of a query as plain lists (a raw vector or a ``NearestQuery``)."""
    if isinstance(query, models.NearestQuery):
        query = query.nearest
    if query is None or isinstance(query, (str, int)):
        return query
    try:
        return np.asarray(query, dtype=float).tolist()
    except (TypeError, ValueError):  # not numbers (a Document, a SparseVector...): what checks.plain makes of it
        return plain(query)


def query_request_summary(request) -> dict:
    """A ``models.QueryRequest`` as plain data.

    Returns:
        ``{"prefetch": [{"using": str, "limit": int, "query": vector}, ...], "using": str,
        "limit": int, "query": vector or list of token vectors}``; vectors as lists of floats.
        ``prefetch`` is empty when the request has none. Filters are left out: run the
        request with :func:`search_fixed_collection` to see what they select.

    Raises:
        TypeError: ``request`` is not a ``QueryRequest``.
    """
    request = _as_model(request, models.QueryRequest, "the request")
    prefetch = request.prefetch
    prefetches = [] if prefetch is None else list(prefetch) if isinstance(prefetch, list) else [prefetch]
    return {
        "prefetch": [{"using": p.using, "limit": p.limit, "query": _query_vector(p.query)} for p in prefetches],
        "using": request.using,
        "limit": request.limit,
        "query": _query_vector(request.query),
    }

