"""The course's centroid index against exact MaxSim, MUVERA -> ColBERT and fast-plaid, on 100,000 passages. One run.

    nice -n 10 .venv/bin/python -m benchmarks.plaid_index                  # 100,000 passages (~6 M tokens)
    .venv/bin/python -m benchmarks.plaid_index --passages 2000 --no-fast-plaid   # a quick look

The collection (``benchmarks.plaid_collection``): the course's passages and queries embedded by the
stand-in ColBERT, and 100,000 passages composed of noisy windows of those token vectors (cached under
/tmp after the first run). The run reports:

1. exact MaxSim: ``score_corpus`` per query (all cores), the reference top 10 of every query;
   and how close the exact scores are at rank 10 (the gap to the 11th: the error a compressed copy may add);
2. the index (``course_utils.centroid_index``): build time by step, bytes per token (int32 centroid id +
   2-bit residuals; target <= 40 at 128-d), the codec's limit (exact MaxSim over every passage's
   decompressed vectors: the stages rerank those, so they reach about as much at best), then for each
   setting of ``nprobe`` / ``threshold`` / ``candidates``: recall@10 against exact, ms per query (one
   thread), and the speed-up over exact (target: recall@10 >= 0.95 at >= 10x less time per query); the
   same with stage 4 on float16 originals memory-mapped from disk (lesson 6's rescoring with originals);
3. MUVERA -> ColBERT in Qdrant Edge (``course_utils.first_stages.hybrid.EdgeMuveraIndex``): every passage's
   FDE (fastembed's ``Muvera``, the course's settings: 10,240 numbers at 128-d) in an HNSW graph (m = 16,
   ef_construct = 64), its token vectors beside it for the rerank; FDE time and graph build time, then for
   each setting of ``candidates`` / ``hnsw_ef`` (``--muvera-settings``): recall@10 against exact and ms per
   query of the one Edge query (graph walk, then exact MaxSim over the candidates), and the same query with
   a scan of every FDE instead of the graph (what the graph loses). ``--no-muvera`` skips it;
4. fast-plaid (LightOn's Rust PLAID over torch), when its separate environment exists
   (``--fast-plaid-python``, default /tmp/fastplaid-venv/bin/python): build time, index size on disk,
   recall@10 and ms per query on the same queries (its own threads);
5. the peak resident memory of this process and of fast-plaid's, and the race chart (``--chart``).

Each target line says met or NOT met; timings never fail the command (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.plaid_collection import DEFAULT_CACHE, collection_folder, synthetic_collection
from course_utils.centroid_index.plaid import build_index
from course_utils.scoring.maxsim import PackedCorpus, score_corpus, score_queries, top_k

K = 10
MIN_RECALL, MIN_SPEEDUP, MAX_BYTES_PER_TOKEN = 0.95, 10.0, 40
#: (nprobe, threshold, candidates) of the index, from fastest to most thorough.
SETTINGS = ((1, 0.5, 256), (2, 0.45, 512), (4, 0.45, 1024), (8, 0.4, 2048), (16, None, 4096))
#: The same, with stage 4 on the float16 originals memory-mapped from disk (``--no-originals`` skips them).
ORIGINALS_SETTINGS = ((1, 0.5, 1024), (1, 0.5, 2048), (2, 0.45, 2048), (2, 0.45, 4096))
#: MUVERA's (candidates, hnsw_ef): the graph's top candidates reranked by MaxSim, and its search list;
#: hnsw_ef "scan" scans every FDE instead (what the graph loses is the difference).
MUVERA_SETTINGS = ((100, 128), (300, 512), (1000, 1024), (1000, "scan"))
#: fast-plaid's (n_ivf_probe, n_full_scores).
FAST_PLAID_SETTINGS = ((8, 1024), (16, 4096), (32, 8192))
FAST_PLAID_PYTHON = Path(tempfile.gettempdir()) / "fastplaid-venv" / "bin" / "python"


def recall_at_k(found, exact_top: list[set]) -> float:
    """Mean share of each query's exact top ``K`` among its found passages."""
    return float(np.mean([len(set(int(p) for p in f[:K]) & truth) / K for f, truth in zip(found, exact_top)]))


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def margins(exact: np.ndarray) -> str:
    """How close the exact top K is to the passages just below it: the line the run prints.

    ``exact``: ``(queries, passages)`` exact MaxSim scores. The gap between each query's K-th and
    (K+1)-th score, against the K-th score, says how much error a compressed copy of the vectors may add
    before it swaps a passage in or out of the top K (ties: gap 0, where recall against the exact top K
    depends on how ties are broken).
    """
    ranked = -np.sort(-exact, axis=1)[:, :K + 1]
    gaps = ranked[:, K - 1] - ranked[:, K]
    spread = ranked[:, 0] - ranked[:, K - 1]
    return (f"exact scores: {K}th minus {K + 1}th, median {np.median(gaps):.4f} "
            f"({100 * np.median(gaps / np.abs(ranked[:, K - 1])):.2f}% of the {K}th score; 1st minus {K}th: "
            f"median {np.median(spread):.3f}); {int((gaps < 1e-5).sum())} of {len(gaps)} queries tie at the {K}th")


