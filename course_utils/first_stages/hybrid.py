"""Lessons 5a and 5b's collection: dense, BM25 (sparse, IDF), MUVERA and ColBERT vectors, and one pipeline query.

The same layout and the same query run in qdrant-client (embedded mode or a server) and in
Qdrant Edge (the Rust engine, in-process). The pipeline, in one request::

    prefetch: [ prefetch: [BM25 top n, dense top n]  fused by RRF, top m ]   then ColBERT MaxSim, top limit

Named vectors of a point (``n`` passages):

- ``"dense"``: ``(dense_dim,)`` float, cosine;
- ``"bm25"``: sparse (term ids and weights, from fastembed's ``Qdrant/bm25``); Qdrant multiplies
  by the IDF it computes itself (``Modifier.IDF``);
- ``"muvera"``: ``(fde_dim,)`` float, dot product (a MUVERA FDE);
- ``"colbert"``: ``(tokens, colbert_dim)`` multivector, MaxSim, no HNSW graph (rerank only).

:class:`EdgeMuveraIndex` (lesson 8) keeps only ``"muvera"`` and ``"colbert"``, with an HNSW graph on the
FDEs: MUVERA -> ColBERT as a production system would serve it, the graph's top candidates by FDE
reranked by exact MaxSim in the same Edge query.
"""

from __future__ import annotations

import numbers
import shutil
import tempfile
from collections.abc import Sequence

import numpy as np
import qdrant_edge as edge
from qdrant_client import QdrantClient, models

from course_utils.qdrant.edge_shard import (GRAPH_EF_CONSTRUCT, GRAPH_M, TemporaryShard, graph_shard_config,
                                            hnsw_graph)

__all__ = ["EdgeHybridIndex", "EdgeMuveraIndex", "create_hybrid_collection", "hybrid_points", "muvera_request",
           "pipeline_by_hand", "pipeline_request"]

DENSE, BM25, MUVERA, COLBERT = "dense", "bm25", "muvera", "colbert"


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def create_hybrid_collection(client: QdrantClient, name: str, dense_dim: int, colbert_dim: int,
                             fde_dim: int | None = None) -> None:
    """(Re)create collection ``name`` with the named vectors above (no ``"muvera"`` when ``fde_dim`` is None)."""
    dims = {n: _positive_int(v, n) for n, v in (("dense_dim", dense_dim), ("colbert_dim", colbert_dim),
                                                 ("fde_dim", fde_dim)) if v is not None or n != "fde_dim"}
    if client.collection_exists(name):
        client.delete_collection(name)
    muvera = {} if fde_dim is None else {
        MUVERA: models.VectorParams(size=dims["fde_dim"], distance=models.Distance.DOT)}
    client.create_collection(name, vectors_config={
        DENSE: models.VectorParams(size=dims["dense_dim"], distance=models.Distance.COSINE), **muvera,
        COLBERT: models.VectorParams(size=dims["colbert_dim"], distance=models.Distance.DOT,
                                     multivector_config=models.MultiVectorConfig(
                                         comparator=models.MultiVectorComparator.MAX_SIM),
                                     hnsw_config=models.HnswConfigDiff(m=0)),
    }, sparse_vectors_config={BM25: models.SparseVectorParams(modifier=models.Modifier.IDF)})


def _check_lengths(**columns) -> int:
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every argument needs one entry per passage; got the lengths {lengths}")
    count = next(iter(lengths.values()))
    if count == 0:
        raise ValueError("there are no passages: the lists are empty")
    return count


def hybrid_points(dense, sparse, colbert, fde, payloads: Sequence[dict]) -> list[models.PointStruct]:
    """Points 0..n-1 with the named vectors and a payload.

    Args:
        dense: ``n`` arrays ``(dense_dim,)``; sparse: ``n`` fastembed ``SparseEmbedding``;
        colbert: ``n`` arrays ``(tokens, colbert_dim)``; fde: ``n`` arrays ``(fde_dim,)``, or None (no MUVERA);
        payloads: ``n`` dicts.
    """
    fdes = {} if fde is None else {"fde": fde}
    count = _check_lengths(dense=dense, sparse=sparse, colbert=colbert, payloads=payloads, **fdes)
    return [models.PointStruct(id=i, payload=payloads[i], vector={
        DENSE: np.asarray(dense[i], dtype=float).tolist(),
        BM25: models.SparseVector(indices=sparse[i].indices.tolist(), values=sparse[i].values.tolist()),
        **({} if fde is None else {MUVERA: np.asarray(fde[i], dtype=float).tolist()}),
        COLBERT: np.asarray(colbert[i], dtype=float).tolist()}) for i in range(count)]


