"""Pooled prefetch of page images in Qdrant Edge: an HNSW graph on the pooled vectors against a scan. One run.

    .venv/bin/python -m benchmarks.pooled_prefetch                       # sizes 250 ... 4,000 pages
    .venv/bin/python -m benchmarks.pooled_prefetch --sizes 500 1000 20000 --queries 20

Lesson 7's recipe keeps an HNSW graph on the pooled multivectors and reads the full ones exactly, only
for the rerank. This measures where the graph starts to pay, on synthetic pages shaped like the stand-in
ColModernVBERT's landscape pages (3 x 4 tiles of 8 x 8 patches, a global view and 42 text and marker
tokens: 874 vectors; pooled by rows: 24 + 8 rows and the 42 text tokens = 74 vectors, or 32 without
the text tokens). Each synthetic page has a few topics: every row of patches is one topic plus noise
(a line of text), the global view mixes them, and the text and marker tokens are the same prompt on
every page (plus a little noise). A query is 20 noisy copies of patches of one page plus 10 padding
vectors equal to the prompt's ``<end_of_utterance>`` token, as the stand-ins' queries are.

For each collection size and each pooling (with and without the text tokens) it builds a Qdrant Edge
shard of the pooled vectors with an HNSW graph (m = 16, ef_construct = 64) and reports:

- the graph's build time (``shard.optimize()``);
- the first stage's median time per query: the graph's top ``--candidates`` against an exact scan of every page;
- the graph's candidate recall: the share of the scan's top ``--candidates`` that the graph also returns;
- whether the graph is faster (the crossover: the smallest size where it is).

The rerank reads only the candidates' full vectors, so its cost does not grow with the collection: it
is measured once (exact MaxSim over ``--candidates`` pages' 874 full vectors) and added to both for the
recipe's total. Timings depend on the machine and its load: run it on a quiet machine, with
``nice`` on a shared one. Nothing here fails on a timing; the exit status is 1 only if the graph's
results are not a subset of the pages or its recall is below 0.5 (a broken index).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import qdrant_edge as edge

from course_utils.pages.search import edge_page_vector_params
from course_utils.pages.vectors import PageLayout, pool_page

DIM = 128
SIDE, GRID = 8, (3, 4)
TEXT_TOKENS = 42
END_OF_UTTERANCE = 38  # the prompt token that the query's 10 padding vectors equal
WORD_TOKENS, PADDING_TOKENS = 20, 10
TOPICS = 4000
VECTOR = "pooled"


def synthetic_layout() -> PageLayout:
    """The stand-in ColModernVBERT layout of a 16:9 page: text, then 12 tiles and the global view."""
    n_tiles = GRID[0] * GRID[1] + 1
    n_image = n_tiles * SIDE * SIDE
    labels = ["<text>"] * 3 + ["<image>"] * n_image + ["<text>"] * (TEXT_TOKENS - 3)
    tile = np.full(len(labels), -1, dtype=np.int64)
    row, col = tile.copy(), tile.copy()
    k = np.arange(n_image)
    t, within = np.divmod(k, SIDE * SIDE)
    r, c = np.divmod(within, SIDE)
    tile[3:3 + n_image], row[3:3 + n_image], col[3:3 + n_image] = t, r, c
    return PageLayout(labels, tile, row, col, GRID, SIDE, True, (512, 288))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


@dataclass
class SyntheticPages:
    """A generator of synthetic pages (see the module docstring); page ``k`` is the same on every call."""

    seed: int = 0

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self.topics = _unit(rng.standard_normal((TOPICS, DIM)))
        self.prompt = _unit(rng.standard_normal((TEXT_TOKENS, DIM)))
        self.layout = synthetic_layout()
        self.map_rows = GRID[0] * SIDE

    def page(self, k: int) -> np.ndarray:
        """float32 ``(874, 128)``: the full vectors of page ``k``, in the layout's order."""
        rng = np.random.default_rng([self.seed, k])
        own = self.topics[rng.integers(0, TOPICS, 6)]
        line_topic = own[rng.integers(0, len(own), self.map_rows)]  # one topic per row of patches
        rows, _ = self.layout.page_row_col()
        vectors = np.empty((len(self.layout.labels), DIM), dtype=np.float32)
        local = self.layout.local
        noise = rng.standard_normal((len(vectors), DIM)).astype(np.float32) / np.sqrt(DIM)  # rows of length ~1
        vectors[local] = line_topic[rows[local]] + 0.8 * noise[local]
        in_global = (self.layout.tile >= 0) & ~local
        vectors[in_global] = own[rng.integers(0, len(own), int(in_global.sum()))] + noise[in_global]
        text = self.layout.tile < 0
        vectors[text] = self.prompt + 0.1 * noise[text]
        return _unit(vectors)

    def query(self, target: int, seed: int) -> np.ndarray:
        """float32 ``(30, 128)``: 20 noisy patches of page ``target``, then 10 padding vectors."""
        rng = np.random.default_rng([self.seed, 10**9 + seed])
        patches = self.page(target)[self.layout.local]
        noise = rng.standard_normal((WORD_TOKENS, DIM)) / np.sqrt(DIM)
        words = patches[rng.integers(0, len(patches), WORD_TOKENS)] + 0.3 * noise
        padding = np.repeat(self.prompt[END_OF_UTTERANCE][None], PADDING_TOKENS, axis=0)
        return np.vstack([_unit(words), padding]).astype(np.float32)

    def pooled(self, k: int, keep_text: bool) -> np.ndarray:
        return pool_page(self.page(k), self.layout, by="rows", keep_text=keep_text)


