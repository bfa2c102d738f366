"""Token-level nearest-neighbour candidates: the union of owners, ordered by partial MaxSim."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.first_stages.token_candidates import TokenIndex
from course_utils.scoring.maxsim import maxsim


def by_hand(query, passages, per_token):
    """The definition, written out slowly: ties at the cut go to the lower row of the index."""
    tokens = [(p, t) for p, vectors in enumerate(passages) for t in vectors]
    score = {}
    for q in query:
        sims = [float(np.dot(q, t)) for _, t in tokens]
        order = sorted(range(len(tokens)), key=lambda j: (-sims[j], j))[:per_token]
        best = {}
        for j in order:
            owner = tokens[j][0]
            best[owner] = max(best.get(owner, -np.inf), sims[j])
        for owner, value in best.items():
            score[owner] = score.get(owner, 0.0) + value
    return sorted(score, key=lambda p: (-score[p], p))


def test_the_small_example():
    index = TokenIndex([np.array([[0.9, 0.1]]), np.array([[0.2, 0.8], [0.5, 0.5]]), np.array([[-1.0, 0.0]])])
    query = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert index.candidates(query, 1).tolist() == [0, 1]
    assert index.candidates(query, 2).tolist() == [1, 0]      # 0.5 + 0.8 beats 0.9
    assert index.candidates(query, 4).tolist() == [1, 0, 2]


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_the_definition_on_random_vectors_with_ties(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(6, 8))
    passages = [base[rng.integers(0, 6, size=rng.integers(1, 7))] for _ in range(12)]   # repeated rows: ties
    query = rng.normal(size=(5, 8))
    index = TokenIndex(passages)
    for per_token in (1, 3, 10, 100):
        assert index.candidates(query, per_token).tolist() == by_hand(query, passages, per_token)


def test_fetching_every_token_gives_every_passage_in_maxsim_order_when_similarities_are_positive():
    rng = np.random.default_rng(7)
    passages = [np.abs(rng.normal(size=(rng.integers(2, 6), 4))) for _ in range(9)]
    query = np.abs(rng.normal(size=(3, 4)))
    exact = np.array([maxsim(query, p) for p in passages])
    assert TokenIndex(passages).candidates(query, 10_000).tolist() == np.argsort(-exact, kind="stable").tolist()


def test_bad_input_is_named():
    index = TokenIndex([np.ones((2, 3))])
    with pytest.raises(ValueError, match="per_token"):
        index.candidates(np.ones((1, 3)), 0)
    with pytest.raises(ValueError, match="query"):
        index.candidates(np.ones((1, 4)), 1)
