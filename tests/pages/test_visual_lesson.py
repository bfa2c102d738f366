"""Lesson 7's helpers: labels that line up with vectors, heat maps, boxes, the memory check, and the
pooled-prefetch + full-rerank search in Qdrant's embedded mode and in Qdrant Edge (checked by hand)."""

from __future__ import annotations

import os
from collections import Counter

import matplotlib
import numpy as np
import pytest
from PIL import Image
from qdrant_client import QdrantClient

from course_utils.pages import memory
from course_utils import models
from course_utils.pages.plots import page_thumbnails, show_patch_grid, token_heatmaps
from course_utils.pages.plots import MAX_WIDTH_INCHES
from course_utils.pages.vectors import (matched_patch_box, page_layout, patch_box, patch_map, pool_page, query_labels,
                                        token_matches, vector_kinds)
from course_utils.pages.files import load_course_pages, load_page
from course_utils.pages.search import (EdgePageIndex, candidates_needed, create_page_collection, full_search,
                                        overlap_at_k, prefetch_rerank)
from tests.models_fixtures import load

matplotlib.use("Agg")
STANDIN_ONLY = pytest.mark.skipif(bool(os.environ.get("COURSE_REAL_MODELS")),
                                  reason="relies on the stand-ins' context-free token vectors")

# Three pages of 2-d vectors, queried with rows [1, 0] and [0, 1] (scores worked out in the test).
FULL = [[[1.0, 0.0], [0.0, 0.2]], [[0.9, 0.0], [0.0, 0.9]], [[0.1, 0.0], [0.0, 1.0], [0.5, 0.5]]]
# pooled vectors: page 1 looks poor in the first stage (0.1 + 0.1), pages 0 and 2 look good
POOLED = [[[1.0, 0.0], [0.0, 1.0]], [[0.1, 0.1]], [[0.5, 0.5], [0.0, 1.0]]]
QUERY = [[1.0, 0.0], [0.0, 1.0]]


@STANDIN_ONLY
@pytest.mark.parametrize("name", models.VISUAL_MODELS)
def test_query_labels_name_their_rows(name):
    """Stand-in token vectors do not depend on context, so each labelled row must equal that token's own vector."""
    model = load(name)
    text = "How many moons does Saturn have?"
    labels = query_labels(model, text)
    rows = np.asarray(next(iter(model.embed_text([text]))), dtype=np.float32)
    assert len(labels) == len(rows)
    first = 0 if name == models.VISUAL_MODEL else 3  # ColPali: <bos>, Query, ':' come first
    for i, label in enumerate(labels):
        if label.isalpha() and label not in ("Query",):
            alone = np.asarray(next(iter(model.embed_text([label]))), dtype=np.float32)[first]
            np.testing.assert_allclose(rows[i], alone, atol=2e-3, err_msg=f"row {i} is not {label!r}")
    shifted = labels[1:] + labels[:1]  # a one-row shift, the public notebooks' bug, is caught
    assert any(label.isalpha() and not np.allclose(rows[i], np.asarray(next(iter(model.embed_text([label]))),
                                                                           dtype=np.float32)[first], atol=2e-3)
               for i, label in enumerate(shifted) if label != "Query")


def test_embedded_and_edge_prefetch_rerank_match_hand_computed_scores():
    client = QdrantClient(":memory:")
    create_page_collection(client, "pages", FULL, POOLED, [{"page_id": f"p{k}"} for k in range(3)])
    # full MaxSim: page 0: 1.0 + 0.2 = 1.2; page 1: 0.9 + 0.9 = 1.8; page 2: max(0.1, 0, .5) + max(0, 1, .5) = 1.5
    ids, scores = full_search(client, "pages", QUERY, 3)
    assert ids.tolist() == [1, 2, 0] and np.allclose(scores, [1.8, 1.5, 1.2])
    # pooled: page 0: 1 + 1 = 2; page 1: 0.1 + 0.1 = 0.2; page 2: 0.5 + 1 = 1.5 -> 2 candidates: pages 0 and 2
    ids, scores = prefetch_rerank(client, "pages", QUERY, candidates=2, limit=2)
    assert ids.tolist() == [2, 0] and np.allclose(scores, [1.5, 1.2])  # page 1 lost in the first stage
    ids, _ = prefetch_rerank(client, "pages", QUERY, candidates=3, limit=1)
    assert ids.tolist() == [1]
    for graph in (True, False):
        with EdgePageIndex(FULL, POOLED, graph=graph) as edge_index:
            for exact_prefetch in (True, False):
                ids, scores = edge_index.prefetch_rerank(QUERY, 2, 2, exact_prefetch=exact_prefetch)
                assert ids.tolist() == [2, 0] and np.allclose(scores, [1.5, 1.2])
            ids, scores = edge_index.full_search(QUERY, 3)
            assert ids.tolist() == [1, 2, 0] and np.allclose(scores, [1.8, 1.5, 1.2])
            assert edge_index.full_search(QUERY, 1, using="rows", exact=False)[0].tolist() == [0]
            with pytest.raises(ValueError, match="no \\['columns'\\] vectors"):
                edge_index.prefetch_rerank(QUERY, 2, 2, using="columns")
    client.close()