def exact_side(corpus, queries, timed: int, report=print) -> tuple[list[set], dict]:
    """The exact top K of every query (batched), and score_corpus's time per query on ``timed`` queries."""
    start = time.perf_counter()
    exact = score_queries(queries, corpus)
    batched = time.perf_counter() - start
    tops = [set(top_k(row, K).tolist()) for row in exact]
    report(margins(exact))
    seconds = []
    for q in queries[:timed]:
        start = time.perf_counter()
        top_k(score_corpus(q, corpus), K)
        seconds.append(time.perf_counter() - start)
    row = {"ms": 1000 * float(np.mean(seconds)), "recall@10 vs exact": 1.0,
           "bytes/token": corpus.dim * 4, "batched ms": 1000 * batched / len(queries)}
    return tops, row


def float16_originals(corpus, folder: Path | None) -> PackedCorpus:
    """The corpus's token vectors as float16, memory-mapped from ``folder`` (written there once; in memory
    when ``folder`` is None): what the float16 rerank reads, a few passages per query."""
    if folder is None:
        return PackedCorpus(np.asarray(corpus.vectors, dtype=np.float16), corpus.offsets)
    path = Path(folder) / "vectors-float16.npy"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        np.save(path, np.asarray(corpus.vectors, dtype=np.float16))
    return PackedCorpus(np.load(path, mmap_mode="r"), corpus.offsets)


def search_rows(index, queries, tops, settings, suffix: str = "", **options) -> dict:
    """One row per (nprobe, threshold, candidates): recall@10 against exact, ms per query, passages reranked."""
    rows = {}
    for nprobe, threshold, candidates in settings:
        found, seconds, reranked = [], [], []
        index.search(queries[0], K, nprobe=nprobe, threshold=threshold, candidates=candidates, **options)  # warm-up
        for q in queries:
            start = time.perf_counter()
            result = index.search(q, K, nprobe=nprobe, threshold=threshold, candidates=candidates, **options)
            seconds.append(time.perf_counter() - start)
            found.append(result.passages)
            reranked.append(result.stage_sizes["candidates"])
        rows[f"index nprobe={nprobe} t={threshold} c={candidates}{suffix}"] = {
            "ms": 1000 * float(np.mean(seconds)), "recall@10 vs exact": recall_at_k(found, tops),
            "bytes/token": index.bytes_per_token, "stage 1 candidates": float(np.mean(reranked))}
    return rows


def _setting(text: str) -> tuple[int, float | None, int]:
    """``"NPROBE:THRESHOLD:CANDIDATES"`` (threshold ``none``: no pruning) as a (nprobe, threshold, candidates)."""
    nprobe, threshold, candidates = text.split(":")
    return int(nprobe), None if threshold.lower() == "none" else float(threshold), int(candidates)


def index_side(corpus, queries, tops, args, report) -> dict:
    """Build the index, then one row per setting of SETTINGS (and of ORIGINALS_SETTINGS, float16 rerank)."""
    start = time.perf_counter()
    index = build_index(corpus, n_centroids=args.centroids, bits=args.bits, sample=args.sample,
                        iterations=args.iterations)
    report(f"index: {len(index.centroids):,} centroids, built in {time.perf_counter() - start:.1f} s "
           f"({', '.join(f'{k} {v:.1f} s' for k, v in index.build_seconds.items())}); "
           f"{index.bytes_per_token:.0f} bytes per token, {index.nbytes / 2**20:,.0f} MiB in all "
           f"({index.nbytes / len(index.codes):.1f} bytes per token with lists and offsets)")
    decompressed = score_queries(queries, index.decompress(np.arange(len(corpus))))
    report(f"codec limit: exact MaxSim over every passage's decompressed vectors ({args.bits}-bit residuals) finds "
           f"{recall_at_k([top_k(row, K) for row in decompressed], tops):.3f} of the exact top {K} "
           "(the stages rerank these vectors: beyond this they gain only where an earlier stage happens to drop a "
           "passage the codec overrates)")
    del decompressed
    rows = search_rows(index, queries, tops, SETTINGS)
    if not args.no_originals:
        folder = None if args.cache is None else collection_folder(args.cache, args.passages)
        originals = float16_originals(corpus, folder)
        report(f"float16 rerank: stage 4 reads the survivors' float16 token vectors, {corpus.dim * 2} bytes a token "
               f"on disk ({originals.vectors.nbytes / 2**20:,.0f} MiB, memory-mapped), beside the index in memory")
        settings = [_setting(text) for text in args.originals_settings]
        rows.update(search_rows(index, queries, tops, settings, ", float16 rerank", rerank_vectors=originals))
    rows["_build"] = {"seconds": sum(index.build_seconds.values()), "bytes/token": index.bytes_per_token}
    return rows


