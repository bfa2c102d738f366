"""The paired per-query difference of two pipelines and its bootstrap interval."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.scoring.paired import PairedDifference, paired_bootstrap


def test_the_interval_is_the_percentiles_of_resampled_mean_differences():
    rng = np.random.default_rng(3)
    a, b = rng.random(30), rng.random(30)
    result = paired_bootstrap(a, b, resamples=2_000, seed=5)
    draws = np.random.default_rng(5).integers(0, 30, size=(2_000, 30))
    means = (a - b)[draws].mean(axis=1)
    assert result == pytest.approx((float((a - b).mean()), *np.percentile(means, [2.5, 97.5])))
    assert result.low <= result.mean <= result.high


def test_pairing_matters_a_constant_gap_is_certain():
    a = np.linspace(0, 1, 20)
    assert paired_bootstrap(a + 0.1, a) == pytest.approx((0.1, 0.1, 0.1))


def test_in_words_says_whether_the_interval_decides():
    assert "excludes 0" in PairedDifference(0.05, 0.01, 0.09).in_words("x", "y")
    assert "contains 0" in PairedDifference(0.01, -0.02, 0.04).in_words("x", "y")
    assert "(y ahead)" in PairedDifference(-0.03, -0.05, -0.01).in_words("x", "y")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="a and b"):
        paired_bootstrap([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        paired_bootstrap([np.nan], [1.0])
    with pytest.raises(ValueError, match="resamples"):
        paired_bootstrap([1.0], [1.0], resamples=0)
    with pytest.raises(ValueError, match="level"):
        paired_bootstrap([1.0], [1.0], level=1.5)
