"""course_utils.compression.binary: binary MaxSim against a direct computation, rescoring, memory and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import course_utils.compression.binary as bn
from course_utils.compression.binary import BinaryCorpus, binarize
from course_utils.data import random_token_vectors
from course_utils.scoring.maxsim import PackedCorpus, score_corpus, top_k


def direct(query, document) -> int:
    """Binary MaxSim written out: dot products of the +1/-1 sign vectors."""
    return int((np.where(query > 0, 1, -1) @ np.where(document > 0, 1, -1).T).max(axis=1).sum())


@pytest.fixture(scope="module")
def small():
    documents = random_token_vectors(60, min_tokens=1, max_tokens=25, dim=128, seed=4)
    corpus = PackedCorpus.from_documents(documents)
    return documents, corpus, BinaryCorpus.from_corpus(corpus)


def test_binarize_packs_sign_bits_most_significant_first():
    assert binarize([[0.3, -0.2, 0.0, 0.9, -1.0, 0.5, 0.1, -0.4]]).tolist() == [[150]]
    assert binarize([[1.0, -1.0, 1.0]]).tolist() == [[160]]


@pytest.mark.parametrize("dim", [128, 130, 7])
def test_scores_equal_the_direct_computation_in_several_chunks_and_threads(monkeypatch, dim):
    monkeypatch.setattr(bn, "BLOCK_BYTES", 8 * 32 * 40)  # chunks of ~40 tokens: many chunks, two workers
    documents = random_token_vectors(30, min_tokens=1, max_tokens=60, dim=dim, seed=dim)
    binary = BinaryCorpus.from_corpus(PackedCorpus.from_documents(documents))
    queries = random_token_vectors(3, min_tokens=1, max_tokens=32, dim=dim, seed=1)
    expected = np.array([[direct(q, d) for d in documents] for q in queries])
    np.testing.assert_array_equal(binary.score_queries(queries, workers=2), expected)
    np.testing.assert_array_equal(binary.scores(queries[0], workers=1), expected[0])


@pytest.mark.parametrize("dim", [128, 130, 7])
def test_asymmetric_scores_equal_the_direct_computation_in_several_chunks(monkeypatch, dim):
    monkeypatch.setattr(bn, "BLOCK_BYTES", 4 * 130 * 40)  # chunks of ~40 tokens
    documents = random_token_vectors(30, min_tokens=1, max_tokens=60, dim=dim, seed=dim)
    binary = BinaryCorpus.from_corpus(PackedCorpus.from_documents(documents))
    query = random_token_vectors(1, min_tokens=1, max_tokens=32, dim=dim, seed=3)[0]
    expected = [(query @ np.where(d > 0, 1.0, -1.0).T).max(axis=1).sum() for d in documents]
    np.testing.assert_allclose(binary.asymmetric_scores(query), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(binary.signs(0, 3), np.where(documents[0][:3] > 0, 1.0, -1.0))


def test_asymmetric_search_takes_its_candidates_from_asymmetric_scores(small):
    _, corpus, binary = small
    query = random_token_vectors(1, min_tokens=32, max_tokens=32, seed=9)[0]
    exact = score_corpus(query, corpus)
    ids, scores = binary.search(query, 3, oversampling=2.5, asymmetric=True)
    candidates = top_k(binary.asymmetric_scores(query), 8)
    np.testing.assert_array_equal(ids, candidates[top_k(exact[candidates], 3)])
    np.testing.assert_allclose(scores, exact[ids], rtol=1e-6)


def test_memory_is_32_times_less_for_128_numbers(small):
    _, corpus, binary = small
    assert binary.words.nbytes * 32 == corpus.vectors.nbytes
    assert binary.nbytes == binary.words.nbytes + corpus.offsets.nbytes
    assert corpus.nbytes / binary.nbytes >= 24


def test_bits_only_corpus_scores_without_the_floats_and_counts_only_its_bits(monkeypatch):
    """keep_source=False (and without_source()) drop the float corpus: scoring works, search says why it
    cannot rescore, and the capstone's byte counter sees only the bits and the offsets."""
    from course_utils.lesson.capstone import stored_bytes

    monkeypatch.setattr(bn, "BLOCK_BYTES", 8 * 32 * 40)  # several chunks, computed from the offsets alone
    documents = random_token_vectors(30, min_tokens=1, max_tokens=60, dim=128, seed=5)
    corpus = PackedCorpus.from_documents(documents)
    full, bits = BinaryCorpus.from_corpus(corpus), BinaryCorpus.from_corpus(corpus, keep_source=False)
    assert bits.source is None and full.without_source().source is None
    queries = random_token_vectors(2, min_tokens=1, max_tokens=32, dim=128, seed=6)
    for light in (bits, full.without_source()):
        np.testing.assert_array_equal(light.score_queries(queries, workers=2), full.score_queries(queries))
        np.testing.assert_array_equal(light.scores(queries[0]), full.scores(queries[0]))
        np.testing.assert_array_equal(light.asymmetric_scores(queries[1]), full.asymmetric_scores(queries[1]))
        with pytest.raises(ValueError, match="keep_source=False"):
            light.search(queries[0], 3)
    # the bits, the offsets and dim (one Python number: 8 bytes), nothing else
    assert stored_bytes(bits) == bits.nbytes + 8 == bits.words.nbytes + corpus.offsets.nbytes + 8
    assert stored_bytes(full) > corpus.vectors.nbytes  # the float source counted as well
    search = lambda query, k: top_k(bits.asymmetric_scores(query), k)  # noqa: E731 - a pipeline's closure
    assert stored_bytes(search) == bits.nbytes + 8