def muvera_side(corpus, queries, tops, report, settings=MUVERA_SETTINGS) -> dict:
    """MUVERA -> ColBERT rows: FDEs in an Edge HNSW graph, the graph's candidates reranked by MaxSim in Edge."""
    from fastembed.postprocess import Muvera

    from course_utils.first_stages.hybrid import EdgeMuveraIndex

    muvera = Muvera(corpus.dim)  # fastembed's defaults, as lessons 5b and 8: k_sim=5, dim_proj=16, r_reps=20
    start = time.perf_counter()
    fde = np.empty((len(corpus), muvera.embedding_size), dtype=np.float32)
    for k in range(len(corpus)):
        fde[k] = muvera.process_document(np.asarray(corpus.document(k)))
    fde_seconds = time.perf_counter() - start
    fde_queries = [muvera.process_query(np.asarray(q)) for q in queries]
    start = time.perf_counter()
    rows = {}
    with EdgeMuveraIndex(corpus, fde) as index:
        report(f"MUVERA: {fde.shape[1]:,}-d FDEs in {fde_seconds:.1f} s; Edge shard loaded in "
               f"{time.perf_counter() - start - index.build_seconds:.1f} s and its HNSW graph on the FDEs built in "
               f"{index.build_seconds:.1f} s; {fde.shape[1] * 4:,} bytes of FDE per passage")
        del fde
        for candidates, ef in settings:
            how = {"exact_prefetch": True} if ef == "scan" else {"hnsw_ef": ef}
            index.search(fde_queries[0], queries[0], candidates=candidates, limit=K, **how)  # warm-up
            found, seconds = [], []
            for fq, q in zip(fde_queries, queries):
                start = time.perf_counter()
                hits = index.search(fq, q, candidates=candidates, limit=K, **how)
                seconds.append(time.perf_counter() - start)
                found.append([i for i, _ in hits])
            name = "MUVERA scan" if ef == "scan" else f"MUVERA HNSW ef={ef}"
            rows[f"{name} c={candidates} -> ColBERT"] = {
                "ms": 1000 * float(np.mean(seconds)), "recall@10 vs exact": recall_at_k(found, tops)}
    return rows


