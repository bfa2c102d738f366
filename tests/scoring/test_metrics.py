"""Tests of course_utils.scoring.metrics: hand-computed examples, agreement with
ir-measures (trec_eval underneath) on random runs, and the ValueError messages."""

from __future__ import annotations

import math
import random

import ir_measures
import pytest
from ir_measures import P, R, RR, nDCG

from course_utils.scoring.metrics import evaluate, evaluate_by_subset, mrr_at_k, ndcg_at_k, precision_at_k, recall_at_k

METRIC_FUNCTIONS = [recall_at_k, precision_at_k, mrr_at_k, ndcg_at_k]


# ---------------------------------------------------------------------------
# Hand-computed examples
# ---------------------------------------------------------------------------

# d1 is judged not relevant, d3 and d5 are unjudged, d9 is relevant but not retrieved.
RANKING = ["d1", "d2", "d3", "d4", "d5"]
JUDGEMENTS = {"d1": 0, "d2": 2, "d4": 1, "d9": 1}  # relevant: d2, d4, d9


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, 0.0),  # top 1 = d1 (grade 0): 0 of 3 relevant
        (3, 1 / 3),  # top 3 holds d2: 1/3 = 0.333...
        (5, 2 / 3),  # top 5 holds d2, d4: 2/3 = 0.666...
        (50, 2 / 3),  # k beyond the ranking: still d2, d4 out of d2, d4, d9
    ],
)
def test_recall_by_hand(k, expected):
    assert recall_at_k(RANKING, JUDGEMENTS, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, 0.0),  # d1 has grade 0: 0/1
        (2, 0.5),  # d2: 1/2
        (5, 0.4),  # d2, d4: 2/5
        (10, 0.2),  # ranking has 5 ids, still divide by k: 2/10
    ],
)
def test_precision_by_hand(k, expected):
    assert precision_at_k(RANKING, JUDGEMENTS, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, 0.0),  # rank 1 = d1, grade 0 -> no relevant passage in the top 1
        (2, 0.5),  # first relevant is d2 at rank 2: 1/2
        (5, 0.5),  # d4 at rank 4 does not matter: 1/2
    ],
)
def test_mrr_by_hand(k, expected):
    assert mrr_at_k(RANKING, JUDGEMENTS, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        # DCG@1 = 0/log2(2) = 0 -> nDCG 0
        (1, 0.0),
        # DCG@3  = 0/log2(2) + 2/log2(3) + 0/log2(4) = 1.261859507142915
        # IDCG@3 = grades sorted [2, 1, 1, 0] -> 2/1 + 1/log2(3) + 1/log2(4)
        #        = 2 + 0.6309297535714575 + 0.5 = 3.1309297535714578
        # nDCG@3 = 1.261859507142915 / 3.1309297535714578 = 0.4030302838010049
        (3, 0.4030302838010049),
        # DCG@5  = 2/log2(3) + 1/log2(5) = 1.261859507142915 + 0.43067655807339306 = 1.6925360652163082
        # IDCG@5 = 2 + 1/log2(3) + 1/log2(4) + 0/log2(5) = 3.1309297535714578 (d9 counts though not retrieved)
        # nDCG@5 = 1.6925360652163082 / 3.1309297535714578 = 0.5405857679450102
        (5, 0.5405857679450102),
    ],
)
def test_ndcg_by_hand(k, expected):
    assert ndcg_at_k(RANKING, JUDGEMENTS, k) == pytest.approx(expected, abs=1e-12)


def test_judgements_as_a_set_of_relevant_ids():
    ranking = ("a", "b", "c")  # a tuple is fine too
    relevant = {"c"}  # grade 1
    assert recall_at_k(ranking, relevant, 3) == 1.0  # 1/1
    assert recall_at_k(ranking, relevant, 2) == 0.0  # 0/1
    assert precision_at_k(ranking, relevant, 3) == pytest.approx(1 / 3)  # 1/3
    assert mrr_at_k(ranking, relevant, 3) == pytest.approx(1 / 3)  # c at rank 3
    assert mrr_at_k(ranking, ["c"], 2) == 0.0  # a list of ids works too; c is past k
    # DCG@3 = 1/log2(3 + 1) = 0.5, IDCG@3 = 1/log2(2) = 1 -> 0.5
    assert ndcg_at_k(ranking, frozenset(relevant), 3) == pytest.approx(0.5, abs=1e-12)


def test_ideal_ranking_has_ndcg_one():
    judgements = {"a": 2, "b": 1, "c": 1, "z": 0}
    assert ndcg_at_k(["a", "b", "c"], judgements, 3) == pytest.approx(1.0, abs=1e-12)
    # b and c have the same grade, so swapping them is still ideal.
    assert ndcg_at_k(["a", "c", "b", "x"], judgements, 10) == pytest.approx(1.0, abs=1e-12)