def pipeline_request(dense_query, sparse_query, colbert_query, *, first_limit: int, fused_limit: int,
                     limit: int, rrf_k: int) -> dict:
    """Keyword arguments of ``query_points`` for the whole pipeline (``rrf_k`` in Qdrant's convention)."""
    first = _positive_int(first_limit, "first_limit")
    sparse = models.SparseVector(indices=sparse_query.indices.tolist(), values=sparse_query.values.tolist())
    fused = models.Prefetch(
        prefetch=[models.Prefetch(query=sparse, using=BM25, limit=first),
                  models.Prefetch(query=np.asarray(dense_query, dtype=float).tolist(), using=DENSE, limit=first)],
        query=models.RrfQuery(rrf=models.Rrf(k=_positive_int(rrf_k, "rrf_k"))),
        limit=_positive_int(fused_limit, "fused_limit"))
    return {"prefetch": fused, "query": np.asarray(colbert_query, dtype=float).tolist(), "using": COLBERT,
            "limit": _positive_int(limit, "limit")}


def muvera_request(fde_query, colbert_query, *, candidates: int, limit: int) -> dict:
    """Keyword arguments of ``query_points``: MUVERA's top ``candidates`` (FDE dot product), reranked by MaxSim.

    Args:
        fde_query: ``(fde_dim,)`` the query's FDE (``Muvera.process_query``); colbert_query: ``(tokens, dim)``.
    """
    first = models.Prefetch(query=np.asarray(fde_query, dtype=float).tolist(), using=MUVERA,
                            limit=_positive_int(candidates, "candidates"))
    return {"prefetch": first, "query": np.asarray(colbert_query, dtype=float).tolist(), "using": COLBERT,
            "limit": _positive_int(limit, "limit")}


class EdgeHybridIndex(TemporaryShard):
    """The same collection in a Qdrant Edge shard (temporary folder, deleted by :meth:`close`)."""

    def __init__(self, dense, sparse, colbert, fde=None, *, batch_size: int = 64):
        count = _check_lengths(dense=dense, sparse=sparse, colbert=colbert, **({} if fde is None else {"fde": fde}))
        dims = (len(dense[0]), np.asarray(colbert[0]).shape[1], None if fde is None else len(fde[0]))
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-hybrid-")
        try:
            self.shard = edge.EdgeShard.create(self.folder, self._config(*dims))
            for start in range(0, count, batch_size):
                self.shard.update(edge.UpdateOperation.upsert_points([
                    edge.Point(i, {DENSE: np.asarray(dense[i], dtype=np.float32).tolist(),
                                   BM25: edge.SparseVector(sparse[i].indices.tolist(), sparse[i].values.tolist()),
                                   **({} if fde is None else {MUVERA: np.asarray(fde[i], dtype=np.float32).tolist()}),
                                   COLBERT: np.asarray(colbert[i], dtype=np.float32).tolist()})
                    for i in range(start, min(start + batch_size, count))]))
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @staticmethod
    def _config(dense_dim: int, colbert_dim: int, fde_dim: int | None) -> edge.EdgeConfig:
        no_graph = edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000)
        muvera = {} if fde_dim is None else {MUVERA: edge.EdgeVectorParams(size=fde_dim, distance=edge.Distance.Dot)}
        return edge.EdgeConfig(vectors={
            DENSE: edge.EdgeVectorParams(size=dense_dim, distance=edge.Distance.Cosine), **muvera,
            COLBERT: edge.EdgeVectorParams(size=colbert_dim, distance=edge.Distance.Dot, hnsw_config=no_graph,
                                           multivector_config=edge.MultiVectorConfig(
                                               edge.MultiVectorComparator.MaxSim)),
        }, sparse_vectors={BM25: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)}, wal_enabled=False)

    def pipeline(self, dense_query, sparse_query, colbert_query, *, first_limit: int, fused_limit: int,
                 limit: int, rrf_k: int) -> list[tuple[int, float]]:
        """The pipeline of :func:`pipeline_request`: ``[(point id, MaxSim score), ...]``, best first."""
        exact = edge.SearchParams(exact=True)
        first = _positive_int(first_limit, "first_limit")
        sparse = edge.SparseVector(sparse_query.indices.tolist(), sparse_query.values.tolist())
        fused = edge.Prefetch(
            limit=_positive_int(fused_limit, "fused_limit"), query=edge.Fusion.Rrf(_positive_int(rrf_k, "rrf_k")),
            prefetches=[edge.Prefetch(limit=first, query=edge.Query.Nearest(sparse, using=BM25)),
                        edge.Prefetch(limit=first, params=exact, query=edge.Query.Nearest(
                            np.asarray(dense_query, dtype=np.float32).tolist(), using=DENSE))])
        hits = self.shard.query(edge.QueryRequest(
            limit=_positive_int(limit, "limit"), prefetches=[fused], params=exact,
            query=edge.Query.Nearest(np.asarray(colbert_query, dtype=np.float32).tolist(), using=COLBERT)))
        return [(int(hit.id), float(hit.score)) for hit in hits]


    def muvera_pipeline(self, fde_query, colbert_query, *, candidates: int, limit: int) -> list[tuple[int, float]]:
        """The request of :func:`muvera_request` in Edge: ``[(point id, MaxSim score), ...]``, best first."""
        return _edge_muvera_query(self.shard, fde_query, colbert_query, candidates=candidates, limit=limit,
                                  first_params=edge.SearchParams(exact=True))


