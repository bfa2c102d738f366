"""Every first stage and its ColBERT rerank, in one object, on small fixed vectors."""

from __future__ import annotations

import numpy as np
import pytest
from fastembed import SparseEmbedding

from course_utils.first_stages.fusion import rrf
from course_utils.first_stages.pipelines import RERANK, Pipelines, QueryVectors
from course_utils.scoring.maxsim import maxsim

RNG = np.random.default_rng(11)
N = 12
DENSE = RNG.normal(size=(N, 6))
SPARSE = [SparseEmbedding(indices=np.array([i % 4, 10 + i % 3]), values=np.array([1.0, 0.5])) for i in range(N)]
COLBERT = [RNG.normal(size=(RNG.integers(2, 6), 4)) for _ in range(N)]
QUERY = QueryVectors(RNG.normal(size=6), SparseEmbedding(indices=np.array([1]), values=np.array([1.0])),
                     RNG.normal(size=(3, 4)))


@pytest.fixture(scope="module")
def pipelines():
    return Pipelines(DENSE, SPARSE, COLBERT, depth=8, candidates=4, fusion_depth=5, per_token=3)


def test_names_without_muvera(pipelines):
    assert "MUVERA" not in pipelines.names and "token-level -> ColBERT" in pipelines.names
    with pytest.raises(ValueError, match="unknown first stage"):
        pipelines.first_stage("MUVERA", QUERY)


def test_bm25_hands_on_only_matched_passages_and_dense_is_by_dot_product(pipelines):
    assert sorted(pipelines.rank("BM25", QUERY).tolist()) == [1, 5, 9]            # the passages holding term 1
    assert pipelines.rank("dense", QUERY).tolist() == np.argsort(-(DENSE @ QUERY.dense))[:8].tolist()


def test_fusion_is_rrf_of_the_first_lists(pipelines):
    lists = [pipelines.rank(n, QUERY)[:5].tolist() for n in ("BM25", "dense")]
    assert pipelines.rank("BM25 + dense (RRF)", QUERY).tolist() == [i for i, _ in rrf(lists, k=60, limit=8)]


def test_a_rerank_orders_the_first_stage_top_candidates_by_maxsim(pipelines):
    for first in ("dense", "token-level", "BM25 + dense (RRF)"):
        candidates = pipelines.first_stage(first, QUERY)[:4].tolist()
        reranked = pipelines.rank(first + RERANK, QUERY).tolist()
        assert sorted(reranked) == sorted(candidates)
        scores = [maxsim(QUERY.colbert, COLBERT[i]) for i in reranked]
        assert scores == sorted(scores, reverse=True)


def test_search_encodes_only_what_a_pipeline_needs(pipelines):
    assert pipelines.needs("BM25") == {"bm25"}
    assert pipelines.needs("BM25 + dense (RRF) -> ColBERT") == {"bm25", "dense", "colbert"}
    assert pipelines.needs("MUVERA") == {"colbert"}
    with pytest.raises(ValueError, match="without models"):
        pipelines.search("dense", "a query")


def test_mismatched_inputs_are_named():
    with pytest.raises(ValueError, match="one entry per passage"):
        Pipelines(DENSE[:3], SPARSE, COLBERT)