def test_evaluate_by_hand():
    run = {"q1": ["d1", "d2", "d3"], "q2": ["y", "x"]}
    qrels = {
        "q1": {"d2": 1, "d3": 1},
        "q2": {"y": 2, "z": 1},
        "q3": {"w": 1},  # not in the run: ignored
    }
    result = evaluate(run, qrels, k=2)
    assert list(result) == ["recall@2", "precision@2", "mrr@2", "ndcg@2"]
    expected = {
        "recall@2": 0.5,  # q1: d2 of {d2, d3} = 1/2; q2: y of {y, z} = 1/2; mean 0.5
        "precision@2": 0.5,  # q1: 1/2; q2: 1/2
        "mrr@2": 0.75,  # q1: d2 at rank 2 -> 1/2; q2: y at rank 1 -> 1; mean (0.5 + 1) / 2
        # q1: DCG = 1/log2(3) = 0.6309297535714575, IDCG = 1 + 1/log2(3) -> 0.38685280723454163
        # q2: DCG = 2/1 = 2, IDCG = 2 + 1/log2(3) = 2.6309297535714578 -> 0.7601875334318685
        # mean (0.38685280723454163 + 0.7601875334318685) / 2 = 0.5735201703332051
        "ndcg@2": 0.5735201703332051,
    }
    assert result == pytest.approx(expected, abs=1e-12)


def test_evaluate_several_cutoffs_and_chosen_metrics():
    run = {"q1": ["d1", "d2", "d3"], "q2": ["y", "x"]}
    qrels = {"q1": {"d2": 1, "d3": 1}, "q2": {"y": 2, "z": 1}}
    result = evaluate(run, qrels, k=[1, 3], metrics=("mrr", "recall"))
    assert result == pytest.approx(
        {
            "mrr@1": 0.5,  # q1: d1 not relevant -> 0; q2: y -> 1; mean 0.5
            "mrr@3": 0.75,  # q1: 1/2; q2: 1; mean 0.75
            "recall@1": 0.25,  # q1: 0/2; q2: 1/2; mean 0.25
            "recall@3": 0.75,  # q1: 2/2; q2: 1/2; mean 0.75
        },
        abs=1e-12,
    )
    assert set(result) == {"mrr@1", "mrr@3", "recall@1", "recall@3"}


# ---------------------------------------------------------------------------
# Agreement with ir-measures on random runs
# ---------------------------------------------------------------------------

N_CASES = 300


def _random_case(rng: random.Random):
    """A run of 1-4 queries with graded judgements (each with a relevant passage) and two cut-offs."""
    k, k2 = rng.randint(1, 20), rng.randint(1, 20)
    run, qrels = {}, {}
    for q in range(rng.randint(1, 4)):
        pool = [f"p{i}" for i in range(rng.randint(2, 40))]
        judged = rng.sample(pool, rng.randint(1, min(15, len(pool))))
        grades = {pid: rng.choice([0, 0, 1, 1, 2]) for pid in judged}
        if max(grades.values()) == 0:
            grades[rng.choice(judged)] = rng.choice([1, 2])
        run[f"q{q}"] = rng.sample(pool, rng.randint(1, min(30, len(pool))))
        qrels[f"q{q}"] = grades
    return k, k2, run, qrels


def _scored(run):
    # ir-measures sorts by score: give strictly decreasing scores so there are no
    # ties (trec_eval and the MS MARCO RR code break ties by docid in opposite directions).
    return {qid: {pid: float(len(ranking) - i) for i, pid in enumerate(ranking)} for qid, ranking in run.items()}


CASES = [_random_case(random.Random(seed)) for seed in range(N_CASES)]


def test_random_cases_cover_the_tricky_situations():
    queries = [(k, run[q], qrels[q]) for k, _, run, qrels in CASES for q in run]
    assert len(queries) >= 500
    assert sum(len(ranking) < k for k, ranking, _ in queries) >= 100  # shorter than k
    assert sum(any(p not in j for p in ranking[:k]) for k, ranking, j in queries) >= 100  # unjudged ids
    assert sum(any(j.get(p) == 0 for p in ranking[:k]) for k, ranking, j in queries) >= 100  # grade 0 retrieved
    assert sum(2 in j.values() and 1 in j.values() for _, _, j in queries) >= 100  # graded
    assert sum(not any(j.get(p, 0) >= 1 for p in ranking[:k]) for k, ranking, j in queries) >= 50  # nothing found
    assert {k for k, *_ in CASES} == set(range(1, 21))


