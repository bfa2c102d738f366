"""The PLAID benchmark at a tiny size: it runs end to end, its recall can fail, its collection is what it says.

Timings are never tested (the machine is shared); ``python -m benchmarks.plaid_index`` reports them.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import plaid_index as bench
from benchmarks.plaid_collection import collection_folder, synthetic_collection
from course_utils.centroid_index.synthetic import compose
from course_utils.scoring.maxsim import PackedCorpus


def test_margins_measure_the_gap_below_the_kth_exact_score():
    scores = np.array([np.arange(20, 0, -1, dtype=float), np.r_[np.full(12, 5.0), np.zeros(8)]])
    line = bench.margins(scores)  # gaps 1.0 (of 11: 9.09%) and 0 (a tie)
    assert line.startswith("exact scores: 10th minus 11th, median 0.5000 (4.55% of the 10th score")
    assert line.endswith("1 of 2 queries tie at the 10th")


def test_settings_are_read_from_the_command_line():
    assert bench._setting("2:0.45:2048") == (2, 0.45, 2048)
    assert bench._setting("16:none:4096") == (16, None, 4096)


def test_recall_counts_the_exact_top_found():
    assert bench.recall_at_k([list(range(10))], [set(range(10))]) == 1.0
    assert bench.recall_at_k([[0, 1, 99, 98]], [set(range(10))]) == 0.2
    assert bench.recall_at_k([[]], [set(range(10))]) == 0.0


def test_composed_passages_are_noisy_windows_of_the_sources():
    rng = np.random.default_rng(0)
    sources = [v / np.linalg.norm(v, axis=1, keepdims=True)
               for v in (rng.normal(size=(n, 16)).astype(np.float32) for n in (5, 30, 12))]
    big = compose(sources, 50, seed=2, windows=(2, 3), window_tokens=(3, 6), noise=0.0)
    assert len(big) == 50 and big.dim == 16
    assert 2 * 3 <= big.lengths.min() and big.lengths.max() <= 3 * 6
    every_source_row = np.vstack(sources)
    # without noise every token vector is a row of some source
    assert np.allclose((big.vectors @ every_source_row.T).max(axis=1), 1.0, atol=1e-5)
    noisy = compose(sources, 50, seed=2, windows=(2, 3), window_tokens=(3, 6), noise=0.25)
    cosine = (noisy.vectors @ every_source_row.T).max(axis=1)
    assert np.allclose(np.linalg.norm(noisy.vectors, axis=1), 1.0, atol=1e-5) and 0.9 < cosine.mean() < 0.999
    for bad in ({"windows": (0, 2)}, {"window_tokens": (5, 4)}, {"noise": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            compose(sources, 3, **bad)
    with pytest.raises(ValueError, match="n_passages"):
        compose(sources, 0)


def test_the_collection_is_cached_and_read_back(tmp_path):
    corpus, queries, subsets = synthetic_collection(40, cache=tmp_path)
    assert isinstance(corpus, PackedCorpus) and len(corpus) == 40 and len(queries) == len(subsets)
    assert (collection_folder(tmp_path, 40) / "vectors.npy").is_file()
    again, queries_again, _ = synthetic_collection(40, cache=tmp_path)
    np.testing.assert_array_equal(np.asarray(again.vectors), corpus.vectors)
    np.testing.assert_array_equal(queries_again[0], queries[0])


def test_the_command_reports_on_a_tiny_collection(tmp_path, capsys):
    chart = tmp_path / "race.png"
    assert bench.main(["--passages", "300", "--centroids", "64", "--sample", "5000", "--iterations", "3",
                       "--queries", "6", "--exact-timing", "2", "--cache", str(tmp_path), "--chart", str(chart),
                       "--fast-plaid-python", str(tmp_path / "no-such-python"),
                       "--muvera-settings", "10:16", "40:64"]) == 0
    printed = capsys.readouterr().out
    for words in ("collection: PackedCorpus(300 documents", "exact: score_corpus", "index: 64 centroids",
                  "36 bytes per token", "index nprobe=1 t=0.5 c=256", "fast-plaid: skipped, no environment",
                  "target recall@10 >= 0.95", "target bytes per token <= 40", "peak resident memory",
                  "race chart", "MUVERA: 10,240-d FDEs", "HNSW graph on the FDEs built in",
                  "MUVERA HNSW ef=16 c=10 -> ColBERT", "MUVERA HNSW ef=64 c=40 -> ColBERT",
                  "exact scores: 10th minus 11th, median", "codec limit: exact MaxSim over every passage's",
                  "float16 rerank: stage 4 reads", "index nprobe=2 t=0.45 c=2048, float16 rerank",
                  "the float16 rerank rows also read float16 originals from disk"):
        assert words in printed
    assert 0 < float(printed.split("decompressed vectors (2-bit residuals) finds ")[1].split()[0]) <= 1
    recall = {line.split("->")[0].strip(): float(line.split()[-3]) for line in printed.splitlines()
              if line.startswith("MUVERA HNSW")}
    assert 0 < recall["MUVERA HNSW ef=16 c=10"] <= recall["MUVERA HNSW ef=64 c=40"] <= 1  # more candidates, more found
    assert chart.stat().st_size > 10_000
    assert (collection_folder(tmp_path, 300) / "vectors-float16.npy").is_file()


def test_the_command_can_race_muvera_alone(tmp_path, capsys):
    assert bench.main(["--passages", "100", "--queries", "4", "--exact-timing", "1", "--cache", str(tmp_path),
                       "--no-index", "--no-fast-plaid", "--muvera-settings", "20:32", "20:scan"]) == 0
    printed = capsys.readouterr().out
    assert "MUVERA HNSW ef=32 c=20 -> ColBERT" in printed and "index nprobe" not in printed
    assert "MUVERA scan c=20 -> ColBERT" in printed
    assert "target recall" not in printed  # the targets are the index's
