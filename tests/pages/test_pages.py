"""The course pages of lesson 7: shipped files match their build script, judgements are sound,
bad input fails clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from course_utils.pages import build as page_images
from course_utils.pages.files import load_course_pages, load_page, load_pages, pages_folder


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    return folder, page_images.build_pages(folder)


def test_shipped_pages_match_the_build_script(rebuilt):
    folder, data = rebuilt
    shipped = json.loads((pages_folder() / "pages.json").read_text(encoding="utf-8"))
    assert shipped == data
    for page in data["pages"]:
        new = np.asarray(Image.open(folder / page["file"]))
        old = np.asarray(Image.open(pages_folder() / page["file"]))
        assert new.shape == old.shape and np.array_equal(new, old), page["file"]
        assert not Image.open(pages_folder() / page["file"]).info.get("Software")  # no metadata to drift


def test_rendering_is_deterministic(rebuilt):
    folder, _ = rebuilt
    pixels, boxes = page_images.render_page(page_images.PAGES[7][4], "landscape")
    assert np.array_equal(pixels, np.asarray(Image.open(folder / "p08.png")))


def test_pages_and_judgements_are_what_the_lesson_needs():
    pages = load_course_pages()
    assert len(pages.page_ids) >= 24 and len(pages.queries) >= 16
    kinds = set(pages.kinds.values())
    assert {"slide", "bar chart", "line chart", "table", "text"} <= kinds
    sizes = {Image.open(path).size for path in pages.page_paths}
    assert any(w > h for w, h in sizes) and any(w < h for w, h in sizes)
    assert all(path.stat().st_size < 60_000 for path in pages.page_paths)
    for query_id, judged in pages.qrels.items():
        (page_id,) = judged
        width, height = Image.open(pages.paths[page_id]).size
        x0, y0, x1, y1 = pages.boxes[query_id]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, query_id
        # the box is not blank: it covers drawn content
        crop = np.asarray(Image.open(pages.paths[page_id]).convert("L"))[y0:y1, x0:x1]
        assert crop.std() > 5, query_id


def test_load_page_returns_rgb_images():
    pages = load_course_pages()
    image = load_page(pages.page_paths[0])
    assert image.mode == "RGB" and image.size == (512, 288)
    assert [im.size for im in load_pages(pages.page_paths[:2])] == [(512, 288), (512, 288)]
    assert load_page(image) is image


def test_bad_page_input_gets_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="path '.*nowhere.png' does not exist"):
        load_page(tmp_path / "nowhere.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="is not an image Pillow can read"):
        load_page(tmp_path / "notes.png")
    Image.new("RGBA", (10, 10)).save(tmp_path / "alpha.png")
    with pytest.raises(ValueError, match="'RGBA' image, not RGB.*convert"):
        load_page(tmp_path / "alpha.png")
    with pytest.raises(ValueError, match="'L' image"):
        load_page(Image.new("L", (4, 4)))
    with pytest.raises(ValueError, match="paths is empty"):
        load_pages([])
    with pytest.raises(ValueError, match=r"paths\[1\] .* does not exist"):
        load_pages([Image.new("RGB", (4, 4)), tmp_path / "missing.png"])
    with pytest.raises(TypeError, match="paths must be a list"):
        load_pages(str(tmp_path / "alpha.png"))
    with pytest.raises(TypeError, match="path must be a file path"):
        load_page(42)
    with pytest.raises(ValueError, match="is a folder"):
        load_page(tmp_path)
