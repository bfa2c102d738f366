"""The corpus-scorer benchmark on a tiny corpus: every scorer it compares computes the same scores.

Timings are never tested (the machine is shared); ``python -m benchmarks.corpus_scorer`` reports them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import course_utils.scoring.maxsim as ms
from benchmarks import corpus_scorer as bench
from course_utils.data import random_token_vectors
from course_utils.scoring.maxsim import PackedCorpus, score_queries


@pytest.fixture(scope="module")
def tiny():
    documents = random_token_vectors(40, min_tokens=1, max_tokens=30, dim=16, seed=3)
    return documents, PackedCorpus.from_documents(documents)


def test_random_token_vectors_are_unit_rows_of_the_asked_lengths():
    documents = random_token_vectors(50, min_tokens=20, max_tokens=200, seed=1)
    lengths = [len(d) for d in documents]
    assert len(documents) == 50 and min(lengths) >= 20 and max(lengths) <= 200
    assert all(d.dtype == np.float32 and d.shape[1] == 128 for d in documents)
    np.testing.assert_allclose(np.linalg.norm(np.vstack(documents), axis=1), 1.0, rtol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(documents, random_token_vectors(50, seed=1)))
    assert random_token_vectors(0) == []
    with pytest.raises(ValueError, match="min_tokens"):
        random_token_vectors(3, min_tokens=5, max_tokens=4)


def test_every_scorer_of_the_benchmark_agrees(tiny, monkeypatch):
    documents, corpus = tiny
    monkeypatch.setattr(ms, "BLOCK_BYTES", 4 * bench.QUERY_TOKENS * 40)  # several chunks, two workers
    query = bench.random_queries(1, dim=16)[0]
    edge = bench.EdgeExact(documents)
    try:
        scores = bench.all_scores(query, documents, corpus, edge)
        assert len(edge.search(edge.request(query))) == len(documents)
    finally:
        edge.close()
    assert set(scores) >= {"ours", "qdrant edge", "qdrant-client local", "per-document loop"}
    assert all(s.shape == (len(documents),) for s in scores.values())
    assert bench.disagreements(scores, "ours") == {}


def test_disagreement_is_reported():
    scores = {"ours": np.array([1.0, 2.0]), "other": np.array([1.0, 2.001]), "same": np.array([1.0, 2.0])}
    assert list(bench.disagreements(scores, "ours")) == ["other"]
    assert list(bench.disagreements({"ours": np.array([1.0]), "nan": np.array([np.nan])}, "ours")) == ["nan"]


@pytest.mark.parametrize("few_query_tokens", [0, 10_000],
                         ids=["query-tokens-down-the-rows", "corpus-tokens-down-the-rows"])
def test_both_similarity_layouts_give_the_loops_scores(tiny, monkeypatch, few_query_tokens):
    documents, corpus = tiny
    monkeypatch.setattr(ms, "FEW_QUERY_TOKENS", few_query_tokens)
    monkeypatch.setattr(ms, "BLOCK_BYTES", 4 * 3 * 32 * 25)
    queries = bench.random_queries(3, dim=16) + [bench.random_queries(1, tokens=5, dim=16, seed=9)[0]]
    result = score_queries(queries, corpus)
    expected = np.array([bench.per_document_loop(q, documents) for q in queries])
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


def test_timing_helpers_run(tiny):
    documents, corpus = tiny
    query = bench.random_queries(1, dim=16)[0]
    with ThreadPoolExecutor(2) as pool:
        assert bench.read_all_cores(corpus, pool, 2) == pytest.approx(float(corpus.vectors.sum()), rel=1e-4)
    bench.products_only(query, corpus)
    assert ms._score_chunk is not bench._products_of_chunk
    assert len(bench.timings(lambda: None, 3)) == 3
    assert bench.peak_extra_bytes(lambda: np.ones(1 << 20, dtype=np.uint8)) >= 1 << 20


def test_the_command_reports_on_a_small_corpus(capsys):
    assert bench.main(["--documents", "30", "--repeat", "1", "--memory-sizes", "10", "30"]) == 0
    printed = capsys.readouterr().out
    for words in ("all-core read", "Qdrant Edge", "qdrant-client local mode", "per-document loop",
                  "batch of 64 queries", "peak extra memory", "within 0.0001"):
        assert words in printed
