"""Saving and loading an index: the same arrays and search results, no pickle, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils.centroid_index.plaid import build_index
from course_utils.centroid_index.storage import ARRAYS, load, save
from tests.centroid_index.test_plaid import clustered_corpus


def test_save_then_load_gives_the_same_index_and_results(tmp_path):
    corpus, queries = clustered_corpus(n_passages=40)
    index = build_index(corpus, n_centroids=16, bits=2)
    folder = save(index, tmp_path / "index")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{name}.npy" for name in ARRAYS] + ["codec_cutoffs.npy", "codec_weights.npy", "index.json"])
    for mmap in (False, True):
        loaded = load(folder, mmap=mmap)
        for name in ARRAYS:
            np.testing.assert_array_equal(getattr(loaded, name), getattr(index, name))
        assert loaded.codec.bits == 2
        a, b = index.search(queries[0], 5, threshold=None), loaded.search(queries[0], 5, threshold=None)
        np.testing.assert_array_equal(a.passages, b.passages)


def test_loading_refuses_missing_files_other_formats_and_wrong_sizes(tmp_path):
    corpus, _ = clustered_corpus(n_passages=10)
    folder = save(build_index(corpus, n_centroids=4, bits=1), tmp_path / "index")
    with pytest.raises(FileNotFoundError, match="index.json"):
        load(tmp_path / "nowhere")
    meta = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(json.dumps({**meta, "tokens": meta["tokens"] + 1}))
    with pytest.raises(ValueError, match="codes.npy has"):
        load(folder)
    (folder / "index.json").write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(ValueError, match="format 99"):
        load(folder)
    (folder / "index.json").write_text(json.dumps(meta))
    (folder / "ivf.npy").unlink()
    with pytest.raises(FileNotFoundError, match="ivf.npy"):
        load(folder)
