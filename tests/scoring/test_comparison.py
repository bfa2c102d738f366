"""Tests of course_utils.scoring.comparison: paired differences and the bootstrap interval of their mean."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.scoring.comparison import bootstrap_interval, paired_differences


def test_paired_differences_match_queries_by_id():
    assert paired_differences({"x": 1.0, "y": 0.25}, {"y": 0.5, "x": 0.0}).tolist() == [1.0, -0.25]


@pytest.mark.parametrize("a, b", [({"x": 1.0}, {"y": 1.0}), ({}, {}), ({"x": 1.0, "y": 0.0}, {"x": 1.0})])
def test_paired_differences_need_the_same_queries(a, b):
    with pytest.raises(ValueError, match="same"):
        paired_differences(a, b)


def test_bootstrap_interval_follows_its_documented_steps():
    values = np.array([0.3, -0.1, 0.0, 0.5, 0.2])
    rows = np.random.default_rng(7).integers(0, 5, size=(200, 5))
    expected = np.quantile(values[rows].mean(axis=1), [0.05, 0.95])
    assert bootstrap_interval(values, confidence=0.9, resamples=200, seed=7) == tuple(expected)


def test_bootstrap_interval_holds_the_mean_and_narrows_with_more_queries():
    rng = np.random.default_rng(0)
    few, many = rng.normal(0.05, 0.2, 20), rng.normal(0.05, 0.2, 500)
    for values in (few, many):
        low, high = bootstrap_interval(values)
        assert low < values.mean() < high
    assert np.subtract(*bootstrap_interval(many)[::-1]) < 0.5 * np.subtract(*bootstrap_interval(few)[::-1])
    assert bootstrap_interval([0.5]) == (0.5, 0.5)  # one query: nothing to resample
    low, high = bootstrap_interval(few, confidence=0.5)
    assert bootstrap_interval(few)[0] <= low <= high <= bootstrap_interval(few)[1]


@pytest.mark.parametrize("values, kwargs, pattern", [
    ([], {}, "non-empty"), ([[0.1, 0.2]], {}, "1-D"), ([0.1, np.nan], {}, "finite"),
    ([0.1], {"confidence": 1.0}, "confidence"), ([0.1], {"confidence": 95}, "confidence"),
    ([0.1], {"resamples": 0}, "resamples"), ([0.1], {"resamples": 10.5}, "resamples"),
])
def test_bootstrap_interval_bad_input(values, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        bootstrap_interval(values, **kwargs)