def _edge_muvera_query(shard, fde_query, colbert_query, *, candidates: int, limit: int,
                       first_params: edge.SearchParams) -> list[tuple[int, float]]:
    """One Edge query: the top ``candidates`` by FDE dot product (searched with ``first_params``), then the
    ``limit`` best of them by exact MaxSim: ``[(point id, MaxSim score), ...]``, best first."""
    first = edge.Prefetch(limit=_positive_int(candidates, "candidates"), params=first_params, query=edge.Query.Nearest(
        np.asarray(fde_query, dtype=np.float32).tolist(), using=MUVERA))
    hits = shard.query(edge.QueryRequest(
        limit=_positive_int(limit, "limit"), prefetches=[first], params=edge.SearchParams(exact=True),
        query=edge.Query.Nearest(np.asarray(colbert_query, dtype=np.float32).tolist(), using=COLBERT)))
    return [(int(hit.id), float(hit.score)) for hit in hits]


class EdgeMuveraIndex(TemporaryShard):
    """MUVERA -> ColBERT in a Qdrant Edge shard, with an HNSW graph on the FDEs (lesson 8 and its benchmark).

    Passage ``k`` is point ``k`` with two named vectors:

    - ``"muvera"``: its FDE, ``(fde_dim,)`` float32, dot product, with an **HNSW graph** (``m`` links per
      node, ``ef_construct``; see :func:`course_utils.qdrant.edge_shard.hnsw_graph`: Edge builds it when
      the passages are loaded, in :attr:`build_seconds`, and walks it at any collection size);
    - ``"colbert"``: its token vectors ``(tokens, dim)``, MaxSim of dot products, no graph (rerank only).

    :meth:`search` is one Edge query: the graph's top ``candidates`` by FDE dot product (approximate:
    the graph may miss some of the exact top ``candidates``), reranked by exact MaxSim over their
    token vectors. The shard lives in a temporary folder that :meth:`close` (or leaving a ``with``
    block) deletes::

        with EdgeMuveraIndex(colbert_passages, fde_passages) as index:
            hits = index.search(fde_query, colbert_query, candidates=30, limit=10, hnsw_ef=64)

    Args:
        colbert: ``n`` arrays ``(tokens, dim)``, or a ``PackedCorpus``.
        fde: ``(n, fde_dim)`` the passages' FDEs (``Muvera.process_document``).
        graph: False for no graph (``m = 0``: every search scans every FDE).
        m, ef_construct: the graph's links per node and its build-time candidate list.
    """

    def __init__(self, colbert, fde, *, graph: bool = True, m: int = GRAPH_M, ef_construct: int = GRAPH_EF_CONSTRUCT,
                 batch_size: int = 64):
        fde = np.asarray(fde, dtype=np.float32)
        if fde.ndim != 2:
            raise ValueError(f"fde must be an (n, fde_dim) array, one FDE per passage, got shape {fde.shape}")
        if not np.isfinite(fde).all():
            raise ValueError("fde contains NaN or infinite values")
        self.size = _check_lengths(colbert=colbert, fde=fde)
        document = colbert.document if hasattr(colbert, "document") else lambda k: colbert[k]
        colbert_dim = np.asarray(document(0)).shape[-1]
        vectors = {MUVERA: edge.EdgeVectorParams(size=fde.shape[1], distance=edge.Distance.Dot,
                                                 hnsw_config=hnsw_graph(graph, m=m, ef_construct=ef_construct)),
                   COLBERT: edge.EdgeVectorParams(size=colbert_dim, distance=edge.Distance.Dot,
                                                  hnsw_config=hnsw_graph(False),
                                                  multivector_config=edge.MultiVectorConfig(
                                                      edge.MultiVectorComparator.MaxSim))}
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-muvera-")
        try:
            self.shard = edge.EdgeShard.create(self.folder, graph_shard_config(vectors))
            self._upsert((edge.Point(k, {MUVERA: fde[k], COLBERT: np.asarray(document(k), dtype=np.float32)})
                          for k in range(self.size)), batch_size)
            self.build_seconds = self._build_graphs()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @property
    def indexed_vectors(self) -> int:
        """How many vectors Edge has put in a graph (the ``n`` FDEs once the graph is built; 0 without one)."""
        return int(self.shard.info().indexed_vectors_count)

    def search(self, fde_query, colbert_query, *, candidates: int, limit: int, hnsw_ef: int | None = None,
               exact_prefetch: bool = False) -> list[tuple[int, float]]:
        """The ``limit`` best of the graph's top ``candidates``, by exact MaxSim: ``[(passage, score), ...]``.

        Args:
            fde_query: ``(fde_dim,)`` the query's FDE (``Muvera.process_query``); colbert_query: ``(tokens, dim)``.
            hnsw_ef: the graph search's candidate list (Qdrant walks with ``max(hnsw_ef, candidates)``;
                default: ``ef_construct``): larger finds more of the exact top ``candidates``, slower.
            exact_prefetch: scan every FDE instead of walking the graph (the same request, exact).
        """
        if hnsw_ef is not None:
            hnsw_ef = _positive_int(hnsw_ef, "hnsw_ef")
        return _edge_muvera_query(self.shard, fde_query, colbert_query, candidates=candidates, limit=limit,
                                  first_params=edge.SearchParams(exact=exact_prefetch, hnsw_ef=hnsw_ef))


