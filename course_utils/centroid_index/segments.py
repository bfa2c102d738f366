"""Ragged arrays as one flat array plus offsets, and the few operations the index needs on them.

A ragged array of ``n`` rows is ``values`` (all rows one after another) and int64 ``offsets`` of
``n + 1`` entries: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``, as in a
:class:`~course_utils.scoring.maxsim.PackedCorpus`.

>>> offsets = np.array([0, 2, 2, 5])                      # rows of 2, 0 and 3 values
>>> gather_positions(offsets, np.array([2, 0]))           # where rows 2 and 0 lie, and their new offsets
(array([2, 3, 4, 0, 1]), array([0, 3, 5]))
>>> unique_per_row(np.array([7, 7, 1, 4, 4, 4]), np.array([0, 3, 6]))
(array([1, 7, 4]), array([0, 2, 3]))
"""

from __future__ import annotations

import numpy as np

__all__ = ["gather_positions", "group_by", "row_ids", "unique_per_row"]


def gather_positions(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``values`` of the given rows, concatenated, and the offsets of that selection.

    Args:
        offsets: int ``(n + 1,)``.
        rows: int ``(m,)`` row indices, any order, repeats allowed.

    Returns:
        (int64 ``(sum of their lengths,)`` positions, int64 ``(m + 1,)`` offsets within them).
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    positions = np.arange(new_offsets[-1], dtype=np.int64) + np.repeat(starts - new_offsets[:-1], lengths)
    return positions, new_offsets


def row_ids(offsets: np.ndarray) -> np.ndarray:
    """int64 ``(offsets[-1],)``: the row each value belongs to."""
    return np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))


def unique_per_row(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's distinct values, increasing: (flat values, int64 offsets ``(n + 1,)``)."""
    rows = row_ids(offsets)
    order = np.lexsort((values, rows))
    values, rows = values[order], rows[order]
    first = np.r_[True, (values[1:] != values[:-1]) | (rows[1:] != rows[:-1])] if len(values) else np.zeros(0, bool)
    kept_rows = rows[first]
    new_offsets = np.searchsorted(kept_rows, np.arange(len(offsets)), side="left").astype(np.int64)
    return values[first], new_offsets


def group_by(keys: np.ndarray, items: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """``items`` grouped by key, stably: (items ordered by key, int64 offsets ``(n_keys + 1,)``).

    With ``keys`` the centroid of each (passage, centroid) pair and ``items`` the passage, this is
    the inverted lists: centroid ``c``'s passages are ``result[offsets[c]:offsets[c + 1]]``.
    """
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_keys)
    offsets = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return items[order], offsets
