"""Ragged-array helpers against plain Python loops."""

from __future__ import annotations

import numpy as np

from course_utils.centroid_index.segments import gather_positions, group_by, row_ids, unique_per_row


def test_gathered_positions_are_the_rows_in_the_asked_order():
    offsets = np.array([0, 3, 3, 4, 8])
    positions, new = gather_positions(offsets, np.array([3, 1, 0, 3]))
    assert positions.tolist() == [4, 5, 6, 7, 0, 1, 2, 4, 5, 6, 7]
    assert new.tolist() == [0, 4, 4, 7, 11]
    empty, none = gather_positions(offsets, np.array([], dtype=np.int64))
    assert empty.tolist() == [] and none.tolist() == [0]


def test_unique_per_row_and_row_ids_match_a_loop():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 6, size=30)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = rng.integers(0, 5, size=offsets[-1])
    flat, new = unique_per_row(values, offsets)
    for i in range(30):
        assert flat[new[i]:new[i + 1]].tolist() == sorted(set(values[offsets[i]:offsets[i + 1]].tolist()))
    assert row_ids(np.array([0, 2, 2, 3])).tolist() == [0, 0, 2]


def test_group_by_makes_inverted_lists():
    keys, items = np.array([2, 0, 2, 1, 0]), np.array([10, 11, 12, 13, 14])
    grouped, offsets = group_by(keys, items, 4)
    assert [grouped[offsets[c]:offsets[c + 1]].tolist() for c in range(4)] == [[11, 14], [13], [10, 12], []]
