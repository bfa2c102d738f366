"""Centroids: PLAID's count, spherical k-means, nearest-centroid assignment in blocks, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.centroid_index.centroids import kmeans, n_centroids_for, nearest_centroids, sample_rows


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_number_of_centroids_is_the_power_of_two_below_16_sqrt_tokens():
    assert n_centroids_for(1) == 16
    assert n_centroids_for(100) == 128            # 160 -> 128
    assert n_centroids_for(6_000_000) == 32_768   # 39,192 -> 32,768
    assert n_centroids_for(4_194_304) == 32_768   # exactly 16 * 2048
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="n_tokens"):
            n_centroids_for(bad)


def test_assignment_is_the_argmax_of_dot_products_in_any_block_size():
    rng = np.random.default_rng(0)
    vectors, centroids = unit(rng.normal(size=(257, 8))), unit(rng.normal(size=(13, 8)))
    expected = (vectors @ centroids.T).argmax(axis=1)
    for block in (1, 7, 1000):
        np.testing.assert_array_equal(nearest_centroids(vectors, centroids, block_rows=block), expected)


def test_ties_go_to_the_first_centroid():
    assert nearest_centroids([[1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]).tolist() == [1]


def test_kmeans_finds_well_separated_clusters():
    rng = np.random.default_rng(1)
    centres = np.eye(4, 16, dtype=np.float32)
    labels = rng.integers(0, 4, size=400)
    vectors = unit(centres[labels] + 0.05 * rng.normal(size=(400, 16)))
    centroids = kmeans(vectors, 8, iterations=10, seed=3)
    assert centroids.shape == (8, 16) and centroids.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, rtol=1e-5)
    found = nearest_centroids(vectors, centroids)
    # more centroids than clusters: no centroid mixes two clusters, and every cluster has its own
    assert all(len(set(labels[found == c].tolist())) <= 1 for c in range(8))
    assert {int(labels[found == c][0]) for c in np.unique(found)} == {0, 1, 2, 3}
    objective = (vectors * centroids[found]).sum(axis=1).mean()
    assert objective > 0.95  # each vector close to its centroid's direction (noise alone gives about 0.98)


def test_kmeans_on_a_sample_and_its_errors():
    vectors = unit(np.random.default_rng(2).normal(size=(50, 4)))
    assert kmeans(vectors, 3, sample=10, seed=0).shape == (3, 4)
    np.testing.assert_array_equal(kmeans(vectors, 3, seed=5), kmeans(vectors, 3, seed=5))
    with pytest.raises(ValueError, match="k must be"):
        kmeans(vectors, 0)
    with pytest.raises(ValueError, match="at most the number of training vectors"):
        kmeans(vectors, 11, sample=10)
    with pytest.raises(ValueError, match="iterations"):
        kmeans(vectors, 2, iterations=0)
    with pytest.raises(ValueError, match="NaN"):
        kmeans(np.array([[np.nan, 1.0]]), 1)
    with pytest.raises(ValueError, match="centroids has token vectors of size 3|vectors has token vectors"):
        nearest_centroids(vectors, np.ones((2, 3)))
    assert sample_rows(5, 10).tolist() == [0, 1, 2, 3, 4]
    drawn = sample_rows(100, 10, seed=1)
    assert len(set(drawn.tolist())) == 10 and np.all(np.diff(drawn) > 0)
