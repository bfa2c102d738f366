"""Binary MaxSim with rescoring: memory, recall and time, against float32 and against Qdrant Edge. One run.

    .venv/bin/python -m benchmarks.binary_scorer                 # both corpora below, 10,000 passages each
    .venv/bin/python -m benchmarks.binary_scorer --corpus standin --documents 2000 --queries 8

Three corpora (``--corpus prose|standin|random|all``, default all), the first two embedded with the stand-in
ColBERT built from wordllama's trained static token vectors, so that their exact top 10 carries meaning:

- *prose*: 10,000 docstring paragraphs of the standard library and the installed packages, searched with 40
  keyword queries taken from passages (``benchmarks.prose_corpus``): varied text, few near-duplicates. The
  targets are judged here: recall@10 >= 0.95 at oversampling 4 with asymmetric scoring, and never below
  Qdrant Edge's at the same setting;
- *standin*: 10,000 passages composed from the course's own sentences (``benchmarks.standin_corpus``),
  searched with the course's real queries. Each sentence recurs in about 60 passages, so a query's exact top
  10 sits in a crowd of near-ties and recall against it understates how good the found passages are;
- *random*: the corpus-scorer benchmark's (``benchmarks.corpus_scorer``): 10,000 passages of 20 to 200
  random unit-length 128-d float32 token vectors. Two kinds of 32-token queries:

- *random* queries (the corpus-scorer benchmark's): they match nothing in particular, so the exact top 10
  are near-ties of background scores, which no approximation can be expected to order;
- *planted* queries, closer to a real query: 10 passages of the corpus are chosen, and each query token is
  the normalised sum of a token of two of them (round robin, so each of the 10 gets 6 or 7 tokens) plus a
  little noise. Those passages score clearly higher; the tail of the exact top 10 may still be background.

It reports, in one run:

1. memory of ``BinaryCorpus`` against the float32 ``PackedCorpus`` (target: at least 24x less), and the peak
   extra memory while scoring;
2. recall@10 of ``BinaryCorpus.search`` (binary top ``10 x oversampling``, exact rescoring) against exact
   MaxSim, for oversampling 1, 2, 4 and 8, for each kind of query (target: at least 0.95 at 4, judged on
   the prose corpus and on the random corpus's planted queries), with binary MaxSim and with asymmetric
   MaxSim (float query against the documents' sign vectors);
3. time per query: binary scores alone, binary search with rescoring x4, and float32 ``score_corpus``;
4. Qdrant Edge on the same passages: exact float32 search against binary quantization with rescoring
   (oversampling 4), symmetric and asymmetric (8-bit queries): time per query and recall@10 against
   exact MaxSim, beside the course's scorer.

Each target line says met or NOT met. The exit status is 1 if binary scores disagree with a direct
computation or with Qdrant Edge's binary scores (timings and recall never fail the command).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from benchmarks.corpus_scorer import Report, milliseconds, peak_extra_bytes, random_queries, timings, verdict
from course_utils.compression.binary import BinaryCorpus
from course_utils.data import random_token_vectors
from course_utils.compression.edge import QuantizedEdgeIndex
from course_utils.scoring.maxsim import PackedCorpus, score_corpus, top_k

K = 10
OVERSAMPLINGS = (1, 2, 4, 8)
MIN_MEMORY_RATIO = 24.0
MIN_RECALL_AT_4 = 0.95
CORPORA = ("prose", "standin", "random")


def planted_queries(corpus: PackedCorpus, n: int, seed: int = 5, tokens: int = 32, sources: int = 10,
                    noise: float = 0.3) -> list[np.ndarray]:
    """``n`` float32 ``(tokens, dim)`` queries built from ``sources`` passages each (see the module docstring)."""
    rng = np.random.default_rng(seed)
    queries = []
    for _ in range(n):
        chosen = rng.choice(len(corpus), size=min(sources, len(corpus)), replace=False)
        rows = np.zeros((tokens, corpus.dim), dtype=np.float32)
        for t in range(tokens):
            for source in {chosen[t % len(chosen)], chosen[(t + 3) % len(chosen)]}:
                document = corpus.document(int(source))
                rows[t] += document[rng.integers(len(document))]
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        rows += noise * rng.standard_normal(rows.shape, dtype=np.float32) / np.sqrt(corpus.dim)
        queries.append(rows / np.linalg.norm(rows, axis=1, keepdims=True))
    return queries


def recall(found: Sequence[int], exact: Sequence[int]) -> float:
    """Share of ``exact`` (the exact top k) that ``found`` contains: ``|found ∩ exact| / |exact|``."""
    exact = set(int(i) for i in exact)
    return len(exact & set(int(i) for i in found)) / len(exact)


def direct_binary_maxsim(query: np.ndarray, document: np.ndarray) -> int:
    """Binary MaxSim the obvious way: the dot products of the ±1 sign vectors."""
    return int((np.where(query > 0, 1, -1) @ np.where(document > 0, 1, -1).T).max(axis=1).sum())


def recall_table(binary: BinaryCorpus, corpus: PackedCorpus, queries: list[np.ndarray], k: int = K,
                 asymmetric: bool = False) -> dict[int, float]:
    """``{oversampling: mean recall@k of binary.search(..., asymmetric=asymmetric) against the exact top k}``."""
    exact = [top_k(score_corpus(q, corpus), k) for q in queries]
    return {o: float(np.mean([recall(binary.search(q, k, oversampling=o, asymmetric=asymmetric)[0], e)
                              for q, e in zip(queries, exact)])) for o in OVERSAMPLINGS}


def edge_side(documents, corpus: PackedCorpus, queries: list[np.ndarray], repeat: int, report: Report
              ) -> dict[str, float]:
    """Qdrant Edge: exact float32 against binary quantization + rescoring x4, time and recall@10
    (returned: ``{"binary" | "asymmetric": recall@10}``)."""
    exact = [top_k(score_corpus(q, corpus), K) for q in queries]
    rescoring = {"rescore": True, "oversampling": 4.0}
    recalls = {}
    for name, quantization, params in (("Qdrant Edge, float32 exact", None, {"exact": True}),
                                       ("Qdrant Edge, binary + rescoring x4", "binary", rescoring),
                                       ("Qdrant Edge, asymmetric + rescoring x4", "binary-asymmetric", rescoring)):
        with QuantizedEdgeIndex(documents, quantization) as index:
            if quantization == "binary":
                engine = index.scores(queries[0], rescore=False)
                ours = BinaryCorpus.from_corpus(corpus).scores(queries[0]).astype(np.float32)
                if not np.array_equal(engine, ours):
                    gap = np.abs(engine - ours).max()
                    report.problems.append(f"Edge binary scores differ from ours by up to {gap}")
            found = [index.search(q, K, **params)[0] for q in queries]
            def search_all(params=params):
                return [index.search(q, K, **params) for q in queries]

            seconds = timings(search_all, repeat) / len(queries)
        found_recall = float(np.mean([recall(f, e) for f, e in zip(found, exact)]))
        if quantization:
            recalls["binary" if quantization == "binary" else "asymmetric"] = found_recall
        report.say(f"{name:<44}{milliseconds(seconds)} per query, recall@10 {found_recall:.3f}")
    return recalls


def corpus_and_queries(kind: str, n_documents: int, n_queries: int | None, seed: int):
    """(documents, {query kind: queries}, the kind the targets are judged on or None) of corpus ``kind``;
    ``n_queries`` None: 40 (prose), every course query (standin), 16 of each kind (random)."""
    if kind == "prose":
        from benchmarks.prose_corpus import prose_corpus
        from benchmarks.standin_corpus import standin_colbert_vectors

        passages, texts = prose_corpus(n_documents, n_queries or 40, seed=seed)
        documents, queries = standin_colbert_vectors(passages, texts)
        return documents, {"keyword queries": queries}, "keyword queries"
    if kind == "standin":
        from benchmarks.standin_corpus import composed_passages, standin_colbert_vectors
        from course_utils.data import load_corpus

        texts = list(load_corpus().queries.values())[:n_queries]
        documents, queries = standin_colbert_vectors(composed_passages(n_documents, seed=seed), texts)
        return documents, {"course queries": queries}, None
    documents, n_queries = random_token_vectors(n_documents, seed=seed), n_queries or 16
    corpus = PackedCorpus.from_documents(documents)
    return documents, {"random": random_queries(n_queries, seed=seed + 1),
                       "planted": planted_queries(corpus, n_queries)}, "planted"


def run(n_documents: int = 10_000, n_queries: int | None = None, repeat: int = 5, seed: int = 0, edge: bool = True,
        corpus_kind: str = "random") -> Report:
    """Measure everything described in the module docstring for one corpus and print it."""
    report = Report()
    documents, kinds, target = corpus_and_queries(corpus_kind, n_documents, n_queries, seed)
    corpus = PackedCorpus.from_documents(documents)
    binary = BinaryCorpus.from_corpus(corpus)
    report.say(f"{corpus_kind} corpus: {corpus!r}; {', '.join(f'{len(q)} {k}' for k, q in kinds.items())}; "
               f"best of {repeat} runs (median)")

    query = next(iter(kinds.values()))[0]
    direct = np.array([direct_binary_maxsim(query, corpus.document(k)) for k in range(min(len(corpus), 500))])
    if not np.array_equal(direct, binary.scores(query)[:len(direct)]):
        report.problems.append("BinaryCorpus.scores differs from the direct ±1 computation")

    ratio = corpus.nbytes / binary.nbytes
    extra = peak_extra_bytes(lambda: binary.scores(query))
    report.say(f"memory: float32 {corpus.nbytes / 2**20:.1f} MiB, binary {binary.nbytes / 2**20:.2f} MiB: "
               f"{ratio:.1f}x less; >= {MIN_MEMORY_RATIO:g}x: {verdict(ratio >= MIN_MEMORY_RATIO)}")
    report.say(f"peak extra memory while scoring one query (tracemalloc, result included): {extra / 2**20:.1f} MiB")

    report.say()
    report.say(f"recall@{K} of binary search + exact rescoring against exact MaxSim:")
    report.say(f"{'oversampling':<22}" + "".join(f"{o:>8}" for o in OVERSAMPLINGS))
    ours = {}
    for asymmetric, scoring in ((False, "binary"), (True, "asymmetric")):
        for kind, queries in kinds.items():
            table = recall_table(binary, corpus, queries, asymmetric=asymmetric)
            met = verdict(table[4] >= MIN_RECALL_AT_4)
            line = f"   at 4 >= {MIN_RECALL_AT_4}: {met}" if kind == target else ""
            if kind == (target or next(iter(kinds))):
                ours[scoring] = table[4]
            report.say(f"{scoring + ', ' + kind:<30}" + "".join(f"{table[o]:8.3f}" for o in OVERSAMPLINGS) + line)

    report.say()
    t_binary = timings(lambda: binary.scores(query), repeat)
    t_search = timings(lambda: binary.search(query, K, oversampling=4), repeat)
    t_asymmetric = timings(lambda: binary.search(query, K, oversampling=4, asymmetric=True), repeat)
    t_float = timings(lambda: score_corpus(query, corpus), repeat)
    report.say(f"{'float32 score_corpus (exact)':<44}{milliseconds(t_float)}")
    report.say(f"{'binary scores alone (XOR + popcount, numpy)':<44}{milliseconds(t_binary)}  "
               f"{t_binary.min() / t_float.min():.2f}x the float32 time")
    report.say(f"{'binary search + rescoring x4':<44}{milliseconds(t_search)}  "
               f"{t_search.min() / t_float.min():.2f}x the float32 time")
    report.say(f"{'asymmetric search + rescoring x4':<44}{milliseconds(t_asymmetric)}  "
               f"{t_asymmetric.min() / t_float.min():.2f}x the float32 time")
    if edge:
        report.say()
        engine = edge_side(documents, corpus, kinds[target or next(iter(kinds))], repeat, report)
        for scoring, value in engine.items():
            judged = f"; never below Edge's: {verdict(ours[scoring] >= value - 1e-9)}" if target else ""
            report.say(f"{scoring} x4: ours {ours[scoring]:.3f}, Qdrant Edge {value:.3f}{judged}")
    for problem in report.problems:
        report.say(f"DISAGREEMENT: {problem}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.binary_scorer", description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000, help="passages in the corpus (default 10,000)")
    parser.add_argument("--queries", type=int, default=None,
                        help="queries of each kind (default: 16 random and planted; every course query)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measurement; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-edge", action="store_true", help="skip the Qdrant Edge comparison")
    parser.add_argument("--corpus", choices=(*CORPORA, "all"), default="all",
                        help="docstring paragraphs or passages of the course's sentences embedded by the stand-in "
                             "ColBERT, random token vectors, or all three (default)")
    args = parser.parse_args(argv)
    problems = []
    for kind in CORPORA if args.corpus == "all" else (args.corpus,):
        problems += run(args.documents, args.queries, args.repeat, args.seed, edge=not args.no_edge,
                        corpus_kind=kind).problems
        print()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
