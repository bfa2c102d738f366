"""The capstone (lesson 9): the budget, the baselines, what a pipeline stores, the development evaluation,
and the run the grader asks for on its held-out queries.

A student writes ``build_pipeline(passages) -> search``: ``passages`` is ``{passage id: text}``, and
``search(query_text, k)`` returns the ids of the ``k`` best passages, best first. The lesson measures it on
the development queries (the course's 60 judged queries) with :func:`evaluate`; the grader measures it on
held-out queries the student never sees, with :func:`heldout_run`, and decides the points in its own
process (``course_utils.grading.capstone``).

What is measured, and how:

- **bytes per passage**: :func:`stored_bytes` of ``search``, divided by the number of passages: every
  numpy array (its ``nbytes``), ``bytes``/``bytearray`` and Python number (8 bytes each) reachable from
  ``search`` (its closure, its object's attributes and the lists, dicts, sets and objects inside them;
  a Qdrant client's stored points too). Not counted: text (``str``, the passages themselves), modules,
  classes, functions' globals and the models (objects of fastembed, onnxruntime and tokenizers: every
  pipeline shares them). Data a pipeline hides in a module-level global is not seen: the written
  explanation must say what the pipeline stores, and the instructor reads it;
- **ms per query**: the time ``search`` takes over the queries, divided by the time the BM25 baseline
  (:func:`bm25_pipeline`) takes over the same queries in the same run, on the same machine; a busy machine
  slows both. The grader times both from the arrival of the run's messages, with its own clock;
- **build seconds**: the time ``build_pipeline(passages)`` takes, models loaded beforehand.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["BM25_MAX_PASSES", "BM25_SECONDS", "BUDGET", "POINTS", "RECORD_STEPS", "RUBRIC", "bm25_pipeline",
           "budget_lines", "check_rankings", "dense_colbert_pipeline", "dev_check", "evaluate", "heldout_run",
           "print_budget", "print_rubric", "show_results", "stored_bytes"]


#: The budget a pipeline must stay within (changed here; the notebook and the grader read it).
BUDGET = {
    "bytes_per_passage": 2048,   # what search keeps, per passage (stored_bytes / number of passages)
    # ms per query / the BM25 baseline's ms per query, timed in the same run. 250: about twice what the dense ->
    # ColBERT baseline measured (60 to 127 x BM25 in the course's runs), so that a pipeline as fast as the baseline
    # keeps the point when the ratio swings 2x on a busy machine, and one several times slower loses it.
    "query_time_ratio": 250.0,
    "build_seconds": 30.0,       # build_pipeline(passages), models loaded; the held-out cell must fit --timeout
}

#: Points of the held-out test cell, line by line (the grader applies them; see RUBRIC).
POINTS = {"beats_bm25": 3, "beats_dense_colbert": 3, "bytes_per_passage": 1, "query_time_ratio": 1,
          "build_seconds": 1}

RUBRIC = f"""Capstone rubric (12 points)
Graded by code on held-out queries you never see (9 points):
  {POINTS['beats_bm25']} points  held-out nDCG@10 above the BM25 baseline's
  {POINTS['beats_dense_colbert']} points  held-out nDCG@10 above the dense -> ColBERT baseline's
  {POINTS['bytes_per_passage']} point   at most {BUDGET['bytes_per_passage']:,} bytes stored per passage
  {POINTS['query_time_ratio']} point   at most {BUDGET['query_time_ratio']:g} x the BM25 baseline's time per query
  {POINTS['build_seconds']} point   build_pipeline within {BUDGET['build_seconds']:g} s
  The three budget points count only for a pipeline whose held-out nDCG@10 is above BM25's.
  A pipeline that crashes, runs out of time or memory, or returns anything but k distinct passage ids
  for every query earns none of these 9 points (the feedback says why).
