"""Lesson 7's page-image models: the stand-ins give fastembed's real vector counts and row layout.

The facts compared with are in the course's reference notes (fastembed 0.9.1):
ColPali 1030 vectors per page (1024 patches + 6 prompt tokens), float16, and 21 vectors
for the query "When did dr. Einstein die?"; ColModernVBERT one vector per prompt token,
with 64 image tokens for each of rows x cols tiles and a global view.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw

from course_utils import models
from course_utils.models.standins import multimodal as multimodal_standins
from course_utils.models import standins
from course_utils.pages.vectors import page_layout, patch_map, pool_page, query_labels, tile_grid
from course_utils.pages.files import load_course_pages
from tests.models_fixtures import load

STANDIN_ONLY = pytest.mark.skipif(bool(os.environ.get("COURSE_REAL_MODELS")),
                                  reason="checks the stand-ins; --real-models uses the real models")


def _embed_one(model, image):
    return next(iter(model.embed_image([image]))).astype(np.float32)


@STANDIN_ONLY
def test_both_standins_are_in_the_session_cache_and_small(tmp_path):
    for name in models.VISUAL_MODELS:
        snapshot = models.cached_snapshot(name)
        assert snapshot is not None and (snapshot / standins.MARKER_FILE).exists()
    multimodal_standins.build_multimodal_standins(tmp_path)
    for name in models.VISUAL_MODELS:
        snapshot = models.cached_snapshot(name, tmp_path)
        assert sum(f.stat().st_size for f in snapshot.iterdir()) < 400_000


@pytest.mark.parametrize("size", [(512, 288), (360, 480), (1000, 1000), (640, 200), (120, 900)])
def test_colpali_gives_1030_float16_vectors_per_page(size):
    model = load(models.COLPALI_MODEL)
    vectors = _embed_one(model, Image.new("RGB", size, "white"))
    raw = next(iter(model.embed_image([Image.new("RGB", size, "white")])))
    assert vectors.shape == (1030, 128) and raw.dtype == np.float16
    assert len(page_layout(model, Image.new("RGB", size)).labels) == 1030


def test_colpali_query_count_matches_the_reference_and_depends_on_the_batch():
    model = load(models.COLPALI_MODEL)
    alone = next(iter(model.embed_text(["When did dr. Einstein die?"])))
    assert alone.shape == (21, 128)  # the recorded real-model output
    assert len(query_labels(model, "When did dr. Einstein die?")) == 21
    short_alone = next(iter(model.embed_text(["moon"])))
    short_in_batch = list(model.embed_text(["moon", "When did dr. Einstein die?"]))[0]
    assert len(short_in_batch) == 21 > len(short_alone)  # ColPali keeps the batch's padding rows


@pytest.mark.parametrize("size", [(512, 288), (360, 480), (1000, 1000), (640, 200), (120, 900), (2000, 1414)])
def test_colmodernvbert_tiles_follow_the_real_rule(size):
    model = load(models.VISUAL_MODEL)
    metadata: dict = {}
    model.model.processor([Image.new("RGB", size)], metadata=metadata)
    assert metadata["image_grid"][0] == tile_grid(*size)  # stand-in at 1/8 scale == real 2048/512 rule
    rows, cols = tile_grid(*size)
    layout = page_layout(model, Image.new("RGB", size))
    vectors = _embed_one(model, Image.new("RGB", size, "white"))
    assert len(layout.labels) == len(vectors)
    assert layout.labels.count("<image>") == 64 * (rows * cols + 1)
    assert sum(label.startswith("<row_") for label in layout.labels) == rows * cols


def test_tile_grid_examples():
    assert tile_grid(512, 288) == (3, 4)  # 2048 x 1152 -> 2048 x 1536
    assert tile_grid(360, 480) == (4, 3)
    assert tile_grid(1000, 1000) == (4, 4)  # the most tiles: 16 + the global view = 17
    assert tile_grid(2000, 500) == (1, 4)
    with pytest.raises(ValueError, match="width"):
        tile_grid(0, 10)


@pytest.mark.parametrize("name", models.VISUAL_MODELS)
def test_page_vectors_do_not_depend_on_the_batch(name):
    model = load(name)
    pages = [Image.new("RGB", (512, 288), "white"), Image.new("RGB", (200, 900), "blue")]
    alone = _embed_one(model, pages[0])
    together = next(iter(model.embed_image(pages, batch_size=2))).astype(np.float32)
    np.testing.assert_allclose(alone, together, atol=1e-3)


@pytest.mark.parametrize("name", models.VISUAL_MODELS)
def test_layout_rows_line_up_with_the_patches_they_see(name):
    """A red block in the bottom-right corner changes exactly the local rows that the layout puts there."""
    model = load(name)
    white = Image.new("RGB", (512, 288), "white")
    red = white.copy()
    ImageDraw.Draw(red).rectangle([384, 216, 511, 287], fill="red")
    layout = page_layout(model, red)
    change = np.linalg.norm(_embed_one(model, red) - _embed_one(model, white), axis=1)
    changed = patch_map(change, layout) > 0.01
    rows, cols = layout.map_shape
    expected = np.zeros((rows, cols), dtype=bool)
    expected[int(rows * 216 / 288):, int(cols * 384 / 512):] = True
    assert changed[expected].all()
    # only a one-patch rim of the block blurs over (resampling), nothing far from it changes
    far = np.ones((rows, cols), dtype=bool)
    far[int(rows * 216 / 288) - 1:, int(cols * 384 / 512) - 1:] = False
    assert not changed[far].any()
    text_rows = layout.tile < 0
    assert change[text_rows].max() < 1e-6  # text and marker tokens do not see the image


def test_query_labels_line_up_with_query_vectors():
    model = load(models.VISUAL_MODEL)
    for text in load_course_pages().queries.values():
        labels = query_labels(model, text)
        assert len(labels) == len(next(iter(model.embed_text([text]))))
        assert labels[-10:] == ["<end_of_utterance>"] * 10
    alone = next(iter(model.embed_text(["moon"])))
    in_batch = list(model.embed_text(["moon", "When did dr. Einstein die?"]))[0]
    assert len(alone) == len(in_batch) == len(query_labels(model, "moon"))  # padding rows dropped
    np.testing.assert_allclose(alone, in_batch, atol=1e-5)


def test_pooling_keeps_special_tokens_and_counts():
    colpali = load(models.COLPALI_MODEL)
    page = Image.new("RGB", (512, 288), "white")
    layout = page_layout(colpali, page)
    vectors = _embed_one(colpali, page)
    pooled = pool_page(vectors, layout)
    assert pooled.shape == (38, 128)  # 32 row means + 6 prompt tokens, as in Qdrant's post
    np.testing.assert_allclose(pooled[-6:], vectors[-6:])
    np.testing.assert_allclose(pooled[0], vectors[:32].mean(axis=0), atol=1e-6)
    assert pool_page(vectors, layout, "columns").shape == (38, 128)
    vbert = load(models.VISUAL_MODEL)
    layout = page_layout(vbert, page)
    pooled = pool_page(_embed_one(vbert, page), layout)
    assert pooled.shape == (24 + 8 + int((layout.tile < 0).sum()), 128)
    with pytest.raises(ValueError, match="by"):
        pool_page(vectors, page_layout(colpali, page), by="diagonal")