def fast_plaid_side(folder: Path, python: Path, tops, report, settings=FAST_PLAID_SETTINGS) -> dict:
    """fast-plaid's rows, run in its own environment; {} with the reason reported when it cannot run."""
    if not python.exists():
        report(f"fast-plaid: skipped, no environment at {python} (see the README's benchmark section)")
        return {}
    out = Path(tempfile.mkdtemp(prefix="fastplaid-result-")) / "result.json"
    command = [str(python), str(Path(__file__).with_name("fastplaid_runner.py")), str(folder), str(out),
               *[f"{p}:{n}" for p, n in settings]]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        report("fast-plaid: failed:\n" + "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:]))
        return {}
    result = json.loads(out.read_text())
    report(f"fast-plaid (torch {result['torch']}, {result['threads']} threads): built in "
           f"{result['build_seconds']:.1f} s, index {result['index_bytes'] / 2**20:,.0f} MiB on disk, "
           f"peak memory {result['peak_rss_bytes'] / 2**30:.2f} GiB")
    for name, row in result["settings"].items():
        report(f"{name}: one query alone {row['single query ms']:.0f} ms; all queries in one call "
               f"{row['ms']:.1f} ms per query (the row below)")
    return {name: {"ms": row["ms"], "recall@10 vs exact": recall_at_k(row["top"], tops)}
            for name, row in result["settings"].items()}


def print_table(rows: dict, exact_ms: float, report) -> None:
    width = max(len(name) for name in [*rows, "setting"]) + 2
    report(f"\n{'setting':<{width}}{'recall@10 vs exact':>19}{'ms/query':>10}{'speed-up':>10}")
    for name, row in rows.items():
        report(f"{name:<{width}}{row['recall@10 vs exact']:>19.3f}{row['ms']:>10.1f}{exact_ms / row['ms']:>9.1f}x")


def targets(rows: dict, exact_ms: float, bytes_per_token: float, report) -> None:
    ours = {n: r for n, r in rows.items() if n.startswith("index")}
    good = [n for n, r in ours.items() if r["recall@10 vs exact"] >= MIN_RECALL and exact_ms / r["ms"] >= MIN_SPEEDUP]
    report(f"target recall@10 >= {MIN_RECALL} at >= {MIN_SPEEDUP:.0f}x less time per query than score_corpus: "
           + (f"met ({', '.join(good)})" if good else "NOT met"))
    report(f"target bytes per token <= {MAX_BYTES_PER_TOKEN} at {args_dim(rows)}-d with 2-bit residuals: "
           + ("met" if bytes_per_token <= MAX_BYTES_PER_TOKEN else "NOT met") + f" ({bytes_per_token:.0f}"
           + ("; the float16 rerank rows also read float16 originals from disk)"
              if any("float16" in n for n in ours) else ")"))


def args_dim(rows: dict) -> int:
    return int(rows["exact MaxSim (score_corpus)"]["bytes/token"] // 4)


def draw(rows: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.centroid_index.race import plot_race

    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    plot_race(ax, rows, title=title)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(args, report=print) -> dict:
    start = time.perf_counter()
    corpus, queries, subsets = synthetic_collection(args.passages, cache=args.cache)
    queries = queries[:args.queries] if args.queries else queries
    report(f"collection: {corpus} in {time.perf_counter() - start:.0f} s; {len(queries)} queries")
    tops, exact_row = exact_side(corpus, queries, min(args.exact_timing, len(queries)), report)
    report(f"exact: score_corpus {exact_row['ms']:.0f} ms per query (all cores); "
           f"batched over all queries {exact_row['batched ms']:.0f} ms per query")
    rows = {"exact MaxSim (score_corpus)": exact_row}
    build = None
    if not args.no_index:
        ours = index_side(corpus, queries, tops, args, report)
        build = ours.pop("_build")
        rows.update(ours)
    print_table(rows, exact_row["ms"], report)  # before fast-plaid, which can take long
    report(f"peak resident memory of this process so far: {peak_rss_bytes() / 2**30:.2f} GiB")
    if not args.no_muvera:
        settings = [(int(c), ef if ef == "scan" else int(ef)) for c, ef in (s.split(":") for s in args.muvera_settings)]
        rows.update(muvera_side(corpus, queries, tops, report, settings))
        report(f"peak resident memory of this process so far: {peak_rss_bytes() / 2**30:.2f} GiB")
    if not args.no_fast_plaid and args.cache is not None:
        folder = collection_folder(args.cache, args.passages)
        settings = [tuple(int(x) for x in s.split(":")) for s in args.fast_plaid_settings]
        rows.update(fast_plaid_side(folder, Path(args.fast_plaid_python), tops, report, settings))
    print_table(rows, exact_row["ms"], report)
    if build is not None:
        targets(rows, exact_row["ms"], build["bytes/token"], report)
    report(f"peak resident memory of this process: {peak_rss_bytes() / 2**30:.2f} GiB")
    if args.chart:
        draw(rows, Path(args.chart), f"{args.passages:,} composed passages, {len(queries)} queries")
        report(f"race chart: {args.chart}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plaid_index", description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=None, help="use only the first N queries")
    parser.add_argument("--centroids", type=int, default=16_384,
                        help="k-means centroids (PLAID's rule would give 32,768 for 6 M tokens; 16,384 takes about "
                             "5 minutes to build here: see the README)")
    parser.add_argument("--sample", type=int, default=250_000, help="token vectors k-means trains on")
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--bits", type=int, default=2)
    parser.add_argument("--exact-timing", type=int, default=20, help="queries timed with score_corpus")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--chart", type=Path, default=None, help="write the race chart (PNG) here")
    parser.add_argument("--no-index", action="store_true", help="skip the course's centroid index (and its targets)")
    parser.add_argument("--no-originals", action="store_true",
                        help="skip the index's rows that rerank on float16 originals from disk")
    parser.add_argument("--originals-settings", nargs="+",
                        default=[f"{p}:{t}:{c}" for p, t, c in ORIGINALS_SETTINGS],
                        help="nprobe:threshold:candidates of the float16 rerank rows (threshold 'none': no pruning)")
    parser.add_argument("--no-muvera", action="store_true", help="skip MUVERA -> ColBERT in Qdrant Edge")
    parser.add_argument("--muvera-settings", nargs="+", default=[f"{c}:{e}" for c, e in MUVERA_SETTINGS],
                        help="MUVERA's candidates:hnsw_ef pairs (hnsw_ef 'scan': scan every FDE, no graph)")
    parser.add_argument("--no-fast-plaid", action="store_true")
    parser.add_argument("--fast-plaid-python", type=Path, default=FAST_PLAID_PYTHON)
    parser.add_argument("--fast-plaid-settings", nargs="+", default=[f"{p}:{n}" for p, n in FAST_PLAID_SETTINGS],
                        help="fast-plaid's n_ivf_probe:n_full_scores pairs")
    args = parser.parse_args(argv)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
