"""Reciprocal rank fusion (RRF): several ranked lists become one, by rank alone.

Cormack, Clarke and Büttcher (SIGIR 2009) score a document by adding, over the
lists it appears in, ``1 / (k + rank)``, with ranks counted from 1 and ``k = 60``::

    >>> rrf([["a", "b"], ["b", "c"]], k=60)            # doctest: +ELLIPSIS
    [('b', 0.0325...), ('a', 0.0163...), ('c', 0.0161...)]

Qdrant writes the same sum with ranks counted from 0: ``1 / (k_qdrant + rank0)``.
So Qdrant's ``k`` is the paper's ``k`` plus one (the paper's 60 is Qdrant's 61),
and Qdrant's default ``k = 2`` (the server's ``DEFAULT_RRF_K`` and qdrant-client's) is the
paper's ``k = 1``: :func:`qdrant_k` converts. A document missing from a list simply gets
nothing from it. :func:`dbsf` is Qdrant's other fusion, which adds the scores themselves
after rescaling each list by its mean and spread.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

__all__ = ["dbsf", "rrf", "qdrant_k", "PAPER_K", "QDRANT_CLIENT_DEFAULT_K"]

#: The constant of the RRF paper (ranks counted from 1).
PAPER_K = 60
#: qdrant-client's default ``Rrf.k`` (its formula counts ranks from 0): the paper's k = 1.
QDRANT_CLIENT_DEFAULT_K = 2


def _check_k(k: object, name: str = "k") -> float:
    if isinstance(k, bool) or not isinstance(k, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0 (the paper uses 60), got {type(k).__name__}")
    if not k >= 0:
        raise ValueError(f"{name} must be >= 0 (the paper uses 60), got {k!r}")
    return float(k)


def _check_rankings(rankings: object) -> list[list]:
    if isinstance(rankings, (str, bytes)) or not isinstance(rankings, Sequence):
        raise TypeError(f"rankings must be a list of ranked lists of ids, got {type(rankings).__name__}")
    if len(rankings) == 0:
        raise ValueError("rankings is empty: give at least one ranked list of ids")
    checked = []
    for index, ranking in enumerate(rankings):
        if isinstance(ranking, (str, bytes)) or not isinstance(ranking, Sequence):
            raise TypeError(f"rankings[{index}] must be a list of ids (best first), got {type(ranking).__name__}")
        if len(set(ranking)) != len(ranking):
            raise ValueError(f"rankings[{index}] holds an id twice; each list may rank an id only once")
        checked.append(list(ranking))
    return checked


def rrf(rankings: Sequence[Sequence], k: float = PAPER_K, weights: Sequence[float] | None = None,
        limit: int | None = None) -> list[tuple[object, float]]:
    """Fuse ranked lists: ``score(d) = sum_i weight_i / (k + rank_i(d))``, ranks from 1.

    Args:
        rankings: ``m`` lists of ids, best first; lists may differ in length and in their ids.
        k: the RRF constant, paper convention (ranks from 1); ``k + 1`` is Qdrant's.
        weights: ``m`` weights (default all 1).
        limit: keep only the best ``limit`` (default all).

    Returns:
        ``[(id, score), ...]`` by score, best first; equal scores keep the order in which
        the ids were first met (list 0 first, then list 1, ...), as qdrant-client does.

    Raises:
        TypeError / ValueError: naming the argument: rankings not lists, empty, with
            duplicate ids; k not a number >= 0; weights of another length; limit < 1.
    """
    lists = _check_rankings(rankings)
    constant = _check_k(k)
    if weights is None:
        weights = [1.0] * len(lists)
    if len(weights) != len(lists):
        raise ValueError(f"weights has {len(weights)} entries for {len(lists)} rankings; give one per ranking")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1):
        raise ValueError(f"limit must be a whole number >= 1 or None, got {limit!r}")
    scores: dict[object, float] = {}
    for ranking, weight in zip(lists, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (constant + rank)
    fused = sorted(scores.items(), key=lambda pair: -pair[1])  # stable: ties keep first-met order
    return fused if limit is None else fused[:limit]


def _dbsf_normalised(scores: list[float]) -> list[float]:
    if len(scores) == 1:
        return [0.5]
    mean = sum(scores) / len(scores)
    variance = sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)   # the sample variance
    if variance == 0:
        return [0.5] * len(scores)
    low, spread = mean - 3 * variance ** 0.5, 6 * variance ** 0.5
    return [(s - low) / spread for s in scores]


def dbsf(scored: Sequence[Sequence[tuple[object, float]]], limit: int | None = None) -> list[tuple[object, float]]:
    """Distribution-based score fusion, as Qdrant's ``Fusion.DBSF`` computes it.

    Each list's scores are rescaled so that ``mean - 3 std`` maps to 0 and ``mean + 3 std`` to 1 (the sample
    standard deviation; a list of one score, or of equal scores, gives 0.5 each), then added up per id.

    Args:
        scored: ``m`` lists of ``(id, score)`` pairs, each one first stage's results.
        limit: keep only the best ``limit`` (default all).

    Returns:
        ``[(id, fused score), ...]`` best first; equal scores keep the order in which the ids were first met.

    >>> dbsf([[("a", 3.0), ("b", 1.0)], [("b", 0.9)]])   # doctest: +ELLIPSIS
    [('b', 0.882...), ('a', 0.617...)]
    """
    if isinstance(scored, (str, bytes)) or not isinstance(scored, Sequence) or len(scored) == 0:
        raise ValueError("scored must be a non-empty list of lists of (id, score) pairs")
    fused: dict[object, float] = {}
    for index, pairs in enumerate(scored):
        try:
            ids, scores = zip(*pairs) if len(pairs) else ((), ())
            scores = [float(s) for s in scores]
        except (TypeError, ValueError):
            raise ValueError(f"scored[{index}] must be a list of (id, score) pairs") from None
        for item, value in zip(ids, _dbsf_normalised(scores) if scores else []):
            fused[item] = fused.get(item, 0.0) + value
    ordered = sorted(fused.items(), key=lambda pair: -pair[1])
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1):
        raise ValueError(f"limit must be a whole number >= 1 or None, got {limit!r}")
    return ordered if limit is None else ordered[:limit]


def qdrant_k(paper_k: int) -> int:
    """Qdrant's ``Rrf(k=...)`` that gives the same fusion as the paper's ``paper_k``: ``paper_k + 1``.

    Qdrant's ``k`` is a whole number, so ``paper_k`` must be one too (an int, or a float such as 60.0)::

        >>> qdrant_k(60)
        61

    Raises:
        TypeError: if ``paper_k`` is not a number; ValueError: if it is negative or not whole.
    """
    value = _check_k(paper_k, "paper_k")
    if not value.is_integer():
        raise ValueError(f"paper_k must be a whole number (Qdrant's k is an int), got {paper_k!r}")
    return int(value) + 1
