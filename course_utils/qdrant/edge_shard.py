"""A Qdrant Edge shard that lives in a temporary folder of its own, and the HNSW graphs the course builds in one.

The course's Edge indexes (exact MaxSim, quantized, hybrid, pages, MUVERA) open one shard in a fresh
folder; :class:`TemporaryShard` gives them one way to fill it, build its graphs, close it and delete
the folder, by hand or at the end of a ``with`` block.

Where a vector gets an HNSW graph (lesson 7's pooled vectors, lesson 8's MUVERA encodings), it is
configured by :func:`hnsw_graph` and the shard by :func:`graph_shard_config`, so that Edge really
builds the graph and really walks it, even on the course's 200 passages:

- the optimizers' ``indexing_threshold`` is 1 KB: the optimizer indexes any segment (by default it
  leaves segments under 10,000 KB of vectors unindexed); ``shard.optimize()`` builds the graph;
- the graph's ``full_scan_threshold`` is 1 KB: a search walks the graph of any segment (by default a
  segment under 10,000 KB of vectors is scanned whatever its graph: 218 MUVERA encodings of 10,240
  float32 numbers are about 8,700 KB, so the course corpus would be scanned).

A search with ``SearchParams(exact=True)`` still scans, which is how the course compares a graph with
a scan on the same shard.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable

import qdrant_edge as edge

__all__ = ["GRAPH_EF_CONSTRUCT", "GRAPH_M", "TemporaryShard", "graph_shard_config", "hnsw_graph"]

#: HNSW graph: links per node, and the candidate list kept while building it.
GRAPH_M, GRAPH_EF_CONSTRUCT = 16, 64


def hnsw_graph(graph: bool = True, *, m: int = GRAPH_M, ef_construct: int = GRAPH_EF_CONSTRUCT) -> edge.HnswIndexConfig:
    """An HNSW graph of ``m`` links per node (``m = 0`` when ``graph`` is False: no graph, always scanned),
    walked at any segment size (``full_scan_threshold`` 1 KB, see the module docstring)."""
    if graph and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
        raise ValueError(f"m (links per node of the graph) must be a whole number >= 1, got {m!r}")
    if isinstance(ef_construct, bool) or not isinstance(ef_construct, int) or ef_construct < 4:
        raise ValueError(f"ef_construct must be a whole number >= 4, got {ef_construct!r}")
    return edge.HnswIndexConfig(m=m if graph else 0, ef_construct=ef_construct, full_scan_threshold=1)


def graph_shard_config(vectors: dict[str, edge.EdgeVectorParams]) -> edge.EdgeConfig:
    """A shard of these named vectors whose optimizer indexes every segment (``indexing_threshold`` 1 KB)."""
    return edge.EdgeConfig(vectors=vectors, wal_enabled=False,
                           optimizers=edge.EdgeOptimizersConfig(indexing_threshold=1))


class TemporaryShard:
    """Mixin for a class whose ``self.shard`` (an open ``qdrant_edge.EdgeShard``) lives in ``self.folder``."""

    def _upsert(self, points: Iterable[edge.Point], batch_size: int = 64) -> None:
        """Send the points to the shard, ``batch_size`` per update."""
        batch = []
        for point in points:
            batch.append(point)
            if len(batch) == batch_size:
                self.shard.update(edge.UpdateOperation.upsert_points(batch))
                batch = []
        if batch:
            self.shard.update(edge.UpdateOperation.upsert_points(batch))

    def _build_graphs(self) -> float:
        """Build the shard's HNSW graphs now (``shard.optimize()``); return the seconds it took."""
        start = time.perf_counter()
        self.shard.optimize()
        return time.perf_counter() - start

    def close(self) -> None:
        """Close the shard and delete its folder (safe to call twice)."""
        if getattr(self, "shard", None) is not None:
            self.shard.close()
            self.shard = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