def _ties_at(sorted_scores: Sequence[float], cut: int) -> bool:
    """Whether the scores ranked ``cut`` and ``cut + 1`` are equal (then engines may keep either)."""
    return len(sorted_scores) > cut and bool(np.isclose(sorted_scores[cut - 1], sorted_scores[cut], rtol=1e-6))


def _ties_within(sorted_scores: Sequence[float], cut: int) -> bool:
    """Whether two equal scores sit among the first ``cut + 1`` (their order, hence their ranks, is the engine's)."""
    head = np.asarray(sorted_scores[:cut + 1], dtype=float)
    return bool(np.any(np.isclose(head[1:], head[:-1], rtol=1e-6)))


def pipeline_by_hand(bm25_scores, dense_scores, rerank, *, first_limit: int, fused_limit: int, limit: int,
                     rrf_k: int) -> tuple[list[tuple[int, float]], bool]:
    """The pipeline of :func:`pipeline_request`, step by step in numpy, and whether a tie made it ambiguous.

    Args:
        bm25_scores: ``(n,)`` BM25 score of every passage (0 = no shared term; Qdrant returns only
            passages that share a term); dense_scores: ``(n,)`` cosine of every passage.
        rerank: a function from a list of passage indices to their ``(len,)`` MaxSim scores.
        rrf_k: Qdrant's convention (``1 / (rrf_k + rank0)``).

    Returns:
        ``([(passage index, MaxSim), ...] best first, tied)``: ``tied`` is True when two equal scores
        sit inside a first-stage list (engines order them their own way, which changes the ranks
        that RRF adds up) or on either side of the fused_limit or limit cut-off.
    """
    from course_utils.first_stages.fusion import rrf

    bm25, dense = np.asarray(bm25_scores, dtype=float), np.asarray(dense_scores, dtype=float)
    if bm25.ndim != 1 or bm25.shape != dense.shape:
        raise ValueError(f"bm25_scores and dense_scores must both have shape (n,), got {bm25.shape} and {dense.shape}")
    first = _positive_int(first_limit, "first_limit")
    lists, tied = [], False
    for scores in (bm25, dense):
        order = sorted(np.flatnonzero(scores > 0) if scores is bm25 else range(len(scores)), key=lambda i: -scores[i])
        tied |= _ties_within([scores[i] for i in order], first)  # a tie changes ranks, hence the fusion
        lists.append([int(i) for i in order[:first]])
    fused = rrf(lists, k=_positive_int(rrf_k, "rrf_k") - 1)
    tied |= _ties_at([score for _, score in fused], _positive_int(fused_limit, "fused_limit"))
    candidates = [item for item, _ in fused[:fused_limit]]
    maxsim = np.asarray(rerank(candidates), dtype=float)
    order = sorted(range(len(candidates)), key=lambda i: -maxsim[i])
    tied |= _ties_at([maxsim[i] for i in order], _positive_int(limit, "limit"))
    return [(candidates[i], float(maxsim[i])) for i in order[:limit]], tied