class PooledShard:
    """The pooled vectors of pages ``0..n-1`` in a Qdrant Edge shard, with or without an HNSW graph."""

    def __init__(self, pooled: Sequence[np.ndarray], graph: bool = True):
        self.folder = tempfile.mkdtemp(prefix="course-pooled-prefetch-")
        config = edge.EdgeConfig(vectors={VECTOR: edge_page_vector_params(DIM, graph=graph)}, wal_enabled=False,
                                 optimizers=edge.EdgeOptimizersConfig(indexing_threshold=1))
        self.shard = edge.EdgeShard.create(self.folder, config)
        for start in range(0, len(pooled), 256):
            points = [edge.Point(k, {VECTOR: pooled[k]}) for k in range(start, min(start + 256, len(pooled)))]
            self.shard.update(edge.UpdateOperation.upsert_points(points))
        began = time.perf_counter()
        self.shard.optimize()
        self.build_seconds = time.perf_counter() - began

    def top(self, query: np.ndarray, limit: int, exact: bool) -> list[int]:
        request = edge.QueryRequest(limit=limit, query=edge.Query.Nearest(query.tolist(), using=VECTOR),
                                    params=edge.SearchParams(exact=exact))
        return [hit.id for hit in self.shard.query(request)]

    def close(self) -> None:
        self.shard.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _ms_per_query(function, queries) -> tuple[float, list]:
    """Median ms of one call per query (robust to a shared machine's hiccups), and the results."""
    function(queries[0])  # warm up
    times, results = [], []
    for query in queries:
        began = time.perf_counter()
        results.append(function(query))
        times.append(time.perf_counter() - began)
    return float(np.median(times)) * 1e3, results


def _graph_and_scan(shard: PooledShard, queries, limit: int) -> tuple[float, float, list, list]:
    """Median ms per query of the graph and of the scan, timed query by query in turn (a fair share of any
    load on the machine), and their results."""
    shard.top(queries[0], limit, exact=False), shard.top(queries[0], limit, exact=True)  # warm up
    times: dict[bool, list[float]] = {False: [], True: []}
    results: dict[bool, list] = {False: [], True: []}
    for query in queries:
        for exact in (False, True):
            began = time.perf_counter()
            results[exact].append(shard.top(query, limit, exact=exact))
            times[exact].append(time.perf_counter() - began)
    return (float(np.median(times[False])) * 1e3, float(np.median(times[True])) * 1e3, results[False],
            results[True])


def rerank_ms(pages: SyntheticPages, candidates: int, queries: Sequence[np.ndarray]) -> float:
    """ms per query of the rerank: exact MaxSim over ``candidates`` pages' full vectors in Qdrant Edge."""
    folder = tempfile.mkdtemp(prefix="course-pooled-rerank-")
    config = edge.EdgeConfig(vectors={"full": edge_page_vector_params(DIM, graph=False)}, wal_enabled=False)
    shard = edge.EdgeShard.create(folder, config)
    try:
        for k in range(candidates):
            shard.update(edge.UpdateOperation.upsert_points([edge.Point(k, {"full": pages.page(k)})]))
        request = [edge.QueryRequest(limit=candidates, query=edge.Query.Nearest(q.tolist(), using="full"),
                                     params=edge.SearchParams(exact=True)) for q in queries]
        ms, _ = _ms_per_query(shard.query, request)
        return ms
    finally:
        shard.close()
        shutil.rmtree(folder, ignore_errors=True)


