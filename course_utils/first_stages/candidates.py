"""Judging a first stage by what it hands on: candidate recall at k, and the k a target needs.

A first stage passes its top ``k`` candidates to a reranker (here ColBERT's MaxSim),
which can only reorder them. Its *candidate recall at k* is the fraction of a query's
relevant passages (grade >= 1) among those ``k``, averaged over the queries; the
question is how large ``k`` must be before (say) 90% or 100% of them get through.

A lexical first stage (BM25) matches only the passages that share a term with the query:
:func:`matched_top_k` hands on at most those, never passages of score 0 in index order (which
would give fusion arbitrary passages to credit, and Qdrant never returns them).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from course_utils.scoring.metrics import evaluate

__all__ = ["candidate_recall_curve", "fde_bytes", "matched_top_k", "smallest_k"]


def matched_top_k(scores, k: int) -> np.ndarray:
    """The passages a lexical first stage hands on: the ``k`` highest *positive* scores, best first.

    Args:
        scores: ``(n,)`` scores of every passage, 0 for a passage that shares no term with the query.
        k: how many at most, >= 1.

    Returns:
        int64 ``(m,)`` passage indices, ``m = min(k, number of positive scores)``, by decreasing score
        (ties: the lower index first). Passages of score 0 are never included.

    Raises:
        ValueError: ``scores`` is not 1-D, holds NaN, or ``k`` is not a whole number >= 1.

    >>> matched_top_k([0.0, 2.5, 0.0, 1.0], 3).tolist()
    [1, 3]
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or np.isnan(values).any():
        raise ValueError(f"scores must be a 1-D array of numbers without NaN, got shape {values.shape}")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, got {k!r}")
    matched = np.flatnonzero(values > 0)
    order = matched[np.lexsort((matched, -values[matched]))]
    return order[:k].astype(np.int64)


def _check_ks(ks: object) -> list[int]:
    if isinstance(ks, (str, bytes)) or not isinstance(ks, Sequence) and not isinstance(ks, np.ndarray):
        raise TypeError(f"ks must be a list of whole numbers >= 1, got {type(ks).__name__}")
    values = list(ks)
    if not values:
        raise ValueError("ks is empty: give at least one k, e.g. range(1, 201)")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"ks must hold whole numbers >= 1, got {value!r}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError("ks must be increasing, e.g. range(1, 201)")
    return [int(value) for value in values]


def candidate_recall_curve(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]],
                           ks: Sequence[int]) -> np.ndarray:
    """Mean recall@k over the queries of ``run``, for every ``k`` in ``ks``.

    Args:
        run: ``{query id: [passage ids, best first]}`` (at least ``max(ks)`` long to be exact).
        qrels: ``{query id: {passage id: grade}}``.
        ks: increasing cut-offs, e.g. ``range(1, 201)``.

    Returns:
        float64 array of shape ``(len(ks),)``, non-decreasing, in [0, 1].

    Raises:
        TypeError / ValueError: ks not increasing whole numbers >= 1; and what
            :func:`course_utils.scoring.metrics.evaluate` raises for a bad run or qrels.
    """
    cutoffs = _check_ks(ks)
    means = evaluate(run, qrels, k=cutoffs, metrics=["recall"])
    return np.array([means[f"recall@{k}"] for k in cutoffs])


def smallest_k(curve: Sequence[float], ks: Sequence[int], target: float) -> int | None:
    """The first ``k`` of ``ks`` whose candidate recall reaches ``target`` (None if none does).

    Args:
        curve: ``(len(ks),)`` candidate recalls, as :func:`candidate_recall_curve` gives.
        ks: the cut-offs of ``curve``.
        target: in (0, 1], e.g. 0.9.
    """
    cutoffs = _check_ks(ks)
    values = np.asarray(curve, dtype=float)
    if values.shape != (len(cutoffs),):
        raise ValueError(f"curve has shape {values.shape}; it needs one value per k, shape ({len(cutoffs)},)")
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not 0 < target <= 1:
        raise ValueError(f"target must be a fraction in (0, 1], got {target!r}")
    reached = np.flatnonzero(values >= target - 1e-12)
    return cutoffs[int(reached[0])] if len(reached) else None


def fde_bytes(dim: int, k_sim: int, dim_proj: int, r_reps: int, bytes_per_value: int = 4) -> int:
    """Bytes of one MUVERA encoding: ``r_reps * 2**k_sim * dim_proj`` values (``dim_proj`` <= ``dim``)."""
    for name, value in (("dim", dim), ("k_sim", k_sim), ("dim_proj", dim_proj), ("r_reps", r_reps),
                        ("bytes_per_value", bytes_per_value)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if dim_proj > dim:
        raise ValueError(f"dim_proj ({dim_proj}) cannot exceed dim ({dim})")
    return r_reps * 2**k_sim * dim_proj * bytes_per_value