@pytest.mark.parametrize(("k", "k2", "run", "qrels"), CASES, ids=[f"seed{s}" for s in range(N_CASES)])
def test_agrees_with_ir_measures(k, k2, run, qrels):
    measures = [R @ k, P @ k, RR @ k, nDCG @ k, R @ k2, P @ k2, RR @ k2, nDCG @ k2]
    scored = _scored(run)
    ours = {"R": recall_at_k, "P": precision_at_k, "RR": mrr_at_k, "nDCG": ndcg_at_k}

    # Per query.
    n_checked = 0
    for metric in ir_measures.iter_calc(measures, qrels, scored):
        measure = metric.measure
        mine = ours[measure.NAME](run[metric.query_id], qrels[metric.query_id], measure["cutoff"])
        assert mine == pytest.approx(metric.value, abs=1e-9), (metric, run[metric.query_id], qrels[metric.query_id])
        n_checked += 1
    assert n_checked == len(run) * len(set(measures))

    # Aggregated (qrels has exactly the run's queries, so both average over the same queries).
    theirs = ir_measures.calc_aggregate(measures, qrels, scored)
    names = {"R": "recall", "P": "precision", "RR": "mrr", "nDCG": "ndcg"}
    mine = evaluate(run, qrels, k=[k, k2])
    assert len(mine) == 4 * len({k, k2})
    for measure, value in theirs.items():
        assert mine[f"{names[measure.NAME]}@{measure['cutoff']}"] == pytest.approx(value, abs=1e-9)


# ---------------------------------------------------------------------------
# Bad input: TypeError (wrong type) or ValueError (wrong value), the message starting with the argument's name
# ---------------------------------------------------------------------------

GOOD_RANKING = ["a", "b", "c"]
GOOD_JUDGEMENTS = {"a": 1, "x": 2}


@pytest.mark.parametrize("metric", METRIC_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("k", "error"), [(0, ValueError), (-3, ValueError), (2.0, TypeError), ("10", TypeError),
                                          (None, TypeError), (True, TypeError), ([5], TypeError)])
def test_bad_k(metric, k, error):
    with pytest.raises(error, match=r"^k must be an int >= 1") as raised:
        metric(GOOD_RANKING, GOOD_JUDGEMENTS, k)
    assert type(raised.value) is error


@pytest.mark.parametrize("metric", METRIC_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("ranking", "what", "error"),
    [
        ([], "is empty", ValueError),
        ("abc", "single string", TypeError),  # would iterate 'a', 'b', 'c'
        (["a", "b", "a"], "duplicate passage id 'a'", ValueError),
        ({"a", "b"}, "got set", TypeError),  # no order
        ({"a": 2.0, "b": 1.0}, "got a dict", TypeError),  # scores, not a ranking
        ((pid for pid in "ab"), "got generator", TypeError),
        ([1, 2], "as str", TypeError),
        (None, "got NoneType", TypeError),
    ],
    ids=["empty", "string", "duplicate", "set", "dict", "generator", "int-ids", "None"],
)
def test_bad_ranking(metric, ranking, what, error):
    with pytest.raises(error, match=r"^ranking ") as raised:
        metric(ranking, GOOD_JUDGEMENTS, 3)
    assert type(raised.value) is error
    assert what in str(raised.value)


@pytest.mark.parametrize("metric", METRIC_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("judgements", "what", "error"),
    [
        ({}, "undefined", ValueError),
        (set(), "undefined", ValueError),
        ({"a": 0, "b": 0}, "no relevant passage", ValueError),
        ({"a": 1, "b": -1}, "negative grade", ValueError),
        ("a", "single string", TypeError),
        ({"a": 1.5}, "must be ints", TypeError),
        ({1: 1}, "str passage ids", TypeError),
        (None, "got NoneType", TypeError),
    ],
    ids=["empty-dict", "empty-set", "all-zero", "negative", "string", "float-grade", "int-id", "None"],
)
def test_bad_judgements(metric, judgements, what, error):
    with pytest.raises(error, match=r"^judgements ") as raised:
        metric(GOOD_RANKING, judgements, 3)
    assert type(raised.value) is error
    assert what in str(raised.value)


def test_no_relevant_passage_says_recall_and_ndcg_are_undefined():
    with pytest.raises(ValueError, match=r"^judgements has no relevant passage.*recall and nDCG are undefined"):
        ndcg_at_k(GOOD_RANKING, {"a": 0}, 3)


RUN = {"q1": ["a", "b"], "q2": ["c"]}
QRELS = {"q1": {"a": 1}, "q2": {"c": 2, "d": 0}}


def test_evaluate_accepts_the_good_inputs():
    assert evaluate(RUN, QRELS, k=1) == {"recall@1": 1.0, "precision@1": 1.0, "mrr@1": 1.0, "ndcg@1": 1.0}


