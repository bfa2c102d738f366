"""Is one pipeline really better? The paired per-query difference and a bootstrap interval over queries.

Two pipelines run on the same queries; per query, ``d_i = a_i - b_i`` (say, nDCG@10). The mean of
``d`` says which is ahead on these queries; the **bootstrap** says how much that could change with
other queries like them: draw the queries again with replacement (the same draw for both pipelines:
that is what *paired* means), take the mean difference of each draw, and read the middle 95% of those
means. An interval that contains 0 means these queries do not decide which pipeline is better.
"""

from __future__ import annotations

import numbers

import numpy as np

from course_utils.scoring.comparison import bootstrap_interval

__all__ = ["PairedDifference", "paired_bootstrap"]


class PairedDifference(tuple):
    """``(mean, low, high)``: the mean per-query difference and its bootstrap interval."""

    __slots__ = ()

    def __new__(cls, mean: float, low: float, high: float):
        return super().__new__(cls, (float(mean), float(low), float(high)))

    mean = property(lambda self: self[0])
    low = property(lambda self: self[1])
    high = property(lambda self: self[2])

    def in_words(self, a: str, b: str, what: str = "nDCG@10") -> str:
        """One line: who is ahead by how much, the interval of ``a - b``, and whether it decides."""
        ahead = a if self.mean >= 0 else b
        verdict = ("excludes 0: the lead holds on queries like these" if self.low > 0 or self.high < 0
                   else "contains 0: these queries do not decide")
        return (f"{a} - {b}: {self.mean:+.3f} {what} ({ahead} ahead); "
                f"95% interval [{self.low:+.3f}, {self.high:+.3f}] {verdict}")


def paired_bootstrap(a, b, *, resamples: int = 10_000, seed: int = 0, level: float = 0.95) -> PairedDifference:
    """Mean of ``a - b`` and its percentile bootstrap interval, resampling the queries (pairs) together.

    Args:
        a, b: ``(queries,)`` per-query scores of two pipelines, the same queries in the same order.
        resamples: bootstrap draws, >= 1; seed: numpy ``default_rng`` seed; level: in (0, 1).

    Returns:
        :class:`PairedDifference` ``(mean, low, high)``.

    Raises:
        ValueError: ``a`` and ``b`` not 1-D of the same length >= 1, or not finite; bad resamples or level.

    >>> paired_bootstrap([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], resamples=50)
    (1.0, 1.0, 1.0)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or len(x) == 0:
        raise ValueError(f"a and b must be 1-D with one score per query each, got shapes {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("a and b must hold finite numbers (no NaN or inf)")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}")
    difference = x - y
    low, high = bootstrap_interval(difference, confidence=level, resamples=resamples, seed=seed)
    return PairedDifference(difference.mean(), low, high)