# columns pooling: page 1 looks best (0.9 + 0.9), so prefetching by rows and columns keeps it
COLUMNS = [[[0.2, 0.0]], [[0.9, 0.0], [0.0, 0.9]], [[0.1, 0.1]]]


def test_prefetch_by_rows_and_columns_reranks_the_union():
    client = QdrantClient(":memory:")
    create_page_collection(client, "pages", FULL, POOLED, columns_vectors=COLUMNS)
    # rows keep pages 0 and 2 (1 candidate each: page 0), columns keep page 1: the rerank sees {0, 1}
    ids, scores = prefetch_rerank(client, "pages", QUERY, candidates=1, limit=2, using=("rows", "columns"))
    assert ids.tolist() == [1, 0] and np.allclose(scores, [1.8, 1.2])
    assert prefetch_rerank(client, "pages", QUERY, candidates=1, limit=2)[0].tolist() == [0]
    with pytest.raises(ValueError, match="using must name pooled vectors"):
        prefetch_rerank(client, "pages", QUERY, 1, 1, using="full")
    client.close()
    with EdgePageIndex(FULL, POOLED, COLUMNS) as edge_index:
        assert edge_index.build_seconds >= 0 and edge_index.pooled_names == ["rows", "columns"]
        ids, scores = edge_index.prefetch_rerank(QUERY, 1, 2)
        assert ids.tolist() == [1, 0] and np.allclose(scores, [1.8, 1.2])
        assert edge_index.prefetch_rerank(QUERY, 1, 2, using="rows")[0].tolist() == [0]


def test_the_graph_is_built_on_the_pooled_vectors_only():
    """The Edge shard's config: an HNSW graph (m > 0) on rows and columns, none on the full vectors."""
    import json
    from pathlib import Path

    with EdgePageIndex(FULL, POOLED, COLUMNS) as edge_index:
        config = json.loads((Path(edge_index.folder) / "edge_config.json").read_text())
    vectors = config["vectors"]
    assert vectors["full"]["hnsw_config"]["m"] == 0
    assert vectors["rows"]["hnsw_config"]["m"] > 0 and vectors["columns"]["hnsw_config"]["m"] > 0


def test_candidates_needed():
    assert candidates_needed([4, 2, 7, 1, 3], [2, 4, 3], 3) == 5
    assert candidates_needed([4, 2, 7, 1, 3], [2, 4, 3], 1) == 2
    assert candidates_needed([1, 2], [2, 1], 5) == 2
    assert candidates_needed([1, 2, 3], [9, 1], 2) is None
    with pytest.raises(ValueError, match="k must"):
        candidates_needed([1], [1], 0)


def test_page_search_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        EdgePageIndex(FULL, POOLED[:2])
    with pytest.raises(ValueError, match=r"full_vectors\[1\] contains NaN"):
        EdgePageIndex([FULL[0], [[np.nan, 0.0]]], POOLED[:2])
    with pytest.raises(ValueError, match="same size"):
        EdgePageIndex([[[1.0, 0.0, 0.0]]], [[[1.0, 0.0]]])
    with pytest.raises(ValueError, match="query_vectors"):
        prefetch_rerank(QdrantClient(":memory:"), "x", [], 2, 1)


def test_overlap_at_k():
    assert overlap_at_k([3, 1, 7], [1, 3, 2], 2) == 1.0
    assert overlap_at_k([3, 1, 7], [1, 2, 3], 2) == 0.5
    assert overlap_at_k([5], [5], 3) == 1.0
    with pytest.raises(ValueError, match="k must"):
        overlap_at_k([1], [1], 0)
    with pytest.raises(ValueError, match="reference is empty"):
        overlap_at_k([1], [], 1)


def test_patch_boxes_tile_the_page_exactly():
    model = load(models.VISUAL_MODEL)
    layout = page_layout(model, Image.new("RGB", (512, 288)))
    rows, cols = layout.map_shape
    assert patch_box(0, 0, layout) == [0.0, 0.0, 16.0, 12.0]
    assert patch_box(rows - 1, cols - 1, layout) == [496.0, 276.0, 512.0, 288.0]
    with pytest.raises(ValueError, match="similarities must have shape"):
        patch_map(np.zeros(3), layout)


