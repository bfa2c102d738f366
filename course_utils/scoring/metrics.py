"""Standard IR evaluation metrics for ranked lists: recall, precision, MRR and nDCG at k.

A *ranking* is the list of passage ids a retriever returned for one query, best
first. *Judgements* (the qrels of that query) say which passages are relevant:
either a dict ``{passage_id: grade}`` with integer grades (0 = judged not
relevant, 1 = relevant, 2 = highly relevant, ...) or simply a set of relevant
ids (each then counts as grade 1). A passage is *relevant* when its grade is
>= 1. Passages of the ranking that are not in the judgements are unjudged and
count as not relevant, as in trec_eval.

Per query, with ``top_k`` the first k ids of the ranking and ``R`` the set of
relevant passages:

    recall@k    = |R ∩ top_k| / |R|
    precision@k = |R ∩ top_k| / k               (divide by k even if the ranking is shorter)
    RR@k        = 1 / rank of the first relevant passage in top_k, 0 if there is none
    DCG@k       = sum over ranks i = 1..k of grade(passage at rank i) / log2(i + 1)
    nDCG@k      = DCG@k / IDCG@k,  IDCG@k = DCG@k of the judged grades sorted best first

:func:`evaluate` averages these over the queries of a run (MRR@k is the mean of
RR@k); :func:`evaluate_by_subset` does the same within each subset of the queries (for the
course corpus: ``"lexical"`` and ``"mismatch"``, ``Corpus.query_subsets``). The values match
trec_eval (``P_k``, ``recall_k``, ``ndcg_cut_k``) and ir-measures (``P@k``, ``R@k``, ``RR@k``,
``nDCG@k``) when the run has no ties.

Bad input raises an error with a message naming the argument: ``TypeError`` for
the wrong kind of thing (k not an int; a ranking that is not a list, since a bare
string would be read letter by letter; ids that are not strings; grades that are not
ints), ``ValueError`` for a wrong value (k < 1; a ranking that is empty or has
duplicate ids; judgements with a negative grade or with no relevant passage: recall
and nDCG would be 0/0, so all four metrics refuse such a query rather than average
in a meaningless 0).

Example::

    >>> ranking = ["p3", "p1", "p7"]
    >>> judgements = {"p1": 2, "p5": 1, "p3": 0}
    >>> recall_at_k(ranking, judgements, k=2)      # p1 found, p5 missed
    0.5
    >>> mrr_at_k(ranking, judgements, k=2)         # first relevant at rank 2
    0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection, Mapping, Sequence

__all__ = ["recall_at_k", "precision_at_k", "mrr_at_k", "ndcg_at_k", "evaluate", "evaluate_by_subset"]

#: ``{passage_id: grade}``, or a collection of relevant passage ids (grade 1 each).
Judgements = Mapping[str, int] | Collection[str]


# --------------------------------------------------------------------------
# The formulas. They assume checked input: `ranking` a list of distinct str
# ids, `grades` a dict id -> int >= 0 with at least one grade >= 1, k >= 1.
# --------------------------------------------------------------------------

def _recall(ranking: list[str], grades: dict[str, int], k: int) -> float:
    relevant = {pid for pid, grade in grades.items() if grade >= 1}
    hits = sum(1 for pid in ranking[:k] if pid in relevant)
    return hits / len(relevant)


def _precision(ranking: list[str], grades: dict[str, int], k: int) -> float:
    hits = sum(1 for pid in ranking[:k] if grades.get(pid, 0) >= 1)
    return hits / k


def _reciprocal_rank(ranking: list[str], grades: dict[str, int], k: int) -> float:
    for rank, pid in enumerate(ranking[:k], start=1):
        if grades.get(pid, 0) >= 1:
            return 1 / rank
    return 0.0


def _dcg(gains: list[int]) -> float:
    """DCG of gains listed in rank order: sum of gain / log2(rank + 1), rank from 1."""
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def _ndcg(ranking: list[str], grades: dict[str, int], k: int) -> float:
    dcg = _dcg([grades.get(pid, 0) for pid in ranking[:k]])
    ideal_dcg = _dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg / ideal_dcg


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

def recall_at_k(ranking: Sequence[str], judgements: Judgements, k: int) -> float:
    """Fraction of the relevant passages that appear in the top k of the ranking.

    ``recall@k = |relevant ∩ top_k| / |relevant|``, where relevant means grade >= 1.

    Raises ``ValueError`` if the judgements have no relevant passage (0/0).
    """
    ranking, grades, k = _check_inputs(ranking, judgements, k)
    return _recall(ranking, grades, k)


def precision_at_k(ranking: Sequence[str], judgements: Judgements, k: int) -> float:
    """Number of relevant passages in the top k, divided by k.

    ``precision@k = |relevant ∩ top_k| / k``. As in trec_eval, the division is
    by k even when the ranking has fewer than k passages.
    """
    ranking, grades, k = _check_inputs(ranking, judgements, k)
    return _precision(ranking, grades, k)


def mrr_at_k(ranking: Sequence[str], judgements: Judgements, k: int) -> float:
    """Reciprocal rank of the first relevant passage within the top k, 0.0 if none.

    ``RR@k = 1 / rank`` of the first passage with grade >= 1 among ranks 1..k.
    This is the value for one query; MRR@k is its mean over queries (see
    :func:`evaluate`).
    """
    ranking, grades, k = _check_inputs(ranking, judgements, k)
    return _reciprocal_rank(ranking, grades, k)


def ndcg_at_k(ranking: Sequence[str], judgements: Judgements, k: int) -> float:
    """Graded nDCG at k with linear gains, as trec_eval's ``ndcg_cut_k``.

    ``DCG@k = sum_{i=1..k} grade(passage at rank i) / log2(i + 1)`` (unjudged
    passages have grade 0), and ``nDCG@k = DCG@k / IDCG@k``, where IDCG@k is
    the DCG@k of the best possible ranking: all judged grades sorted from
    highest to lowest, whether or not the run retrieved those passages.

    Raises ``ValueError`` if the judgements have no relevant passage (0/0).
    """
    ranking, grades, k = _check_inputs(ranking, judgements, k)
    return _ndcg(ranking, grades, k)


_METRICS: dict[str, Callable[[list[str], dict[str, int], int], float]] = {
    "recall": _recall,
    "precision": _precision,
    "mrr": _reciprocal_rank,
    "ndcg": _ndcg,
}


def evaluate(
    run: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Judgements],
    k: int | Sequence[int] = 10,
    metrics: Sequence[str] = ("recall", "precision", "mrr", "ndcg"),
) -> dict[str, float]:
    """Mean of each metric over the queries of a run.

    ``run`` is ``{query_id: [passage ids, best first]}`` and ``qrels`` is
    ``{query_id: {passage_id: grade}}`` (or ``{query_id: set of relevant ids}``).
    Every query of the run must have judgements with at least one relevant
    passage; queries that are in ``qrels`` but not in ``run`` are ignored.

    Returns a dict keyed ``"<metric>@<k>"``, e.g. ``{"recall@10": 0.71,
    "precision@10": 0.09, "mrr@10": 0.52, "ndcg@10": 0.58}``. Pass several
    cut-offs, e.g. ``k=(1, 5, 10)``, to get every metric at each of them.
    """
    cutoffs = _check_cutoffs(k)
    names = _check_metric_names(metrics)
    if not isinstance(run, Mapping):
        raise TypeError(
            f"run must be a dict {{query_id: [passage ids, best first]}}, got "
            f"{type(run).__name__}. Build it with e.g. run = {{qid: ranking_of(qid) for qid in queries}}."
        )
    if len(run) == 0:
        raise ValueError("run is empty: there is no query to evaluate. Add at least one query and its ranking.")
    if not isinstance(qrels, Mapping):
        raise TypeError(
            f"qrels must be a dict {{query_id: {{passage_id: grade}}}}, got {type(qrels).__name__}."
        )

    totals = {f"{name}@{cutoff}": 0.0 for name in names for cutoff in cutoffs}
    for query_id, ranking in run.items():
        if query_id not in qrels:
            raise ValueError(
                f"qrels has no judgements for query id {query_id!r}, which is in run. Every query "
                f"of the run needs judgements: remove that query from run, or check that the query "
                f"ids are spelled the same in both (e.g. str '3' vs int 3)."
            )
        checked_ranking = _check_ranking(ranking, f"run[{query_id!r}]")
        grades = _check_judgements(qrels[query_id], f"qrels[{query_id!r}]")
        for name in names:
            for cutoff in cutoffs:
                totals[f"{name}@{cutoff}"] += _METRICS[name](checked_ranking, grades, cutoff)
    return {key: total / len(run) for key, total in totals.items()}


def evaluate_by_subset(
    run: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Judgements],
    subsets: Mapping[str, str],
    k: int | Sequence[int] = 10,
    metrics: Sequence[str] = ("recall", "precision", "mrr", "ndcg"),
) -> dict[str, dict[str, float]]:
    """:func:`evaluate` within each subset of the run's queries, then over all of them.

    ``subsets`` is ``{query_id: subset name}`` (for the course corpus ``corpus.query_subsets``) and
    must name every query of ``run``. Returns ``{subset: {"<metric>@<k>": mean}}`` with the subsets
    in the order their first query appears in ``run``, then ``"all"`` (the same as :func:`evaluate`),
    and the number of queries of each under the key ``"queries"``.

    >>> qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    >>> run = {"q1": ["a", "b"], "q2": ["a", "b"], "q3": ["a", "c"]}
    >>> table = evaluate_by_subset(run, qrels, {"q1": "lexical", "q2": "mismatch", "q3": "mismatch"}, k=1,
    ...                            metrics=["recall"])
    >>> table
    {'lexical': {'recall@1': 1.0, 'queries': 1}, 'mismatch': {'recall@1': 0.0, 'queries': 2}, \
'all': {'recall@1': 0.3333333333333333, 'queries': 3}}
    """
    if not isinstance(subsets, Mapping):
        raise TypeError(f"subsets must be a dict {{query_id: subset name}}, got {type(subsets).__name__}.")
    if not isinstance(run, Mapping):
        raise TypeError(f"run must be a dict {{query_id: [passage ids, best first]}}, got {type(run).__name__}.")
    missing = [query_id for query_id in run if query_id not in subsets]
    if missing:
        raise ValueError(f"subsets names no subset for the queries {missing[:5]} of run; give every query "
                         f"a subset, e.g. subsets=corpus.query_subsets.")
    if "all" in subsets.values():
        raise ValueError('subsets uses the name "all", which evaluate_by_subset keeps for all the queries; rename it.')
    groups: dict[str, dict[str, Sequence[str]]] = {}
    for query_id, ranking in run.items():
        groups.setdefault(subsets[query_id], {})[query_id] = ranking
    groups["all"] = dict(run)
    return {name: {**evaluate(part, qrels, k, metrics), "queries": len(part)} for name, part in groups.items()}


# --------------------------------------------------------------------------
# Input checks: each raises TypeError (wrong type) or ValueError (wrong value) saying what to do.
# --------------------------------------------------------------------------

def _check_inputs(ranking: object, judgements: object, k: object) -> tuple[list[str], dict[str, int], int]:
    return _check_ranking(ranking), _check_judgements(judgements), _check_k(k)


def _check_k(k: object, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(
            f"{name} must be an int >= 1 (the cut-off, e.g. 10), got {k!r} of type {type(k).__name__}."
        )
    if k < 1:
        raise ValueError(f"{name} must be an int >= 1 (the cut-off, e.g. 10), got {k}.")
    return int(k)


def _check_cutoffs(k: object) -> list[int]:
    """``k`` of :func:`evaluate`: one int, or a sequence of ints (duplicates dropped)."""
    if isinstance(k, numbers.Integral) and not isinstance(k, bool):
        return [_check_k(k)]
    if isinstance(k, (str, bytes)) or not isinstance(k, Sequence):
        raise TypeError(
            f"k must be an int >= 1 or a list of such ints (e.g. k=10 or k=[1, 5, 10]), "
            f"got {k!r} of type {type(k).__name__}."
        )
    if len(k) == 0:
        raise ValueError("k is an empty list: give at least one cut-off, e.g. k=[10].")
    return list(dict.fromkeys(_check_k(cutoff, f"k[{i}]") for i, cutoff in enumerate(k)))


def _check_metric_names(metrics: object) -> list[str]:
    known = ", ".join(repr(name) for name in _METRICS)
    if isinstance(metrics, str):
        raise TypeError(
            f"metrics must be a list of metric names, got the single string {metrics!r}; "
            f"write metrics=[{metrics!r}]. Known names: {known}."
        )
    if not isinstance(metrics, Sequence):
        raise TypeError(f"metrics must be a non-empty list of metric names among {known}; got {metrics!r}.")
    if len(metrics) == 0:
        raise ValueError(f"metrics must be a non-empty list of metric names among {known}; got {metrics!r}.")
    for name in metrics:
        if name not in _METRICS:
            raise ValueError(f"metrics contains unknown metric {name!r}; known names: {known}.")
    return list(dict.fromkeys(metrics))


def _check_ranking(ranking: object, name: str = "ranking") -> list[str]:
    if isinstance(ranking, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of passage ids (best first), but it is the single string "
            f"{ranking!r}, which would be read one character at a time. Wrap it in a list: [{ranking!r}]."
        )
    if isinstance(ranking, Mapping):
        raise TypeError(
            f"{name} must be a list of passage ids (best first), got a {type(ranking).__name__}. "
            f"If it maps ids to scores, sort it first: sorted(scores, key=scores.get, reverse=True)."
        )
    if not isinstance(ranking, Sequence):
        raise TypeError(
            f"{name} must be a list of passage ids (best first), got {type(ranking).__name__}. "
            f"Sets have no order; convert other iterables (generators, arrays) with list(...)."
        )
    if len(ranking) == 0:
        raise ValueError(f"{name} is empty: a ranking needs at least one passage id.")
    first_rank: dict[str, int] = {}
    for rank, pid in enumerate(ranking, start=1):
        if not isinstance(pid, str):
            raise TypeError(
                f"{name} must contain passage ids as str, but rank {rank} holds {pid!r} "
                f"({type(pid).__name__}). Convert the ids with str(...), the same way as in the judgements."
            )
        if pid in first_rank:
            raise ValueError(
                f"{name} has the duplicate passage id {pid!r} (ranks {first_rank[pid]} and {rank}); "
                f"each passage may appear only once. Keep the first occurrence, e.g. list(dict.fromkeys(ranking))."
            )
        first_rank[pid] = rank
    return list(ranking)


def _check_judgements(judgements: object, name: str = "judgements") -> dict[str, int]:
    if isinstance(judgements, (str, bytes)):
        raise TypeError(
            f"{name} must be a dict {{passage_id: grade}} or a set of relevant passage ids, but it is "
            f"the single string {judgements!r}. Write {{{judgements!r}: 1}} or {{{judgements!r}}}."
        )
    if isinstance(judgements, Mapping):
        pairs = list(judgements.items())
    elif isinstance(judgements, Collection):
        pairs = [(pid, 1) for pid in judgements]  # a collection of relevant ids: grade 1 each
    else:
        raise TypeError(
            f"{name} must be a dict {{passage_id: grade}} or a set of relevant passage ids, "
            f"got {type(judgements).__name__}."
        )
    grades: dict[str, int] = {}
    for pid, grade in pairs:
        if not isinstance(pid, str):
            raise TypeError(
                f"{name} must use str passage ids, but contains {pid!r} ({type(pid).__name__}). "
                f"Convert the ids with str(...), the same way as in the ranking."
            )
        if not isinstance(grade, numbers.Integral):
            raise TypeError(
                f"{name} gives passage {pid!r} the grade {grade!r} ({type(grade).__name__}); grades "
                f"must be ints 0 (not relevant), 1, 2, ... Convert them with int(...)."
            )
        if grade < 0:
            raise ValueError(
                f"{name} gives passage {pid!r} the negative grade {grade}; grades must be 0 (not "
                f"relevant), 1, 2, ... Map negative grades (e.g. TREC's -1 for spam) to 0."
            )
        grades[pid] = int(grade)
    if not any(grade >= 1 for grade in grades.values()):
        what = "is empty" if not grades else "has no relevant passage (no grade >= 1)"
        raise ValueError(
            f"{name} {what}: recall and nDCG are undefined for such a query (they would divide by 0), "
            f"so it cannot be evaluated. Check that the judgements belong to this query and use the same "
            f"passage ids, or leave the query out."
        )
    return grades
