"""ColBERTv2's residual codec: learnt buckets, bit packing for 1, 2 and 4 bits, decoding, bytes, errors."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.centroid_index.residuals import ResidualCodec, bytes_per_token, check_bits


def test_cutoffs_and_weights_are_the_quantiles_of_the_residuals():
    values = np.arange(100, dtype=np.float64)
    codec = ResidualCodec.train(values, bits=2)
    np.testing.assert_allclose(codec.cutoffs, np.quantile(values, [0.25, 0.5, 0.75]))
    np.testing.assert_allclose(codec.weights, np.quantile(values, [0.125, 0.375, 0.625, 0.875]))
    # each bucket holds a quarter of the values
    assert np.bincount(codec.buckets(values[None, :]).ravel()).tolist() == [25, 25, 25, 25]


def test_a_value_on_a_cutoff_goes_to_the_lower_bucket():
    codec = ResidualCodec(1, np.array([0.0]), np.array([-1.0, 1.0]))
    assert codec.buckets(np.array([[-0.5, 0.0, 1e-6]])).tolist() == [[0, 0, 1]]


@pytest.mark.parametrize("bits", [1, 2, 4])
@pytest.mark.parametrize("dim", [8, 12, 128])
def test_packing_round_trips_and_takes_dim_bits_over_8_bytes(bits, dim):
    codec = ResidualCodec.train(np.linspace(-1, 1, 64), bits)
    buckets = np.random.default_rng(bits).integers(0, 2 ** bits, size=(5, dim)).astype(np.uint8)
    packed = codec.pack(buckets)
    assert packed.shape == (5, -(-dim * bits // 8)) and packed.dtype == np.uint8
    np.testing.assert_array_equal(codec.unpack(packed, dim), buckets)


def test_decoding_adds_the_bucket_weights_to_the_centroid():
    codec = ResidualCodec(1, np.array([0.0]), np.array([-0.1, 0.1]))
    centroids = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    vectors = np.array([[0.9, 0.2], [0.1, 0.95]], dtype=np.float32)
    packed = codec.encode(vectors, centroids, [0, 1])
    raw = codec.decode(packed, centroids, [0, 1], normalise=False)
    np.testing.assert_allclose(raw, [[0.9, 0.1], [0.1, 0.9]], rtol=1e-6)
    unit = codec.decode(packed, centroids, [0, 1])
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-6)


def test_more_bits_restore_vectors_better():
    rng = np.random.default_rng(0)
    centroids = rng.normal(size=(4, 32)).astype(np.float32)
    codes = rng.integers(0, 4, size=300)
    vectors = centroids[codes] + 0.1 * rng.normal(size=(300, 32)).astype(np.float32)
    errors = []
    for bits in (1, 2, 4):
        codec = ResidualCodec.train(vectors - centroids[codes], bits)
        restored = codec.decode(codec.encode(vectors, centroids, codes), centroids, codes, normalise=False)
        errors.append(float(np.abs(restored - vectors).mean()))
    assert errors[0] > errors[1] > errors[2]


def test_bytes_per_token_as_colbertv2_counts_them():
    assert bytes_per_token(128, 1) == 20 and bytes_per_token(128, 2) == 36 and bytes_per_token(128, 4) == 68
    assert bytes_per_token(12, 1) == 6  # 12 bits round up to 2 bytes


def test_bad_bits_and_residuals_are_named():
    for bad in (0, 3, 8, True, "2"):
        with pytest.raises(ValueError, match="bits must be one of"):
            check_bits(bad)
    with pytest.raises(ValueError, match="residuals is empty"):
        ResidualCodec.train(np.zeros(0), 2)
    with pytest.raises(ValueError, match="NaN"):
        ResidualCodec.train(np.array([0.1, np.inf]), 2)
    with pytest.raises(ValueError, match="cutoffs must be 3 finite numbers"):
        ResidualCodec(2, np.array([0.0]), np.zeros(4))
