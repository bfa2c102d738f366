"""course_utils.compression.scalar and the trade-off chart of lesson 6."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.compression.scalar import (dequantize_int8, int8_range, qdrant_int8_range,  # noqa: E402
                                             quantize_int8)
from course_utils.compression.tradeoff import plot_tradeoff  # noqa: E402


def test_the_lessons_worked_examples():
    low, high = int8_range([0.0, 1.0, 2.2, 3.0, 100.0], 0.5)
    assert (low, high) == (1.0, 3.0)
    codes = quantize_int8([0.0, 1.0, 2.2, 3.0, 100.0], low, high)
    assert codes.dtype == np.uint8 and codes.tolist() == [0, 0, 153, 255, 255]
    np.testing.assert_allclose(dequantize_int8(codes, low, high), [1.0, 1.0, 2.2, 3.0, 3.0], rtol=1e-6)
    assert quantize_int8([-1.0, -0.5, 0.2, 1.0], -1.0, 1.0).tolist() == [0, 64, 153, 255]
    assert quantize_int8([0.5, 0.5], 0.5, 0.5).tolist() == [0, 0]


def test_round_trip_error_is_at_most_half_a_step_inside_the_range():
    values = np.random.default_rng(0).standard_normal(10_000)
    low, high = int8_range(values, 0.99)
    inside = values[(values >= low) & (values <= high)]
    back = dequantize_int8(quantize_int8(inside, low, high), low, high)
    assert np.abs(back - inside).max() <= (high - low) / 255 / 2 + 1e-6
    assert np.mean((values < low) | (values > high)) == pytest.approx(0.01, abs=0.002)


def test_qdrants_range_cuts_a_count_of_vectors_not_a_share_of_values():
    """200 vectors of 2 numbers, 0..399 shuffled: quantile 0.9 cuts int(200 * 0.1 / 2) = 10 values at
    the top and 11 at the bottom (Qdrant's two selects), where np.quantile cuts 5% of 400 at each end."""
    vectors = np.random.default_rng(1).permutation(400).reshape(200, 2).astype(float)
    assert qdrant_int8_range(vectors, 0.9) == (11.0, 389.0)
    assert int8_range(vectors, 0.9) == pytest.approx((19.95, 379.05))
    assert qdrant_int8_range(vectors, 0.99) == (2.0, 398.0)  # the cut is at least 1 value
    few = vectors[:100]  # fewer than 127 vectors: Qdrant takes the minimum and maximum
    assert qdrant_int8_range(few, 0.9) == (float(few.min()), float(few.max()))
    assert qdrant_int8_range(vectors, 1.0) == (0.0, 399.0)
    with pytest.raises(ValueError, match="2-D"):
        qdrant_int8_range(np.arange(400.0), 0.9)


def test_128_levels_as_qdrant():
    codes = quantize_int8([-1.0, -0.5, 0.2, 1.0, 3.0], -1.0, 1.0, levels=128)
    assert codes.tolist() == [0, 32, 76, 127, 127]
    np.testing.assert_allclose(dequantize_int8(codes, -1.0, 1.0, levels=128),
                               [-1.0, -1.0 + 64 / 127, -1.0 + 152 / 127, 1.0, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="levels"):
        quantize_int8([0.0], -1.0, 1.0, levels=300)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="quantile"):
        int8_range([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="NaN"):
        int8_range([1.0, np.nan], 0.9)
    with pytest.raises(TypeError, match="numbers"):
        quantize_int8(["a"], 0.0, 1.0)
    with pytest.raises(ValueError, match="high"):
        quantize_int8([1.0], 2.0, 1.0)
    with pytest.raises(TypeError, match="codes"):
        dequantize_int8([0.5], 0.0, 1.0)


def test_tradeoff_chart_labels_every_variant_and_joins_overlapping_dots():
    results = {"float32": {"bytes": 16000.0, "ndcg@10": 0.5, "ms": 2.0},
               "binary + rescoring x8": {"bytes": 500.0, "ndcg@10": 0.49, "ms": 9.0},
               "binary + rescoring x16": {"bytes": 500.0, "ndcg@10": 0.491, "ms": 12.0},
               "pooled x2": {"bytes": 8000.0, "ndcg@10": 0.3, "ms": 1.0}}
    fig, ax = plt.subplots()
    plot_tradeoff(ax, results, title="t")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "1. float32 (2.0 ms)", "2. binary + rescoring x8 (9.0 ms)", "3. binary + rescoring x16 (12.0 ms)",
        "4. pooled x2 (1.0 ms)"]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2, 3", "4"]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "nDCG@10"
    plot_tradeoff(ax, {"binary + rescoring x4": {"bytes": 500.0, "stored_bytes": 16500.0, "ndcg@10": 0.5, "ms": 1.0}},
                  ylim=(0.0, 1.0))
    assert ax.get_ylim() == (0.0, 1.0) and ax.get_xlim()[1] >= 2 * 16500.0  # the float32 copy is on the chart
    with pytest.raises(ValueError, match="lacks"):
        plot_tradeoff(ax, {"x": {"bytes": 1.0}})
    plt.close(fig)
