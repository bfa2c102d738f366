"""MaxSim helpers: values against a brute-force loop, invariants, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import course_utils.scoring.maxsim as ms
from course_utils.scoring.maxsim import (PackedCorpus, maxsim, score_corpus, score_queries, similarity_matrix,
                                 token_alignment, top_k)


def brute_force_maxsim(query, document) -> float:
    """The definition, one dot product at a time, in float64."""
    total = 0.0
    for q in np.asarray(query, dtype=np.float64):
        total += max(float(np.dot(q, d)) for d in np.asarray(document, dtype=np.float64))
    return total


def random_tokens(rng, n, dim=8):
    return rng.standard_normal((n, dim)).astype(np.float32)


finite = st.floats(-4, 4, allow_nan=False, width=32)


def token_arrays(max_tokens=6, dim=4):
    return hnp.arrays(np.float32, st.tuples(st.integers(1, max_tokens), st.just(dim)), elements=finite)


# ----- hand-computed values -------------------------------------------------------------------

Q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
D = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, -1.0]], dtype=np.float32)


def test_similarity_matrix_is_all_dot_products():
    assert similarity_matrix(Q, D).tolist() == [[0.5, 1.0, 0.0], [0.5, 0.0, -1.0]]
    assert similarity_matrix(Q, D).dtype == np.float32


def test_maxsim_sums_each_query_tokens_best_match():
    # row maxima 1.0 (token 1) and 0.5 (token 0)
    assert maxsim(Q, D) == pytest.approx(1.5)
    assert isinstance(maxsim(Q, D), float)


def test_token_alignment_names_best_document_token():
    alignment = token_alignment(Q, D)
    assert alignment.document_index.tolist() == [1, 0]
    assert alignment.score.tolist() == [1.0, 0.5]
    assert alignment.score.sum() == pytest.approx(maxsim(Q, D))


def test_maxsim_is_asymmetric():
    # Q against D: 1.0 + 0.5; D against Q: 1/2 (0.5,0.5) + 1 (1,0) + 0 (0,-1)
    assert maxsim(Q, D) == pytest.approx(1.5)
    assert maxsim(D, Q) == pytest.approx(1.5 + 0.0)
    assert maxsim(Q[:1], D) != maxsim(D, Q[:1])


def test_accepts_lists_and_float64_and_returns_float32_scores():
    assert maxsim(Q.tolist(), D.astype(np.float64)) == pytest.approx(1.5)
    assert score_corpus(Q, [D, D[:1]]).dtype == np.float32


# ----- agreement with the brute force loop ------------------------------------------------------

@pytest.mark.parametrize("n_docs", [1, 2, 17])
@pytest.mark.parametrize("workers", [1, 2])
def test_corpus_scores_equal_brute_force(n_docs, workers, monkeypatch):
    rng = np.random.default_rng(n_docs)
    monkeypatch.setattr(ms, "BLOCK_BYTES", 4 * 8 * 7)  # a few tokens per chunk: many chunks
    query = random_tokens(rng, 8)
    documents = [random_tokens(rng, int(n)) for n in rng.integers(1, 12, size=n_docs)]
    documents[0] = documents[0][:1]  # a one-token document
    expected = [brute_force_maxsim(query, d) for d in documents]
    np.testing.assert_allclose(score_corpus(query, documents, workers=workers), expected, rtol=1e-5, atol=1e-5)


def test_document_longer_than_a_chunk_is_scored_whole(monkeypatch):
    rng = np.random.default_rng(3)
    monkeypatch.setattr(ms, "BLOCK_BYTES", 4 * 5 * 2)  # two rows of a 5-token query per chunk
    query, long_doc, short_doc = random_tokens(rng, 5), random_tokens(rng, 40), random_tokens(rng, 1)
    scores = score_corpus(query, [short_doc, long_doc, short_doc])
    np.testing.assert_allclose(scores[1], brute_force_maxsim(query, long_doc), rtol=1e-5)


def test_batch_of_queries_of_different_lengths():
    rng = np.random.default_rng(4)
    queries = [random_tokens(rng, n) for n in (1, 3, 32)]
    documents = [random_tokens(rng, n) for n in (5, 1, 9, 2)]
    result = score_queries(queries, PackedCorpus.from_documents(documents))
    assert result.shape == (3, 4)
    for i, q in enumerate(queries):
        for k, d in enumerate(documents):
            assert result[i, k] == pytest.approx(brute_force_maxsim(q, d), rel=1e-5, abs=1e-5)


def test_batch_as_three_dimensional_array_equals_list():
    rng = np.random.default_rng(5)
    queries = rng.standard_normal((4, 6, 8)).astype(np.float32)
    documents = [random_tokens(rng, n) for n in (3, 7)]
    np.testing.assert_array_equal(score_queries(queries, documents), score_queries(list(queries), documents))


def test_packed_corpus_keeps_documents_and_offsets():
    rng = np.random.default_rng(6)
    documents = [random_tokens(rng, n) for n in (3, 1, 4)]
    corpus = PackedCorpus.from_documents(documents)
    assert len(corpus) == 3 and corpus.dim == 8
    assert corpus.offsets.tolist() == [0, 3, 4, 8]
    assert corpus.lengths.tolist() == [3, 1, 4]
    assert corpus.vectors.dtype == np.float32 and corpus.vectors.flags.c_contiguous
    for k, d in enumerate(documents):
        np.testing.assert_array_equal(corpus.document(k), d)
    assert corpus.nbytes == 8 * 8 * 4 + 4 * 8
    assert PackedCorpus.from_documents(corpus) is corpus


def test_chunks_cover_every_document_once_in_whole_documents():
    corpus = PackedCorpus.from_documents([np.ones((n, 2), np.float32) for n in (3, 10, 1, 1, 4, 2)])
    chunks = corpus.chunks(max_tokens=4)
    assert chunks[0][0] == 0 and chunks[-1][1] == 6
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    for first, stop in chunks:
        tokens = corpus.offsets[stop] - corpus.offsets[first]
        assert tokens <= 4 or stop - first == 1


def test_top_k_orders_best_first_and_breaks_ties_by_index():
    assert top_k([0.5, 2.0, 0.5, 3.0], 3).tolist() == [3, 1, 0]
    assert top_k([1.0, 1.0], 5).tolist() == [0, 1]


# ----- properties (hypothesis) --------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(token_arrays(), token_arrays())
def test_property_equals_double_loop(query, document):
    assert maxsim(query, document) == pytest.approx(brute_force_maxsim(query, document), rel=1e-5, abs=1e-4)


@settings(max_examples=100, deadline=None)
@given(token_arrays(), token_arrays(), st.randoms(use_true_random=False))
def test_property_invariant_to_order_of_document_tokens(query, document, random):
    order = list(range(len(document)))
    random.shuffle(order)
    assert maxsim(query, document[order]) == pytest.approx(maxsim(query, document), rel=1e-6, abs=1e-5)


@settings(max_examples=100, deadline=None)
@given(token_arrays(), token_arrays(), hnp.arrays(np.float32, (1, 4), elements=finite))
def test_property_adding_a_document_token_never_lowers_the_score(query, document, extra):
    base = maxsim(query, document)
    # float32 products of different shapes may round differently: allow a few units in the last place
    assert maxsim(query, np.vstack([document, extra])) >= base - (1e-5 + 1e-6 * abs(base))


@settings(max_examples=100, deadline=None)
@given(token_arrays(), token_arrays())
def test_property_symmetric_only_in_special_cases(query, document):
    # each side sums over its own tokens: with one token on each side the two directions agree
    assert maxsim(query[:1], document[:1]) == pytest.approx(maxsim(document[:1], query[:1]), rel=1e-6)


def test_asymmetry_exists_on_random_data():
    rng = np.random.default_rng(7)
    differences = [abs(maxsim(q, d) - maxsim(d, q))
                   for q, d in ((random_tokens(rng, 4), random_tokens(rng, 9)) for _ in range(20))]
    assert max(differences) > 0.1


@settings(max_examples=60, deadline=None)
@given(st.lists(token_arrays(), min_size=1, max_size=6), st.lists(token_arrays(), min_size=1, max_size=3),
       st.integers(1, 64))
def test_property_batched_and_corpus_scoring_equal_pairwise(documents, queries, block_rows):
    original = ms.BLOCK_BYTES
    ms.BLOCK_BYTES = 4 * 4 * block_rows
    try:
        batch = score_queries(queries, documents)
        single = np.stack([score_corpus(q, documents) for q in queries])
    finally:
        ms.BLOCK_BYTES = original
    pairwise = np.array([[maxsim(q, d) for d in documents] for q in queries])
    np.testing.assert_allclose(batch, pairwise, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(single, pairwise, rtol=1e-5, atol=1e-4)


# ----- bad input ----------------------------------------------------------------------------------

GOOD = np.ones((2, 4), dtype=np.float32)


@pytest.mark.parametrize("query, document, argument, words, error", [
    (np.ones(4), GOOD, "query", "2-D", ValueError),
    (np.ones((1, 2, 4)), GOOD, "query", "2-D", ValueError),
    (GOOD, np.ones(4), "document", "2-D", ValueError),
    (np.ones((0, 4)), GOOD, "query", "empty", ValueError),
    (GOOD, np.ones((0, 4)), "document", "empty", ValueError),
    (GOOD, np.ones((3, 5)), "document", "size 5", ValueError),
    (np.array([[np.nan, 1, 1, 1]]), GOOD, "query", "NaN", ValueError),
    (GOOD, np.array([[np.inf, 1, 1, 1]]), "document", "infinity", ValueError),
    (np.array([["a", "b"]]), GOOD, "query", "numbers", TypeError),
    (GOOD, [[None, 1.0, 1.0, 1.0]], "document", "numbers", TypeError),
    ([[1.0, 2.0], [3.0]], GOOD, "query", "2-D", ValueError),
])
def test_bad_input_names_the_argument(query, document, argument, words, error):
    for function in (similarity_matrix, maxsim, token_alignment):
        with pytest.raises(error, match=argument) as raised:
            function(query, document)
        assert type(raised.value) is error
        assert words in str(raised.value)


@pytest.mark.parametrize("documents, argument, words", [
    ([], "documents", "empty"),
    ([GOOD, np.ones((0, 4))], r"documents\[1\]", "empty"),
    ([GOOD, np.ones((2, 3))], r"documents\[1\]", "size 3"),
    ([GOOD, np.ones(4)], r"documents\[1\]", "2-D"),
    ([GOOD, np.full((1, 4), np.nan)], r"documents\[1\]", "NaN"),
    (GOOD, "documents", "list"),
])
def test_bad_corpus_names_the_document(documents, argument, words):
    with pytest.raises(ValueError, match=argument) as error:
        score_corpus(GOOD, documents)
    assert words in str(error.value)


def test_bad_queries_are_named():
    with pytest.raises(ValueError, match="queries is empty"):
        score_queries([], [GOOD])
    with pytest.raises(ValueError, match=r"queries\[1\]"):
        score_queries([GOOD, np.ones((2, 3))], [GOOD])
    with pytest.raises(ValueError, match="query"):
        score_corpus(np.ones((2, 3)), [GOOD])
    with pytest.raises(ValueError, match="queries must be a list"):
        score_queries(GOOD, [GOOD])  # one 2-D query, not a list of them
    with pytest.raises(TypeError, match="queries must be a list"):
        score_queries("what is maxsim", [GOOD])


def test_top_k_rejects_bad_k_and_scores():
    with pytest.raises(ValueError, match="k must be"):
        top_k([1.0], 0)
    with pytest.raises(TypeError, match="k must be"):
        top_k([1.0], 1.5)
    with pytest.raises(ValueError, match="scores"):
        top_k([], 1)