def measure(sizes: Sequence[int], n_queries: int, candidates: int, seed: int = 0,
            text: Sequence[bool] = (True, False)) -> tuple[list[dict], float]:
    """One row per (size, pooling): build seconds, ms per query of graph and scan, candidate recall.

    ``text``: which poolings to measure: with the text tokens kept (True), dropped (False), or both.
    """
    pages = SyntheticPages(seed)
    rows = []
    largest = max(sizes)
    rng = np.random.default_rng(seed)
    for keep_text in text:
        pooled = [pages.pooled(k, keep_text) for k in range(largest)]
        for size in sorted(sizes):
            targets = rng.integers(0, size, n_queries)
            queries = [pages.query(int(t), n) for n, t in enumerate(targets)]
            shard = PooledShard(pooled[:size])
            try:
                limit = min(candidates, size)
                graph_ms, scan_ms, graph, scan = _graph_and_scan(shard, queries, limit)
            finally:
                shard.close()
            recall = float(np.mean([len(set(g) & set(s)) / len(s) for g, s in zip(graph, scan)]))
            found = float(np.mean([int(t) in g for t, g in zip(targets, graph)]))
            valid = all(0 <= i < size for g in graph for i in g)
            rows.append({"size": size, "text": keep_text, "vectors": len(pooled[0]), "build_s": shard.build_seconds,
                         "graph_ms": graph_ms, "scan_ms": scan_ms, "recall": recall, "target_found": found,
                         "valid": valid})
            r = rows[-1]
            print(f"  {size:>6} pages, text tokens {'kept' if keep_text else 'dropped'}: build {r['build_s']:.1f} s, "
                  f"scan {r['scan_ms']:.2f} ms, graph {r['graph_ms']:.2f} ms, recall {r['recall']:.3f}", flush=True)
    return rows, rerank_ms(pages, min(candidates, largest), [pages.query(0, n) for n in range(n_queries)])


def crossover(rows: list[dict], keep_text: bool) -> int | None:
    """The smallest size from which the graph is faster than the scan at every measured size (None: never)."""
    mine = sorted((r for r in rows if r["text"] == keep_text), key=lambda r: r["size"])
    for n, row in enumerate(mine):
        if all(r["graph_ms"] < r["scan_ms"] for r in mine[n:]):
            return row["size"]
    return None


def table(rows: list[dict], rerank: float, candidates: int) -> str:
    """The measurements as a Markdown table, with the crossover of each pooling below it."""
    lines = [f"| pages | text tokens | pooled vectors | graph build s | scan ms | graph ms | graph recall of the "
             f"scan's top {candidates} | query's page in graph's top {candidates} | recipe ms, scan / graph |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['size']:,} | {'kept' if r['text'] else 'dropped'} | {r['vectors']} | {r['build_s']:.1f} | "
                     f"{r['scan_ms']:.2f} | {r['graph_ms']:.2f} | {r['recall']:.3f} | {r['target_found']:.2f} | "
                     f"{r['scan_ms'] + rerank:.1f} / {r['graph_ms'] + rerank:.1f} |")
    lines.append(f"\nrerank (exact MaxSim over {candidates} pages' full vectors): {rerank:.2f} ms per query, "
                 "the same at every size")
    for keep_text in sorted({r["text"] for r in rows}, reverse=True):
        size = crossover(rows, keep_text)
        lines.append(f"text tokens {'kept' if keep_text else 'dropped'}: the graph is faster than the scan "
                     + (f"from {size:,} pages on (at every measured size from there)" if size else
                        "at no measured size"))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000, 4000])
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--text", choices=["kept", "dropped", "both"], default="both",
                        help="pool with the text and marker tokens kept, dropped, or both (default)")
    args = parser.parse_args(argv)
    if min(args.sizes) < 2 or args.queries < 1 or args.candidates < 1:
        parser.error("--sizes must be at least 2 pages, --queries and --candidates at least 1")
    text = {"kept": (True,), "dropped": (False,), "both": (True, False)}[args.text]
    rows, rerank = measure(args.sizes, args.queries, args.candidates, text=text)
    print(table(rows, rerank, args.candidates))
    broken = [r for r in rows if not r["valid"] or r["recall"] < 0.5]
    for r in broken:
        print(f"BROKEN: {r['size']} pages: graph results invalid or recall {r['recall']:.3f} < 0.5")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
