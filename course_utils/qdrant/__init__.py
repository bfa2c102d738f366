"""Storing and searching the course's vectors with Qdrant.

One idea per module; every public name is importable from here
(``from course_utils.qdrant import connect``):

- :mod:`~course_utils.qdrant.connection`: :func:`connect` opens a ``QdrantClient``, a Qdrant
  server when ``QDRANT_URL`` is set (with ``QDRANT_API_KEY``), otherwise Qdrant's embedded
  local mode; :func:`describe_connection`, :func:`is_embedded`, and :func:`collection_name`
  (a per-student prefix on a shared server, from ``QDRANT_COLLECTION_PREFIX``).
- :mod:`~course_utils.qdrant.collection`: the course's collection layout
  (:func:`course_vectors_config`, :func:`create_course_collection`: a ``"dense"`` 384-d cosine
  vector and a ``"colbert"`` MaxSim multivector of 128-d token rows per document), and
  :func:`to_points` / :func:`upload_points` from fastembed's outputs.
- :mod:`~course_utils.qdrant.edge_index`: :class:`EdgeMaxSimIndex`, the Qdrant engine itself
  (Qdrant Edge, in-process) as an exact MaxSim reference.
- :mod:`~course_utils.qdrant.display`: :func:`format_side_by_side` (ranked lists as a table).
- For graded tests (lesson 4), plain data from what a student builds:
  :mod:`~course_utils.qdrant.summaries` (:func:`vectors_config_summary`, :func:`points_summary`,
  :func:`query_request_summary`) and :mod:`~course_utils.qdrant.fixed_runs`, runs on a small
  in-memory collection of fixed vectors (:func:`scores_with_config`, :func:`stored_points`,
  :func:`search_fixed_collection`, :func:`engine_hits`).

A rerank query in a lesson looks like this::

    client.query_points(name, prefetch=models.Prefetch(query=dense_query, using="dense", limit=100),
                        query=colbert_query, using="colbert", limit=10)
"""

from course_utils.qdrant.collection import (COLBERT_VECTOR, DENSE_VECTOR, course_vectors_config,
                                            create_course_collection, to_points, upload_points)
from course_utils.qdrant.connection import collection_name, connect, describe_connection, is_embedded
from course_utils.qdrant.display import format_side_by_side
from course_utils.qdrant.edge_index import EdgeMaxSimIndex
from course_utils.qdrant.fixed_runs import engine_hits, scores_with_config, search_fixed_collection, stored_points
from course_utils.qdrant.summaries import points_summary, query_request_summary, vectors_config_summary

__all__ = [
    "COLBERT_VECTOR", "DENSE_VECTOR", "EdgeMaxSimIndex", "collection_name", "connect", "course_vectors_config",
    "create_course_collection", "describe_connection", "engine_hits", "format_side_by_side", "is_embedded",
    "points_summary", "query_request_summary", "scores_with_config", "search_fixed_collection", "stored_points",
    "to_points", "upload_points", "vectors_config_summary",
]