def test_heatmap_panels_are_titled_by_the_rows_they_draw():
    model = load(models.VISUAL_MODEL)
    pages = load_course_pages()
    page = load_page(pages.paths["p15"])
    layout = page_layout(model, page)
    text = pages.queries["q14"]
    query = next(iter(model.embed_text([text])))
    labels = query_labels(model, text)
    vectors = next(iter(model.embed_image([page])))
    fig, axes = token_heatmaps(page, query, vectors, layout, labels, rows=[0, 4], judged_box=pages.boxes["q14"])
    titles = [ax.get_title() for ax in axes.flat if ax.get_title()]
    assert titles[0].startswith(f"row 0: {labels[0]!r}") and titles[1].startswith(f"row 4: {labels[4]!r}")
    with pytest.raises(ValueError, match="labels has 3 labels"):
        token_heatmaps(page, query, vectors, layout, labels[:3])
    with pytest.raises(ValueError, match="rows must be"):
        token_heatmaps(page, query, vectors, layout, labels, rows=[len(labels)])
    fig, axes = show_patch_grid(page, layout)
    assert len(axes) == 2  # the page with its tiles, and the global view
    fig, axes = page_thumbnails([page, page], ["a", "b"], columns=2)
    assert [ax.get_title() for ax in axes.flat] == ["a", "b"]
    matplotlib.pyplot.close("all")


def _inline_width_pixels(fig) -> int:
    """Width in pixels of the figure as JupyterLab shows it inline: 100 dpi, cropped tight."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return Image.open(buffer).size[0]


def test_every_lesson_figure_fits_950_pixels_and_the_grid_is_not_clipped():
    model = load(models.VISUAL_MODEL)
    pages = load_course_pages()
    images = [load_page(pages.paths[pid]) for pid in pages.page_ids]
    page = images[pages.page_ids.index("p15")]
    layout = page_layout(model, page)
    text = pages.queries["q14"]
    query = next(iter(model.embed_text([text])))
    vectors = next(iter(model.embed_image([page])))
    labels = query_labels(model, text)
    figures = {
        "thumbnails": page_thumbnails(images, pages.page_ids, columns=7)[0],
        "patch grid": show_patch_grid(page, layout)[0],
        "heat maps": token_heatmaps(page, query, vectors, layout, labels, rows=list(range(8)), shared_scale=True,
                                    title="t")[0],
        "one padding row": token_heatmaps(page, query, vectors, layout, labels, rows=[len(labels) - 1])[0],
    }
    widths = {name: _inline_width_pixels(fig) for name, fig in figures.items()}
    assert all(width <= 950 for width in widths.values()), widths
    assert MAX_WIDTH_INCHES * 100 <= 950
    ax = figures["patch grid"].axes[0]  # the edge lines sit inside the axes' limits, not on them
    width, height = layout.size
    assert ax.get_xlim()[0] < 0 and ax.get_xlim()[1] > width and ax.get_ylim()[0] > height
    matplotlib.pyplot.close("all")


def test_token_matches_name_the_kind_of_maxsims_pick():
    model = load(models.VISUAL_MODEL)
    page = Image.new("RGB", (512, 288), "white")
    layout = page_layout(model, page)
    kinds = vector_kinds(layout)
    assert Counter(kinds) == {"tile": 768, "global": 64, "text": len(layout.labels) - 832}
    vectors = np.zeros((len(layout.labels), 8), dtype=np.float32)  # all zero but three rows
    tile_row, global_row, text_row = kinds.index("tile") + 9, kinds.index("global"), kinds.index("text")
    vectors[[tile_row, global_row, text_row], [0, 1, 2]] = 1.0
    best, picked = token_matches(np.eye(3, 8, dtype=np.float32), vectors, layout)
    assert best.tolist() == [tile_row, global_row, text_row] and picked == ["tile", "global", "text"]
    assert matched_patch_box(tile_row, layout) == patch_box(1, 1, layout)  # 9th patch of tile 0: row 1, col 1
    assert matched_patch_box(text_row, layout) is None
    with pytest.raises(ValueError, match="layout names"):
        token_matches(np.eye(3, 8), vectors[:10], layout)
    without = pool_page(vectors, layout, keep_text=False)
    assert len(without) == layout.map_shape[0] + layout.side == len(pool_page(vectors, layout)) - kinds.count("text")


def test_memory_check(monkeypatch, capsys):
    report = memory.check_memory(models.VISUAL_MODEL, available_gib=8.0)  # the session's stand-in
    assert "offline stand-in (nothing to download" in report and report in capsys.readouterr().out
    monkeypatch.setattr(models, "is_standin", lambda name: False)
    report = memory.check_memory(models.VISUAL_MODEL, available_gib=8.0)
    assert "GB download" in report and "8.0 GiB free" in report and report in capsys.readouterr().out
    with pytest.raises(memory.NotEnoughMemoryError, match="USE_COLPALI = False"):
        memory.check_memory(models.COLPALI_MODEL, available_gib=4.0)
    memory.check_memory(models.COLPALI_MODEL, available_gib=64.0)
    with pytest.raises(ValueError, match="model_name"):
        memory.check_memory("BAAI/bge-small-en-v1.5")
    free = memory.available_memory_gib()
    assert free is None or free > 0


def test_word_rows_skip_prompt_padding_and_specials():
    from course_utils.pages.vectors import word_rows

    assert word_rows(["<bos>", "Query", ":", "how", "##s", "?", "<pad>", "\\n"]) == [3, 4]
    assert word_rows(["how", "many", "<end_of_utterance>"]) == [0, 1]