def test_search_rescores_candidates_with_exact_maxsim(small):
    documents, corpus, binary = small
    query = random_token_vectors(1, min_tokens=32, max_tokens=32, seed=9)[0]
    exact = score_corpus(query, corpus)
    ids, scores = binary.search(query, 5, oversampling=len(documents) / 5)  # every passage is a candidate
    np.testing.assert_array_equal(ids, top_k(exact, 5))
    np.testing.assert_allclose(scores, exact[ids], rtol=1e-6)
    ids, scores = binary.search(query, 3, oversampling=2.5)  # ceil(7.5) = 8 candidates
    candidates = top_k(binary.scores(query), 8)
    np.testing.assert_array_equal(ids, candidates[top_k(exact[candidates], 3)])
    assert ids.dtype == np.int64 and scores.dtype == np.float32


def test_search_with_few_candidates_can_miss_the_exact_top(small):
    """Rescoring only reorders candidates: with oversampling 1 the binary top k decides which passages come back."""
    _, corpus, binary = small
    misses = 0
    for seed in range(10):
        query = random_token_vectors(1, min_tokens=32, max_tokens=32, seed=100 + seed)[0]
        found = set(binary.search(query, 5, oversampling=1)[0].tolist())
        assert found == set(top_k(binary.scores(query), 5).tolist())
        misses += found != set(top_k(score_corpus(query, corpus), 5).tolist())
    assert misses > 0


@pytest.mark.parametrize("call, error, words", [
    (lambda b, q: b.search(q, 0), ValueError, "k must be between 1"),
    (lambda b, q: b.search(q, 61), ValueError, "k must be between 1"),
    (lambda b, q: b.search(q, 2.0), TypeError, "k must be a whole number"),
    (lambda b, q: b.search(q, 5, oversampling=0.5), ValueError, "oversampling"),
    (lambda b, q: b.search(q, 5, oversampling=float("nan")), ValueError, "oversampling"),
    (lambda b, q: b.search(q, 5, oversampling="4"), TypeError, "oversampling"),
    (lambda b, q: b.scores(q[:, :64]), ValueError, "query"),
    (lambda b, q: b.scores(np.where(q > 0, np.nan, q)), ValueError, "NaN"),
    (lambda b, q: b.scores(q.astype(str)), TypeError, "numbers"),
    (lambda b, q: b.scores(q[0]), ValueError, "2-D"),
    (lambda b, q: b.score_queries([]), ValueError, "queries"),
])
def test_bad_input_is_named(small, call, error, words):
    _, _, binary = small
    query = random_token_vectors(1, min_tokens=4, max_tokens=4, seed=2)[0]
    with pytest.raises(error, match=words):
        call(binary, query)


def test_from_corpus_rejects_what_is_not_a_finite_packed_corpus(small):
    documents, corpus, _ = small
    with pytest.raises(TypeError, match="PackedCorpus"):
        BinaryCorpus.from_corpus(documents)
    broken = PackedCorpus(corpus.vectors.copy(), corpus.offsets)
    broken.vectors[7, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        BinaryCorpus.from_corpus(broken)
    with pytest.raises(TypeError, match="numbers"):
        BinaryCorpus.from_corpus(PackedCorpus(corpus.vectors.astype(str), corpus.offsets))
