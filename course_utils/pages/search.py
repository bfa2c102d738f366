"""Pooled prefetch and full rerank of page images, in Qdrant's embedded mode and in Qdrant Edge (lesson 7).

Each page is one point with named multivectors, all compared by MaxSim of dot products:

- ``"rows"`` (and optionally ``"columns"``): the page's patch vectors mean-pooled by rows (by
  columns), a few dozen vectors a page, for the first stage. These carry an **HNSW graph**: pooling
  is what makes a graph over multivectors affordable (every edge of the graph costs a MaxSim
  between two pages' vectors);
- ``"full"``: every vector of the page (hundreds), with no graph (``m = 0``): it is only read
  exactly, for the candidates' rerank.

One request does both: one ``Prefetch`` per pooled vector keeps ``candidates`` pages each, and the
query by ``"full"`` reranks their union exactly. This is the recipe of Qdrant's ColPali
optimisation tutorial. :func:`prefetch_rerank` sends it to qdrant-client and :class:`EdgePageIndex`
to Qdrant Edge. qdrant-client's embedded mode (``QdrantClient(":memory:")`` or a path) never builds
a graph: it always scans every point, whatever the configuration says; a Qdrant server given the
same configuration builds the graphs. Qdrant Edge builds them when :class:`EdgePageIndex` optimizes
the shard, and searches them unless asked for an exact search.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence

import numpy as np
import qdrant_edge as edge
from qdrant_client import QdrantClient, models

from course_utils.qdrant.edge_shard import GRAPH_EF_CONSTRUCT, GRAPH_M, TemporaryShard, graph_shard_config, hnsw_graph

__all__ = [
    "COLUMNS",
    "FULL",
    "ROWS",
    "EdgePageIndex",
    "candidates_needed",
    "create_page_collection",
    "edge_page_vector_params",
    "full_search",
    "overlap_at_k",
    "page_vectors_config",
    "prefetch_rerank",
]

ROWS, COLUMNS, FULL = "rows", "columns", "full"


def _rows(vectors, name: str) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (n, dim) array of vectors, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _pages(full_vectors: Sequence, pooled: dict[str, Sequence | None]) -> tuple[list, dict[str, list], int]:
    """Check the pages: ``full`` list and ``{name: list}`` of the pooled vectors that were given."""
    given = {name: vectors for name, vectors in pooled.items() if vectors is not None}
    lengths = {len(full_vectors), *(len(v) for v in given.values())}
    if len(full_vectors) == 0 or len(lengths) != 1:
        raise ValueError("full_vectors, rows_vectors (and columns_vectors if given) must be non-empty lists of "
                         f"the same length (one entry per page), got lengths {len(full_vectors)} and "
                         f"{[len(v) for v in given.values()]}")
    full = [_rows(v, f"full_vectors[{k}]") for k, v in enumerate(full_vectors)]
    checked = {name: [_rows(v, f"{name}_vectors[{k}]") for k, v in enumerate(vectors)]
               for name, vectors in given.items()}
    dims = {v.shape[1] for v in full} | {v.shape[1] for vectors in checked.values() for v in vectors}
    if len(dims) != 1:
        raise ValueError(f"every page vector must have the same size, got sizes {sorted(dims)}")
    return full, checked, dims.pop()


def page_vectors_config(dim: int = 128, columns: bool = False) -> dict[str, models.VectorParams]:
    """qdrant-client config: ``"rows"`` (and ``"columns"``) with an HNSW graph, ``"full"`` with none.

    All are MaxSim multivectors of ``dim``-d rows compared by dot product. The embedded mode
    ignores the graphs (it always scans); a server builds them.
    """
    def multivector(m: int):
        return models.VectorParams(
            size=dim, distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            hnsw_config=models.HnswConfigDiff(m=m, ef_construct=GRAPH_EF_CONSTRUCT))
    config = {ROWS: multivector(GRAPH_M), FULL: multivector(0)}
    if columns:
        config[COLUMNS] = multivector(GRAPH_M)
    return config


def create_page_collection(client: QdrantClient, name: str, full_vectors: Sequence, rows_vectors: Sequence,
                           payloads: Sequence[dict] | None = None, *, columns_vectors: Sequence | None = None) -> int:
    """(Re)create collection ``name`` with page ``k`` as point ``k``; return the number of points.

    Args:
        full_vectors: ``n`` arrays ``(v_k, dim)``, every vector of each page.
        rows_vectors: ``n`` arrays ``(p_k, dim)``, each page pooled by rows.
        payloads: ``n`` dicts stored with the pages (e.g. ``{"page_id": "p07"}``).
        columns_vectors: optional ``n`` arrays, each page pooled by columns.
    """
    full, pooled, dim = _pages(full_vectors, {ROWS: rows_vectors, COLUMNS: columns_vectors})
    if payloads is not None and len(payloads) != len(full):
        raise ValueError(f"payloads must have one dict per page ({len(full)}), got {len(payloads)}")
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=page_vectors_config(dim, columns=COLUMNS in pooled))
    points = [models.PointStruct(id=k, vector={FULL: full[k].tolist(),
                                                **{n: vectors[k].tolist() for n, vectors in pooled.items()}},
                                 payload=dict(payloads[k]) if payloads is not None else {})
              for k in range(len(full))]
    for start in range(0, len(points), 8):
        client.upsert(name, points[start:start + 8])
    return len(points)


def _ids_scores(points) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p.id for p in points], dtype=np.int64), np.array([p.score for p in points], dtype=np.float32))


def _using(using: str | Sequence[str]) -> list[str]:
    names = [using] if isinstance(using, str) else list(using)
    if not names or any(name not in (ROWS, COLUMNS) for name in names):
        raise ValueError(f"using must name pooled vectors, {ROWS!r} and/or {COLUMNS!r}, got {using!r}")
    return names


def prefetch_rerank(client: QdrantClient, name: str, query_vectors, candidates: int, limit: int,
                    using: str | Sequence[str] = ROWS):
    """One query: the ``candidates`` best pages by each pooled vector in ``using``, reranked by ``"full"``.

    Returns:
        ``(ids, scores)``: int64 ``(limit,)`` page numbers, best first, and their full MaxSim scores.
    """
    q = _rows(query_vectors, "query_vectors").tolist()
    prefetch = [models.Prefetch(query=q, using=pooled, limit=candidates) for pooled in _using(using)]
    response = client.query_points(name, prefetch=prefetch, query=q, using=FULL, limit=limit)
    return _ids_scores(response.points)


def full_search(client: QdrantClient, name: str, query_vectors, limit: int, using: str = FULL):
    """The ``limit`` best pages by MaxSim over ``using`` (default every vector), no prefetch."""
    q = _rows(query_vectors, "query_vectors").tolist()
    return _ids_scores(client.query_points(name, query=q, using=using, limit=limit).points)


def edge_page_vector_params(dim: int, graph: bool) -> edge.EdgeVectorParams:
    """Qdrant Edge params of one MaxSim multivector: an HNSW graph (``GRAPH_M``) if ``graph``, else none."""
    return edge.EdgeVectorParams(
        size=dim, distance=edge.Distance.Dot,
        multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
        hnsw_config=hnsw_graph(graph))


class EdgePageIndex(TemporaryShard):
    """The same vectors in a Qdrant Edge shard (the engine's Rust code, in-process), with real graphs.

    Page ``k`` is point ``k``. The pooled vectors (``"rows"``, and ``"columns"`` if given) get an
    HNSW graph, built once when the pages are loaded (``shard.optimize()``; its seconds are kept in
    :attr:`build_seconds`); ``"full"`` has none and is only read exactly, for the rerank. The shard
    lives in a temporary folder that :meth:`close` (or leaving a ``with`` block) deletes.

    Args:
        full_vectors, rows_vectors, columns_vectors: as :func:`create_page_collection`.
        graph: False to build no graph at all (every search then scans).
    """

    def __init__(self, full_vectors: Sequence, rows_vectors: Sequence, columns_vectors: Sequence | None = None,
                 *, graph: bool = True):
        full, pooled, self.dim = _pages(full_vectors, {ROWS: rows_vectors, COLUMNS: columns_vectors})
        self.size, self.pooled_names = len(full), list(pooled)
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-pages-")
        try:
            vectors = {FULL: edge_page_vector_params(self.dim, graph=False)}
            vectors.update({name: edge_page_vector_params(self.dim, graph=graph) for name in pooled})
            self.shard = edge.EdgeShard.create(self.folder, graph_shard_config(vectors))
            self._upsert(edge.Point(k, {FULL: full[k], **{n: v[k] for n, v in pooled.items()}})
                         for k in range(self.size))
            self.build_seconds = self._build_graphs()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def prefetch_rerank(self, query_vectors, candidates: int, limit: int, using: str | Sequence[str] | None = None,
                        *, exact_prefetch: bool = False, hnsw_ef: int | None = None):
        """As :func:`prefetch_rerank`, in Qdrant Edge: ``(ids, scores)``, best first.

        Args:
            using: the pooled vectors to prefetch by (default: every pooled vector of the index).
            exact_prefetch: scan every page's pooled vectors instead of walking the graph.
            hnsw_ef: the graph search's candidate list (default: Qdrant's, at least ``candidates``).

        The rerank is always exact (a MaxSim over the candidates' full vectors).
        """
        q = _rows(query_vectors, "query_vectors").tolist()
        names = self.pooled_names if using is None else _using(using)
        missing = [name for name in names if name not in self.pooled_names]
        if missing:
            raise ValueError(f"this index has no {missing} vectors: it was built with {self.pooled_names}")
        first_params = edge.SearchParams(exact=exact_prefetch, hnsw_ef=hnsw_ef)
        prefetches = [edge.Prefetch(limit=candidates, query=edge.Query.Nearest(q, using=name), params=first_params)
                      for name in names]
        request = edge.QueryRequest(limit=limit, query=edge.Query.Nearest(q, using=FULL), prefetches=prefetches,
                                    params=edge.SearchParams(exact=True))
        return _ids_scores(self.shard.query(request))

    def full_search(self, query_vectors, limit: int, using: str = FULL, *, exact: bool = True):
        """As :func:`full_search`, in Qdrant Edge (``exact=False`` walks the graph of a pooled vector)."""
        q = _rows(query_vectors, "query_vectors").tolist()
        request = edge.QueryRequest(limit=limit, query=edge.Query.Nearest(q, using=using),
                                    params=edge.SearchParams(exact=exact))
        return _ids_scores(self.shard.query(request))


def overlap_at_k(ranking: Sequence, reference: Sequence, k: int) -> float:
    """Share of the first ``k`` of ``reference`` that are among the first ``k`` of ``ranking`` (0 to 1)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    top = list(reference)[:k]
    if not top:
        raise ValueError("reference is empty: nothing to compare with")
    return len(set(list(ranking)[:k]) & set(top)) / len(top)



def candidates_needed(first_stage: Sequence, reference: Sequence, k: int) -> int | None:
    """How many candidates the first stage must hand on for the rerank to find all of ``reference[:k]``.

    Args:
        first_stage: the first stage's ranking (e.g. page numbers by pooled MaxSim), best first.
        reference: the ranking the rerank should reproduce (full MaxSim over every page), best first.

    Returns:
        ``1 +`` the largest position in ``first_stage`` of a page of ``reference[:k]``; None if one of
        them is not in ``first_stage`` at all.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    top = list(reference)[:k]
    if not top:
        raise ValueError("reference is empty: nothing to compare with")
    position = {page: n for n, page in reversed(list(enumerate(first_stage)))}
    if any(page not in position for page in top):
        return None
    return 1 + max(position[page] for page in top)
