"""How fast is the course's corpus scorer? One command, one table.

    .venv/bin/python -m benchmarks.corpus_scorer                 # 10,000 documents, about 1.1 million token vectors
    .venv/bin/python -m benchmarks.corpus_scorer --documents 2000 --repeat 5

The set-up: one 32-token query against N passages of 20 to 200 random unit-length token
vectors of 128 dimensions, float32 (N = 10,000 gives about 1.1 million token vectors). The
corpus is packed once, as a search engine stores it: a ``PackedCorpus``, one float32 array and
the document offsets, built from the list of arrays that fastembed's ``passage_embed`` returns.
What is timed is scoring a query against it. Every time is the best of ``--repeat`` runs (the
median is printed beside it); the machine is shared, so run it a few times.

It reports:

1. ``score_corpus``'s time, and its ratio to
   (a) the machine's limit: reading the packed corpus once with all cores (``np.sum`` over one
       part per core, in threads);
   (b) Qdrant's own engine doing the same exact MaxSim: Qdrant Edge in-process, one multivector
       with the MaxSim comparator, HNSW off, ``SearchParams(exact=True)``, limit = corpus size;
   (c) qdrant-client's local mode scorer, ``calculate_multi_distance`` (the NumPy code behind
       ``QdrantClient(":memory:")``);
   (d) a per-document loop of ``(Q @ D.T).max(1).sum()``;
2. where the scorer's time goes: the matrix products alone, in the same chunks and threads, and
   the same products at the rate of a 2048 x 2048 matrix product;
3. a batch of 64 queries through ``score_queries``: achieved GFLOP/s as a fraction of the GFLOP/s
   of a 2048 x 2048 float32 matrix product measured in the same run (all cores);
4. the peak extra memory while scoring (every allocation traced by ``tracemalloc``, the result
   included), at two corpus sizes, against the size of the corpus.

Each line says whether its target is met. The exit status is 1 if any two scorers disagree by
more than 1e-4 on any score (timings never fail the command).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from course_utils.scoring import maxsim as ms
from course_utils.data import random_token_vectors
from course_utils.scoring.maxsim import PackedCorpus, score_corpus, score_queries

QUERY_TOKENS = 32
DIM = 128
BATCH = 64
TOLERANCE = 1e-4

#: The targets of issue 4.
MAX_READ_RATIO = 1.5          # scorer time / all-core read time
MIN_SPEEDUP = 6.0             # peer time / scorer time (Qdrant Edge, qdrant-client local mode)
MIN_MATMUL_FRACTION = 0.60    # batch GFLOP/s / 2048x2048 matmul GFLOP/s
MAX_EXTRA_MEMORY = 64 * 2**20  # bytes


# ----- the scorers being compared -------------------------------------------------------------------

def random_queries(n: int, seed: int = 1, tokens: int = QUERY_TOKENS, dim: int = DIM) -> list[np.ndarray]:
    """``n`` float32 ``(tokens, dim)`` queries with unit-length rows."""
    rng = np.random.default_rng(seed)
    queries = rng.standard_normal((n, tokens, dim), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=2, keepdims=True)
    return list(queries)


def read_all_cores(corpus: PackedCorpus, pool: ThreadPoolExecutor, workers: int) -> float:
    """Read every value of the packed corpus once: ``np.sum`` of one part per core, in threads."""
    return float(sum(pool.map(np.sum, np.array_split(corpus.vectors, workers))))


def per_document_loop(query: np.ndarray, documents: Sequence[np.ndarray]) -> np.ndarray:
    """MaxSim the obvious way: one ``(Q @ D.T).max(1).sum()`` per document."""
    return np.array([(query @ document.T).max(axis=1).sum() for document in documents], dtype=np.float32)


def qdrant_local_mode(query: np.ndarray, documents: Sequence[np.ndarray]) -> np.ndarray:
    """qdrant-client's local-mode MaxSim over every document (what ``QdrantClient(":memory:")`` runs)."""
    from qdrant_client.http import models
    from qdrant_client.local.multi_distances import calculate_multi_distance

    return np.asarray(calculate_multi_distance(query, list(documents), models.Distance.DOT), dtype=np.float32)


