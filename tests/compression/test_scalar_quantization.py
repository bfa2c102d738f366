"""course_utils.compression.scalar and the trade-off chart of lesson 6."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.compression.scalar import dequantize_int8, int8_range, quantize_int8  # noqa: E402
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
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="lacks"):
        plot_tradeoff(ax, {"x": {"bytes": 1.0}})
    plt.close(fig)
