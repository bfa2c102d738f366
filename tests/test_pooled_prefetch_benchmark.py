"""The pooled-prefetch benchmark on a tiny collection: its synthetic pages have the stand-ins' shapes, its graph
search returns real pages, and its table names the crossover.

Timings are never tested (the machine is shared); ``python -m benchmarks.pooled_prefetch`` reports them.
"""

from __future__ import annotations

import numpy as np

from benchmarks import pooled_prefetch as bench


def test_synthetic_pages_have_the_standin_shapes():
    pages = bench.SyntheticPages(seed=1)
    page = pages.page(3)
    assert page.shape == (874, 128) and page.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(page, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(page, bench.SyntheticPages(seed=1).page(3))  # the same page every time
    assert pages.pooled(3, keep_text=True).shape == (74, 128)
    assert pages.pooled(3, keep_text=False).shape == (32, 128)
    query = pages.query(3, seed=0)
    assert query.shape == (30, 128)
    # the padding rows equal the prompt's <end_of_utterance> token, as the stand-ins' queries do
    np.testing.assert_array_equal(query[-1], pages.prompt[bench.END_OF_UTTERANCE])


def test_a_planted_query_finds_its_page_by_graph_and_by_scan():
    pages = bench.SyntheticPages(seed=2)
    pooled = [pages.pooled(k, keep_text=False) for k in range(40)]
    shard = bench.PooledShard(pooled)
    try:
        for target in (5, 31):
            query = pages.query(target, seed=target)
            assert shard.top(query, 3, exact=True)[0] == target
            assert target in shard.top(query, 3, exact=False)
    finally:
        shard.close()


def test_crossover_is_the_first_size_from_which_the_graph_always_wins():
    rows = [{"size": s, "text": True, "graph_ms": g, "scan_ms": c}
            for s, g, c in [(100, 2.0, 1.0), (200, 1.0, 1.5), (400, 2.0, 1.9), (800, 1.0, 3.0), (1600, 1.0, 5.0)]]
    assert bench.crossover(rows, True) == 800
    assert bench.crossover([{**r, "graph_ms": 9.0} for r in rows], True) is None


def test_the_command_reports_on_a_tiny_collection(capsys):
    assert bench.main(["--sizes", "20", "40", "--queries", "2", "--candidates", "5", "--text", "dropped"]) == 0
    printed = capsys.readouterr().out
    for words in ("| 40 | dropped | 32 |", "rerank (exact MaxSim over 5 pages", "text tokens dropped: the graph"):
        assert words in printed