class EdgeExact:
    """Qdrant Edge (the engine's Rust code, in-process): exact MaxSim search with limit = corpus size."""

    def __init__(self, documents: Sequence[np.ndarray]):
        from course_utils.qdrant import EdgeMaxSimIndex

        self.index = EdgeMaxSimIndex(documents)

    def request(self, query: np.ndarray):
        import qdrant_edge as edge

        from course_utils.qdrant import COLBERT_VECTOR

        return edge.QueryRequest(limit=self.index.size, query=edge.Query.Nearest(query, using=COLBERT_VECTOR),
                                 params=edge.SearchParams(exact=True))

    def search(self, request) -> list:
        """What is timed: the engine's query, returning every document's hit."""
        return self.index.shard.query(request)

    def scores(self, query: np.ndarray) -> np.ndarray:
        return self.index.scores(query)

    def close(self) -> None:
        self.index.close()


def _products_of_chunk(corpus: PackedCorpus, first: int, stop: int, queries: np.ndarray, query_starts: np.ndarray,
                       out: np.ndarray, block: np.ndarray) -> None:
    """The matrix products of ``maxsim._score_chunk`` (the same calls), without the max and the sums."""
    tokens = corpus.vectors[corpus.offsets[first]:corpus.offsets[stop]]
    rows, columns, dim = len(tokens), len(queries), corpus.dim
    if columns <= ms.FEW_QUERY_TOKENS:
        sims = block[:rows * columns].reshape(rows, columns)
        queries_t = np.ascontiguousarray(queries.T)
        step = max(1, ms.SMALL_PRODUCT // (columns * dim))
        whole = rows - rows % step
        np.matmul(tokens[:whole].reshape(-1, step, dim), queries_t, out=sims[:whole].reshape(-1, step, columns))
        np.matmul(tokens[whole:], queries_t, out=sims[whole:])
    else:
        np.matmul(queries, tokens.T, out=block[:columns * rows].reshape(columns, rows))


def products_only(query: np.ndarray, corpus: PackedCorpus) -> None:
    """Run ``score_corpus`` with only its matrix products: same chunks, buffers, threads and BLAS settings."""
    ms.score_in_chunks([query], corpus, score_chunk=_products_of_chunk)


def matmul_gflops(repeat: int, size: int = 2048) -> float:
    """GFLOP/s of one ``size x size`` float32 matrix product (BLAS with all its threads), best of ``repeat``."""
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    seconds = timings(lambda: np.matmul(a, b, out=out), repeat).min()
    return 2 * size**3 / seconds / 1e9


# ----- measuring ----------------------------------------------------------------------------------------

def timings(function: Callable[[], object], repeat: int) -> np.ndarray:
    """Seconds taken by each of ``repeat`` calls of ``function``, after one call to warm up."""
    function()
    return np.array(timeit.repeat(function, number=1, repeat=repeat))


def peak_extra_bytes(function: Callable[[], object]) -> int:
    """Peak of the memory allocated while ``function`` runs (numpy arrays included), in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def disagreements(scores: dict[str, np.ndarray], reference: str, tolerance: float = TOLERANCE) -> dict[str, float]:
    """``{name: largest |difference| with the reference}`` of the scorers that differ by more than ``tolerance``."""
    expected = np.asarray(scores[reference], dtype=np.float64)
    differences = {name: float(np.max(np.abs(np.asarray(values, dtype=np.float64) - expected)))
                   for name, values in scores.items() if name != reference}
    return {name: d for name, d in differences.items() if not d <= tolerance}


def all_scores(query: np.ndarray, documents: Sequence[np.ndarray], corpus: PackedCorpus,
               edge_index: EdgeExact) -> dict[str, np.ndarray]:
    """Every compared scorer's scores for ``query``, keyed by name (``"ours"`` first)."""
    return {
        "ours": score_corpus(query, corpus),
        "qdrant edge": edge_index.scores(query),
        "qdrant-client local": qdrant_local_mode(query, documents),
        "per-document loop": per_document_loop(query, documents),
        "ours, workers=1": score_corpus(query, corpus, workers=1),
    }


# ----- the report ---------------------------------------------------------------------------------------

@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def milliseconds(seconds: np.ndarray) -> str:
    return f"{seconds.min() * 1e3:8.1f} ms  (median {np.median(seconds) * 1e3:6.1f})"


def run(n_documents: int = 10_000, repeat: int = 9, memory_sizes: Sequence[int] | None = None,
        seed: int = 0) -> Report:
    """Measure everything described in the module docstring and print it; the report lists any disagreement."""
    report = Report()
    workers = os.cpu_count() or 1
    memory_sizes = list(memory_sizes or (max(1, n_documents // 4), n_documents))
    documents = random_token_vectors(n_documents, seed=seed)
    corpus = PackedCorpus.from_documents(documents)
    query = random_queries(1, seed=seed + 1)[0]
    report.say(f"corpus: {corpus!r}; one query of {QUERY_TOKENS} tokens; {workers} cores; "
               f"best of {repeat} runs (median)")
    times = measure_single_query(report, query, documents, corpus, workers, repeat)
    times["matmul GFLOP/s"] = matmul_gflops(repeat)
    report_single_query(report, times, corpus)
    batch = random_queries(BATCH, seed=seed + 2)
    report_batch(report, batch, documents, corpus, times["matmul GFLOP/s"], repeat)
    del documents
    report_memory(report, query, batch, corpus, memory_sizes, seed)
    for problem in report.problems:
        report.say(f"DISAGREEMENT: {problem}")
    return report


def measure_single_query(report: Report, query: np.ndarray, documents: Sequence[np.ndarray], corpus: PackedCorpus,
                         workers: int, repeat: int) -> dict[str, np.ndarray]:
    """Check that every scorer agrees (a fast wrong answer is worth nothing), then time each on ``query``.

    Returns:
        ``{measurement: seconds of each timed run}``.
    """
    edge_index = EdgeExact(documents)
    try:
        scores = all_scores(query, documents, corpus, edge_index)
        wrong = disagreements(scores, "ours")
        for name, difference in wrong.items():
            report.problems.append(f"{name} differs from ours by up to {difference:.2e}")
        agreement = max(float(np.max(np.abs(np.asarray(s, np.float64) - scores["ours"]))) for s in scores.values())
        report.say(f"agreement: {len(scores)} scorers, largest |difference| {agreement:.1e} "
                   f"({'within' if not wrong else 'NOT within'} {TOLERANCE:g})")

        times = {}
        with ThreadPoolExecutor(workers) as pool:
            times["read"] = timings(lambda: read_all_cores(corpus, pool, workers), repeat)
            times["read one core"] = timings(lambda: read_all_cores(corpus, pool, 1), max(3, repeat // 3))
            times["ours"] = timings(lambda: score_corpus(query, corpus), repeat)
            times["products"] = timings(lambda: products_only(query, corpus), repeat)
        request = edge_index.request(query)
        times["edge"] = timings(lambda: edge_index.search(request), repeat)
    finally:
        edge_index.close()
    times["local"] = timings(lambda: qdrant_local_mode(query, documents), max(3, repeat // 3))
    times["loop"] = timings(lambda: per_document_loop(query, documents), max(3, repeat // 3))
    return times


def report_single_query(report: Report, times: dict, corpus: PackedCorpus) -> None:
    """The table of one query's times against each target, and where the scorer's time goes."""
    t_read, t_ours, t_products, gflops_matmul = times["read"], times["ours"], times["products"], times["matmul GFLOP/s"]
    ours = t_ours.min()
    flops = 2 * len(corpus.vectors) * corpus.dim * QUERY_TOKENS
    report.say()
    report.say(f"{'':44}{'time':>10}{'':19}ours vs it   target")
    report.say(f"{'score_corpus (ours)':44}{milliseconds(t_ours)}")
    ratio = ours / t_read.min()
    report.say(f"{'(a) all-core read of the corpus (np.sum)':44}{milliseconds(t_read)}  {ratio:5.2f}x time   "
               f"<= {MAX_READ_RATIO}x: {verdict(ratio <= MAX_READ_RATIO)}")
    report.say(f"{'    the same read on one core':44}{milliseconds(times['read one core'])}")
    for name, seconds, target in (("(b) Qdrant Edge, exact MaxSim", times["edge"], MIN_SPEEDUP),
                                  ("(c) qdrant-client local mode", times["local"], MIN_SPEEDUP),
                                  ("(d) per-document loop", times["loop"], None)):
        speedup = seconds.min() / ours
        goal = f">= {target:g}x: {verdict(speedup >= target)}" if target else ""
        report.say(f"{name:44}{milliseconds(seconds)}  {speedup:5.1f}x faster {goal}")

    report.say()
    report.say("where score_corpus's time goes:")
    report.say(f"{'  matrix products alone (same chunks, threads)':44}{milliseconds(t_products)}  "
               f"{t_products.min() / t_read.min():5.2f}x the read")
    report.say(f"{'  the products at the 2048x2048 matmul rate':44}{flops / gflops_matmul / 1e6:8.1f} ms"
               f"{'':19}{flops / gflops_matmul / 1e9 / t_read.min():5.2f}x the read")
    report.say(f"{'  segment-wise max, sums and overhead':44}{(ours - t_products.min()) * 1e3:8.1f} ms")


def report_batch(report: Report, batch: list[np.ndarray], documents: Sequence[np.ndarray], corpus: PackedCorpus,
                 gflops_matmul: float, repeat: int) -> None:
    """A batch of queries through ``score_queries``: checked against the loop, its GFLOP/s against a matmul's."""
    batch_scores = score_queries(batch, corpus)
    for i in range(2):
        wrong = disagreements({"loop": per_document_loop(batch[i], documents), "batch": batch_scores[i]}, "loop")
        if wrong:
            report.problems.append(f"score_queries row {i} differs from the per-document loop by {wrong['batch']:.2e}")
    t_batch = timings(lambda: score_queries(batch, corpus), max(3, repeat // 3))
    flops = 2 * len(corpus.vectors) * corpus.dim * QUERY_TOKENS
    gflops_batch = flops * BATCH / t_batch.min() / 1e9
    fraction = gflops_batch / gflops_matmul
    report.say()
    report.say(f"batch of {BATCH} queries: {milliseconds(t_batch)}, {gflops_batch:.0f} GFLOP/s = {fraction:.0%} of "
               f"a 2048x2048 float32 matmul ({gflops_matmul:.0f} GFLOP/s); "
               f">= {MIN_MATMUL_FRACTION:.0%}: {verdict(fraction >= MIN_MATMUL_FRACTION)}")


def report_memory(report: Report, query: np.ndarray, batch: list[np.ndarray], corpus: PackedCorpus,
                  memory_sizes: Sequence[int], seed: int) -> None:
    """Peak extra memory of scoring one query and the batch, at each corpus size (``corpus`` is one of them)."""
    report.say()
    report.say(f"peak extra memory while scoring (tracemalloc, result included); target <= "
               f"{MAX_EXTRA_MEMORY / 2**20:.0f} MiB:")
    for size in memory_sizes:
        sized = corpus if size == len(corpus) else PackedCorpus.from_documents(random_token_vectors(size, seed=seed))
        one = peak_extra_bytes(partial(score_corpus, query, sized))
        many = peak_extra_bytes(partial(score_queries, batch, sized))
        worst = max(one, many)
        report.say(f"  {size:>7,} documents ({sized.nbytes / 2**20:6.0f} MiB): one query {one / 2**20:5.1f} MiB, "
                   f"{BATCH} queries {many / 2**20:5.1f} MiB = {worst / sized.nbytes:.1%} of the corpus: "
                   f"{verdict(worst <= MAX_EXTRA_MEMORY)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus_scorer", description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000, help="passages in the corpus (default 10,000)")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs of each measurement; the best is reported")
    parser.add_argument("--memory-sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help="the two corpus sizes of the memory measurement (default: a quarter of --documents, "
                             "and --documents)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = run(args.documents, args.repeat, args.memory_sizes, args.seed)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
