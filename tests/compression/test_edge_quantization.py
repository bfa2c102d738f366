"""course_utils.compression.edge: what Qdrant Edge returns with and without quantization and rescoring."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.compression.binary import BinaryCorpus
from course_utils.data import random_token_vectors
from course_utils.compression.edge import QuantizedEdgeIndex
from course_utils.compression.scalar import dequantize_int8, int8_range, qdrant_int8_range, quantize_int8
from course_utils.scoring.maxsim import PackedCorpus, score_corpus, top_k


@pytest.fixture(scope="module")
def data():
    documents = random_token_vectors(200, min_tokens=3, max_tokens=30, seed=6)
    query = random_token_vectors(1, min_tokens=32, max_tokens=32, seed=7)[0]
    return documents, query, score_corpus(query, documents)


def test_float_storage_gives_exact_maxsim(data):
    documents, query, exact = data
    with QuantizedEdgeIndex(documents) as index:
        np.testing.assert_allclose(index.scores(query), exact, atol=1e-4)
    with QuantizedEdgeIndex(documents, datatype="float16") as index:
        np.testing.assert_allclose(index.scores(query), exact, atol=0.01)


def test_int8_is_approximate_and_rescoring_restores_exact_scores(data):
    documents, query, exact = data
    with QuantizedEdgeIndex(documents, "int8") as index:
        approximate = index.scores(query, rescore=False)
        assert 1e-4 < np.abs(approximate - exact).max() < 0.2
        ids, scores = index.search(query, 5, rescore=True, oversampling=40.0)
        np.testing.assert_allclose(scores, exact[ids], atol=1e-4)
        np.testing.assert_array_equal(np.sort(ids), np.sort(top_k(exact, 5)))
        ids, scores = index.search(query, 5, exact=True)
        np.testing.assert_allclose(scores, exact[ids], atol=1e-4)


def _restored_maxsim(query, documents, low, high, levels):
    """MaxSim of the query and documents both quantized on [low, high] with ``levels`` codes and restored."""
    def restore(x):
        return dequantize_int8(quantize_int8(x, low, high, levels), low, high, levels)
    corpus = PackedCorpus.from_documents(documents)
    return score_corpus(restore(query), PackedCorpus(restore(corpus.vectors), corpus.offsets))


def test_edges_int8_is_qdrants_scheme_not_the_textbook_one(data):
    """Fewer than 5,000 token vectors: Qdrant samples them all, so its range is qdrant_int8_range's, and its
    scores without rescoring are MaxSim of query and documents on 128 levels of that range."""
    documents, query, exact = data
    vectors = PackedCorpus.from_documents(documents).vectors
    assert len(vectors) < 5_000
    with QuantizedEdgeIndex(documents, "int8") as index:
        low, high = index.int8_range()
        engine = index.scores(query, rescore=False)
    np.testing.assert_allclose((low, high), qdrant_int8_range(vectors, 0.99), rtol=1e-6)
    textbook_low, textbook_high = int8_range(vectors, 0.99)
    assert high - low > 1.3 * (textbook_high - textbook_low)  # far less clipping than np.quantile at 0.5%/99.5%
    qdrant_like = np.abs(engine - _restored_maxsim(query, documents, low, high, 128)).max()
    textbook = np.abs(engine - _restored_maxsim(query, documents, textbook_low, textbook_high, 256)).max()
    assert qdrant_like < 5e-3 < textbook
    with QuantizedEdgeIndex(documents, "binary") as index, pytest.raises(ValueError, match="int8"):
        index.int8_range()


@pytest.mark.parametrize("quantization", ["binary-2bit", "binary-1.5bit"])
def test_two_and_one_and_a_half_bit_encodings_search_and_rescore(data, quantization):
    documents, query, exact = data
    with QuantizedEdgeIndex(documents, quantization) as index:
        approximate = index.scores(query, rescore=False)
        assert np.corrcoef(approximate, exact)[0, 1] > 0.5
        ids, scores = index.search(query, 5, rescore=True, oversampling=40.0)
        np.testing.assert_allclose(scores, exact[ids], atol=1e-4)
        np.testing.assert_array_equal(np.sort(ids), np.sort(top_k(exact, 5)))


def test_binary_scores_are_the_course_binary_maxsim(data):
    documents, query, exact = data
    binary = BinaryCorpus.from_corpus(PackedCorpus.from_documents(documents))
    with QuantizedEdgeIndex(documents, "binary") as index:
        np.testing.assert_array_equal(index.scores(query, rescore=False), binary.scores(query).astype(np.float32))
        ids, scores = index.search(query, 5, rescore=True, oversampling=4.0)
        ours, _ = binary.search(query, 5, oversampling=4.0)
        assert set(ids.tolist()) == set(ours.tolist())
        np.testing.assert_allclose(scores, exact[ids], atol=1e-4)


def test_asymmetric_binary_ranks_closer_to_exact_than_binary(data):
    """8-bit queries against 1-bit documents: other approximate scores, better correlated with exact MaxSim."""
    documents, query, exact = data
    with QuantizedEdgeIndex(documents, "binary") as index:
        symmetric = index.scores(query, rescore=False)
    with QuantizedEdgeIndex(documents, "binary-asymmetric") as index:
        asymmetric = index.scores(query, rescore=False)
        ids, scores = index.search(query, 5, rescore=True, oversampling=40.0)
        np.testing.assert_allclose(scores, exact[ids], atol=1e-4)
        np.testing.assert_array_equal(np.sort(ids), np.sort(top_k(exact, 5)))
    assert np.corrcoef(asymmetric, exact)[0, 1] > np.corrcoef(symmetric, exact)[0, 1]


def test_bad_arguments_are_named(data):
    documents, query, _ = data
    with pytest.raises(ValueError, match="quantization"):
        QuantizedEdgeIndex(documents, "int4")
    with pytest.raises(ValueError, match="datatype"):
        QuantizedEdgeIndex(documents, datatype="int8")
    with pytest.raises(ValueError, match="quantile"):
        QuantizedEdgeIndex(documents, "int8", quantile=0.2)
    with QuantizedEdgeIndex(documents[:5]) as index:
        with pytest.raises(ValueError, match="k must be"):
            index.search(query, 6)
        with pytest.raises(ValueError, match="oversampling"):
            index.search(query, 2, oversampling=0.5)
        with pytest.raises(ValueError, match="query"):
            index.search(query[:, :10], 2)