Graded by your instructor (3 points): the written explanation below."""

#: The records the grader's run publishes, in order (check ids ``<test id>/<index>``).
RECORD_STEPS = ("begin", "built", "baselines_ready", "dense_colbert_done", "bm25_done", "search_ready", "search_done")
#: Seconds the BM25 baseline keeps answering the queries over and over in the grader's run (one pass takes a few
#: milliseconds, too short to time from the arrival of two messages), and the most passes it makes.
BM25_SECONDS, BM25_MAX_PASSES = 0.5, 10_000

#: Types whose objects are never walked by stored_bytes: the models every pipeline shares.
_MODEL_MODULES = ("fastembed", "onnxruntime", "tokenizers", "huggingface_hub", "py_rust_stemmers")
_MAX_OBJECTS = 2_000_000


def print_rubric() -> None:
    """Print :data:`RUBRIC`."""
    print(RUBRIC)


def budget_lines() -> list[str]:
    """:data:`BUDGET` in words, one line each.

    >>> budget_lines()[0]
    'Budget: at most 2,048 bytes stored per passage (what search keeps / number of passages)'
    """
    return [f"Budget: at most {BUDGET['bytes_per_passage']:,} bytes stored per passage (what search keeps / number "
            "of passages)",
            f"        at most {BUDGET['query_time_ratio']:g} x the BM25 baseline's time per query (timed in the "
            "same run)",
            f"        at most {BUDGET['build_seconds']:g} s to build (build_pipeline(passages), models loaded)"]


def print_budget() -> None:
    """Print :func:`budget_lines`."""
    print("\n".join(budget_lines()))


def _skipped(value) -> bool:
    module = type(value).__module__ or ""
    return (isinstance(value, (str, type, type(sys), type(len))) or module.split(".")[0] in _MODEL_MODULES)


def _children(value):
    """The objects ``value`` holds that :func:`stored_bytes` walks into."""
    if isinstance(value, Mapping) or isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield item
    elif isinstance(value, (list, tuple, set, frozenset)):
        yield from value
    closure = getattr(value, "__closure__", None)
    if closure:
        for cell in closure:
            try:
                yield cell.cell_contents
            except ValueError:  # an empty cell
                pass
    for name in ("__self__", "__func__", "__wrapped__", "func", "args", "keywords"):
        if name in ("func", "args", "keywords") and type(value).__name__ != "partial":
            continue
        if hasattr(value, name):
            yield getattr(value, name)
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and not isinstance(value, type):
        yield from attributes.values()
    for slot in getattr(type(value), "__slots__", ()) or ():
        if isinstance(slot, str) and hasattr(value, slot):
            yield getattr(value, slot)


def stored_bytes(search) -> int:
    """Bytes of the data reachable from ``search`` (see the module docstring for what counts).

    >>> import numpy as np
    >>> def build(n):
    ...     table = np.zeros((n, 4), dtype=np.float32)
    ...     return lambda query, k: table[:k]
    >>> stored_bytes(build(10))    # the closure's table: 10 x 4 float32
    160
    >>> stored_bytes({"a": [1.5, 2.5], "b": b"abcd"})   # two numbers (8 bytes each) and 4 bytes
    20
    """
    seen_arrays: set[int] = set()
    seen, stack, total = set(), [search], 0
    while stack and len(seen) < _MAX_OBJECTS:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            base = value
            while isinstance(base.base, np.ndarray):
                base = base.base
            if id(base) not in seen_arrays:
                seen_arrays.add(id(base))
                total += int(base.nbytes)
                if base.dtype == object:
                    stack.extend(base.ravel().tolist())
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            total += len(value) if not isinstance(value, memoryview) else value.nbytes
            continue
        if isinstance(value, (bool, int, float, complex, np.generic)) or value is None:
            total += 0 if value is None or isinstance(value, bool) else 8
            continue
        if _skipped(value):
            continue
        stack.extend(_children(value))
    return total


def check_rankings(rankings, passage_ids, k: int) -> str | None:
    """Why ``rankings`` (one list per query) is not a valid answer, or None: each must be ``k`` distinct
    passage ids (strings of ``passage_ids``)."""
    known = set(passage_ids)
    if not isinstance(rankings, list):
        return "the rankings are not a list"
    for number, ranking in enumerate(rankings, 1):
        if not isinstance(ranking, list) or len(ranking) != k:
            return f"query {number}: search did not return a list of {k} passage ids"
        if any(not isinstance(pid, str) or pid not in known for pid in ranking):
            return f"query {number}: search returned something that is not a passage id"
        if len(set(ranking)) != k:
            return f"query {number}: search returned the same passage twice"
    return None


def _as_ids(result, k: int) -> list:
    """A search result as a plain list (numpy ids and tuples allowed), at most ``k + 1`` kept."""
    items = list(result)[: k + 1] if result is not None else []
    return [str(item) if isinstance(item, np.str_) else item for item in items]


# ----- the baselines -------------------------------------------------------------------------------


def bm25_pipeline(passages: Mapping[str, str]) -> Callable[[str, int], list[str]]:
    """The BM25 baseline: fastembed's ``Qdrant/bm25`` weights with the engine's IDF folded in, stored as
    inverted lists (float32 weights, int32 passage numbers), scored by adding up the lists of the
    query's terms."""
    from fastembed import SparseTextEmbedding

    from course_utils.models import BM25_MODEL

    model = SparseTextEmbedding(BM25_MODEL)
    ids = list(passages)
    vectors = list(model.embed([passages[pid] for pid in ids]))
    postings: dict[int, list[tuple[int, float]]] = {}
    for row, vector in enumerate(vectors):
        for term, weight in zip(vector.indices.tolist(), vector.values.tolist()):
            postings.setdefault(int(term), []).append((row, float(weight)))
    n = len(ids)
    lists = {}
    for term, entries in postings.items():
        idf = np.log(1 + (n - len(entries) + 0.5) / (len(entries) + 0.5))
        lists[term] = (np.array([r for r, _ in entries], dtype=np.int32),
                       np.array([w * idf for _, w in entries], dtype=np.float32))
    id_array = np.array(ids)

    def search(query_text: str, k: int) -> list[str]:
        scores = np.zeros(n, dtype=np.float32)
        for term in next(iter(model.query_embed([query_text]))).indices.tolist():
            if int(term) in lists:
                rows, weights = lists[int(term)]
                scores[rows] += weights
        order = np.lexsort((np.arange(n), -scores))[:k]
        return id_array[order].tolist()

    return search