@pytest.mark.parametrize(
    ("run", "qrels", "kwargs", "pattern", "error"),
    [
        ({}, QRELS, {}, r"^run is empty", ValueError),
        ([["a", "b"]], QRELS, {}, r"^run must be a dict", TypeError),
        ({"q1": ["a"], "q9": ["b"]}, QRELS, {}, r"^qrels has no judgements for query id 'q9'", ValueError),
        ({"q1": "ab"}, QRELS, {}, r"^run\['q1'\] must be a list .*single string", TypeError),
        ({"q1": {"a": 1.0}}, QRELS, {}, r"^run\['q1'\] must be a list .*got a dict", TypeError),
        ({"q1": {"a", "b"}}, QRELS, {}, r"^run\['q1'\] must be a list .*got set", TypeError),
        ({"q1": []}, QRELS, {}, r"^run\['q1'\] is empty", ValueError),
        ({"q1": ["a", "a"]}, QRELS, {}, r"^run\['q1'\] has the duplicate passage id 'a'", ValueError),
        (RUN, {"q1": {"a": 1}, "q2": {"c": 0}}, {}, r"^qrels\['q2'\] has no relevant passage", ValueError),
        (RUN, {"q1": {"a": 1}, "q2": {"c": -2}}, {}, r"^qrels\['q2'\] gives passage 'c' the negative grade",
         ValueError),
        (RUN, [("q1", "a", 1)], {}, r"^qrels must be a dict", TypeError),
        (RUN, QRELS, {"k": 0}, r"^k must be an int >= 1", ValueError),
        (RUN, QRELS, {"k": "10"}, r"^k must be an int >= 1 or a list", TypeError),
        (RUN, QRELS, {"k": []}, r"^k is an empty list", ValueError),
        (RUN, QRELS, {"k": [5, 0]}, r"^k\[1\] must be an int >= 1", ValueError),
        (RUN, QRELS, {"metrics": "ndcg"}, r"^metrics must be a list .*single string", TypeError),
        (RUN, QRELS, {"metrics": ("ndcg", "map")}, r"^metrics contains unknown metric 'map'", ValueError),
        (RUN, QRELS, {"metrics": ()}, r"^metrics must be a non-empty list", ValueError),
    ],
    ids=[
        "empty-run", "run-not-dict", "query-without-qrels", "ranking-string", "ranking-dict",
        "ranking-set", "ranking-empty", "ranking-duplicate", "no-relevant", "negative-grade",
        "qrels-not-dict", "k-zero", "k-string", "k-empty", "k-list-bad", "metrics-string",
        "metrics-unknown", "metrics-empty",
    ],
)
def test_evaluate_bad_input(run, qrels, kwargs, pattern, error):
    with pytest.raises(error, match=pattern) as raised:
        evaluate(run, qrels, **kwargs)
    assert type(raised.value) is error


def test_all_metrics_are_between_zero_and_one():
    for k, _, run, qrels in CASES[:50]:
        for value in evaluate(run, qrels, k=k).values():
            assert 0.0 <= value <= 1.0 + 1e-12 and not math.isnan(value)


# ---------------------------------------------------------------------------
# Per subset of queries
# ---------------------------------------------------------------------------

SUBSET_QRELS = {"q1": {"a": 2}, "q2": {"b": 1}, "q3": {"c": 1, "a": 0}}
SUBSET_RUN = {"q2": ["b", "a"], "q1": ["b", "a"], "q3": ["a", "c"]}


def test_evaluate_by_subset_averages_within_each_subset_then_over_all():
    table = evaluate_by_subset(SUBSET_RUN, SUBSET_QRELS, {"q1": "x", "q2": "y", "q3": "x"}, k=[1, 2],
                               metrics=["recall", "mrr"])
    assert list(table) == ["y", "x", "all"]  # in the order of the run's first query of each
    assert table["y"] == {"recall@1": 1.0, "recall@2": 1.0, "mrr@1": 1.0, "mrr@2": 1.0, "queries": 1}
    assert table["x"] == {"recall@1": 0.0, "recall@2": 1.0, "mrr@1": 0.0, "mrr@2": 0.5, "queries": 2}
    assert table["all"] == {**evaluate(SUBSET_RUN, SUBSET_QRELS, k=[1, 2], metrics=["recall", "mrr"]), "queries": 3}


@pytest.mark.parametrize("subsets, error, pattern", [
    ({"q1": "x", "q2": "y"}, ValueError, "names no subset for the queries \\['q3'\\]"),
    ({"q1": "x", "q2": "all", "q3": "x"}, ValueError, '"all"'),
    (["x", "y", "x"], TypeError, "subsets must be a dict"),
])
def test_evaluate_by_subset_bad_subsets(subsets, error, pattern):
    with pytest.raises(error, match=pattern):
        evaluate_by_subset(SUBSET_RUN, SUBSET_QRELS, subsets)
