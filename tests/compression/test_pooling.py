"""course_utils.compression.pooling: cluster means, hierarchical token pooling, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.data import random_token_vectors
from course_utils.scoring.maxsim import PackedCorpus
from course_utils.compression.pooling import cluster_means, pool_corpus, pool_document


def test_cluster_means_orders_rows_by_label():
    means = cluster_means([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [5, 2, 5])
    np.testing.assert_allclose(means, [[0.0, 1.0], [1.0, 0.5]])
    with pytest.raises(ValueError, match="one per vector"):
        cluster_means([[1.0, 0.0], [0.0, 1.0]], [0])
    with pytest.raises(ValueError, match="integers"):
        cluster_means([[1.0, 0.0]], [0.5])


def test_pooling_merges_the_closest_vectors_first():
    passage = np.array([[0.96, 0.28, 0.0], [0.96, -0.28, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    two = pool_document(passage, 2)
    assert len(two) == 2
    np.testing.assert_allclose(sorted(two.tolist()), [[0.0, 0.0, 1.0], [2.92 / 3, 0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(pool_document(passage, 4), [[0.73, 0.0, 0.25]], rtol=1e-5)
    np.testing.assert_array_equal(pool_document(passage, 1), passage)
    np.testing.assert_array_equal(pool_document(passage[:1], 3), passage[:1])


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_pool_corpus_keeps_about_one_vector_in_factor(factor):
    corpus = PackedCorpus.from_documents(random_token_vectors(12, min_tokens=1, max_tokens=40, dim=16, seed=factor))
    pooled = pool_corpus(corpus, factor)
    assert len(pooled) == len(corpus)
    np.testing.assert_array_equal(pooled.lengths, np.maximum(1, corpus.lengths // factor))
    for k in range(len(corpus)):  # every pooled vector is a mean of some of the document's vectors
        document = corpus.document(k)
        assert pooled.document(k).max() <= document.max() + 1e-6 and pooled.document(k).min() >= document.min() - 1e-6


@pytest.mark.parametrize("factor, error", [(0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_pool_factor_is_named(factor, error):
    with pytest.raises(error, match="pool_factor"):
        pool_document(np.eye(3, dtype=np.float32), factor)
    with pytest.raises(ValueError, match="NaN"):
        pool_document(np.array([[np.nan, 1.0]]), 2)