def dense_colbert_pipeline(passages: Mapping[str, str], candidates: int = 30) -> Callable[[str, int], list[str]]:
    """The dense -> ColBERT baseline of lesson 3: the ``candidates`` nearest passages by dense cosine
    (float32 vectors), reranked by exact MaxSim over their float32 ColBERT token vectors."""
    from fastembed import LateInteractionTextEmbedding, TextEmbedding

    from course_utils.models import DENSE_MODEL, LATE_INTERACTION_MODEL
    from course_utils.scoring.maxsim import PackedCorpus, score_corpus

    dense, colbert = TextEmbedding(DENSE_MODEL), LateInteractionTextEmbedding(LATE_INTERACTION_MODEL)
    ids = list(passages)
    texts = [passages[pid] for pid in ids]
    dense_vectors = np.asarray(list(dense.embed(texts)), dtype=np.float32)
    token_vectors = [np.asarray(v, dtype=np.float32) for v in colbert.embed(texts)]
    id_array = np.array(ids)

    def search(query_text: str, k: int) -> list[str]:
        query = np.asarray(next(iter(dense.query_embed([query_text]))), dtype=np.float32)
        first = np.argsort(-(dense_vectors @ query), kind="stable")[: max(candidates, k)]
        tokens = np.asarray(next(iter(colbert.query_embed([query_text]))), dtype=np.float32)
        exact = score_corpus(tokens, PackedCorpus.from_documents([token_vectors[i] for i in first]))
        order = first[np.argsort(-exact, kind="stable")][:k]
        return id_array[order].tolist()

    return search


# ----- the development evaluation ------------------------------------------------------------------


def evaluate(build: Callable, passages: Mapping[str, str], queries: Mapping[str, str],
             qrels: Mapping[str, Mapping[str, int]], *, k: int = 10, reference: float | None = None,
             repeats: int = 1) -> dict:
    """Build a pipeline with ``build(passages)`` and measure it on ``queries`` (answered ``repeats`` times
    for the time per query: a very fast pipeline needs several passes to be timed).

    Returns:
        ``{"nDCG@10", "recall@10", "ms/query", "bytes/passage", "build s"}``, and ``"x BM25 time"`` when
        ``reference`` (the BM25 baseline's ms per query in the same run) is given.

    Raises:
        ValueError: a search result is not ``k`` distinct passage ids.
    """
    from course_utils.scoring import metrics

    started = time.perf_counter()
    search = build(dict(passages))
    built = time.perf_counter() - started
    search(next(iter(queries.values())), k)  # warm-up, not timed
    started = time.perf_counter()
    for _ in range(max(1, repeats)):
        rankings = [_as_ids(search(text, k), k) for text in queries.values()]
    per_query = (time.perf_counter() - started) * 1000 / (len(queries) * max(1, repeats))
    problem = check_rankings(rankings, passages, k)
    if problem:
        raise ValueError(problem)
    run = dict(zip(queries, rankings))
    result = {"nDCG@10": float(np.mean([metrics.ndcg_at_k(run[q], qrels[q], 10) for q in queries])),
              "recall@10": float(np.mean([metrics.recall_at_k(run[q], qrels[q], 10) for q in queries])),
              "ms/query": per_query, "bytes/passage": stored_bytes(search) / len(passages), "build s": built}
    if reference:
        result["x BM25 time"] = per_query / reference
    return result


