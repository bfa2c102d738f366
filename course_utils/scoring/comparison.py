"""Is pipeline A better than pipeline B? Paired per-query differences and a bootstrap interval.

Two pipelines run on the same queries give one quality number each per query (for example
nDCG@10). Their means differ, but with a few dozen queries part of that gap is luck: which
queries happened to be in the test set. The *paired* difference ``d_q = a_q - b_q`` compares the
pipelines on the same query, and the bootstrap asks how much its mean would move with another
draw of queries like these: resample the queries with replacement many times, take the mean
difference of each resample, and read the middle ``confidence`` share of those means. An interval
that contains 0 says the test set does not decide which pipeline is better.

>>> differences = paired_differences({"q1": 0.9, "q2": 0.5}, {"q1": 0.6, "q2": 0.5})
>>> differences.round(2).tolist()
[0.3, 0.0]
>>> bootstrap_interval([0.25, 0.25, 0.25, 0.25])  # every query gains the same: no doubt left
(0.25, 0.25)
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["bootstrap_interval", "paired_differences"]


def paired_differences(scores_a: Mapping[str, float], scores_b: Mapping[str, float]) -> np.ndarray:
    """``a_q - b_q`` for every query ``q``, in the order of ``scores_a``.

    Args:
        scores_a, scores_b: ``{query id: quality}`` of two pipelines, with the same query ids.

    Returns:
        float64 ``(queries,)``.

    Raises:
        ValueError: the two dicts do not hold the same query ids, or hold none.
    """
    if not isinstance(scores_a, Mapping) or not isinstance(scores_b, Mapping):
        raise TypeError("scores_a and scores_b must both be dicts {query id: quality}")
    if set(scores_a) != set(scores_b) or not scores_a:
        only_a, only_b = sorted(set(scores_a) - set(scores_b)), sorted(set(scores_b) - set(scores_a))
        raise ValueError(f"scores_a and scores_b must hold the same (at least one) query ids; only in scores_a: "
                         f"{only_a[:5]}, only in scores_b: {only_b[:5]}")
    return np.array([float(scores_a[q]) - float(scores_b[q]) for q in scores_a])


def bootstrap_interval(values: Sequence[float], *, confidence: float = 0.95, resamples: int = 10_000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (one value per query).

    The steps: ``rng = np.random.default_rng(seed)``; ``rows = rng.integers(0, n, size=(resamples, n))``
    (each row one resample of the ``n`` queries, with replacement); the mean of ``values[rows]`` per row;
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those means (``np.quantile``).

    Args:
        values: ``(n,)`` numbers, ``n >= 1``, for example :func:`paired_differences`.
        confidence: the share of the resampled means the interval holds, strictly between 0 and 1.
        resamples: how many resamples, >= 1.
        seed: the same seed gives the same interval.

    Returns:
        ``(low, high)``, two floats.

    Raises:
        ValueError: ``values`` is empty, not 1-D or not finite; ``confidence`` or ``resamples`` out of range.
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or len(array) == 0 or not np.isfinite(array).all():
        raise ValueError(f"values must be a non-empty 1-D list of finite numbers, got shape {array.shape}")
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, numbers.Integral) or resamples < 1:
        raise ValueError(f"resamples must be an int >= 1 (e.g. 10_000), got {resamples!r}")
    rows = np.random.default_rng(seed).integers(0, len(array), size=(int(resamples), len(array)))
    low, high = np.quantile(array[rows].mean(axis=1), [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)