def show_results(results: Mapping[str, Mapping[str, float]]) -> None:
    """Print one row per pipeline of :func:`evaluate`'s numbers, and the budget's limits below them."""
    print(f"{'pipeline':<18}{'nDCG@10':>9}{'recall@10':>11}{'ms/query':>10}{'x BM25 time':>13}"
          f"{'bytes/passage':>15}{'build s':>9}")
    for name, row in results.items():
        ratio = f"{row['x BM25 time']:.1f}" if "x BM25 time" in row else "-"
        print(f"{name:<18}{row['nDCG@10']:>9.3f}{row['recall@10']:>11.3f}{row['ms/query']:>10.2f}{ratio:>13}"
              f"{row['bytes/passage']:>15,.0f}{row['build s']:>9.1f}")
    print(f"{'budget':<18}{'':>9}{'':>11}{'':>10}{BUDGET['query_time_ratio']:>13g}"
          f"{BUDGET['bytes_per_passage']:>15,}{BUDGET['build_seconds']:>9g}")


# ----- the grader's run ----------------------------------------------------------------------------


def heldout_run(build: Callable, query_texts: Sequence[str], publish: Callable[[int, dict], None], *,
                k: int = 10) -> None:
    """What the grader runs in the student's kernel, in the held-out test cell: build the pipeline, then
    answer ``query_texts`` with the two baselines and with it, publishing each step (:data:`RECORD_STEPS`)
    as it ends.

    ``publish(step index, value)`` sends one record to the grader, which times the steps from their
    arrival with its own clock (the BM25 baseline answers the queries again and again for :data:`BM25_SECONDS`,
    and says how many passes it made). Errors
    of the student's code (any exception, ``SystemExit`` and an interrupt included) are published as the value
    ``{"error": <type name>}`` and end the run, so that the run's own records are never skipped.
    """
    from course_utils.data import load_corpus

    corpus = load_corpus()
    passages = dict(corpus.passages)
    warm_up = next(iter(corpus.queries.values()))
    publish(0, {"queries": len(query_texts)})
    try:
        search = build(dict(passages))
        size = stored_bytes(search)
    except BaseException as error:  # noqa: BLE001 - the student's code (SystemExit too): reported, never raised
        publish(1, {"error": type(error).__name__[:100]})
        return
    publish(1, {"bytes": int(size), "passages": len(passages)})
    reference, baseline = bm25_pipeline(passages), dense_colbert_pipeline(passages)
    reference(warm_up, k)
    baseline(warm_up, k)
    publish(2, {})
    publish(3, {"rankings": [baseline(text, k) for text in query_texts]})
    passes, started = 0, time.perf_counter()
    while passes == 0 or (time.perf_counter() - started < BM25_SECONDS and passes < BM25_MAX_PASSES):
        bm25_rankings = [reference(text, k) for text in query_texts]
        passes += 1
    publish(4, {"rankings": bm25_rankings, "passes": passes})
    try:
        search(warm_up, k)
    except BaseException as error:  # noqa: BLE001
        publish(5, {"error": type(error).__name__[:100]})
        return
    publish(5, {})
    try:
        rankings = [_as_ids(search(text, k), k) for text in query_texts]
    except BaseException as error:  # noqa: BLE001
        publish(6, {"error": type(error).__name__[:100]})
        return
    publish(6, {"rankings": [[item if isinstance(item, str) else repr(item)[:40] for item in ranking]
                             for ranking in rankings]})


def dev_check(build: Callable, k: int = 10) -> None:
    """The held-out test cell as students see it: build the pipeline on the corpus and check that it answers
    three development queries with ``k`` distinct passage ids. The grader replaces this cell by
    :func:`heldout_run` on its held-out queries.

    Raises:
        ValueError: a result that is not ``k`` distinct passage ids.
    """
    from course_utils.data import load_corpus

    corpus = load_corpus()
    search = build(dict(corpus.passages))
    texts = list(corpus.queries.values())[:3]
    problem = check_rankings([_as_ids(search(text, k), k) for text in texts], corpus.passages, k)
    if problem:
        raise ValueError(f"Not yet: {problem}.")
    print(f"\u2713 your pipeline answers with {k} passage ids; the grader runs it on held-out queries")
