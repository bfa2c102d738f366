"""The course pages of lesson 7, and loading page images with clear errors.

The pages ship with the package (``course_utils/data/pages/``, built by
:mod:`course_utils.pages.build`): 26 PNG pages and 25 queries, each judged by
the page that answers it and the box on that page where the answer is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["CoursePages", "load_course_pages", "load_page", "load_pages", "pages_folder"]


@dataclass(frozen=True)
class CoursePages:
    """The course pages and their judgements.

    Attributes:
        page_ids: page ids in file order (``"p01"`` ...).
        paths: ``{page id: path of its PNG file}``.
        titles: ``{page id: short title}``; kinds: ``{page id: "slide" | "bar chart" | "table" | ...}``.
        queries: ``{query id: text}`` in file order.
        qrels: ``{query id: {page id: 1}}``, the page that answers each query.
        boxes: ``{query id: [x0, y0, x1, y1]}``, where on that page the answer is, in pixels from the top left.
    """

    page_ids: list
    paths: dict
    titles: dict
    kinds: dict
    queries: dict
    qrels: dict
    boxes: dict

    @property
    def page_paths(self) -> list:
        """Paths of the PNG files, in the order of ``page_ids``."""
        return [self.paths[page_id] for page_id in self.page_ids]


def pages_folder() -> Path:
    """The folder of the shipped page images and ``pages.json``."""
    return Path(str(resources.files("course_utils").joinpath("data", "pages")))


def load_course_pages() -> CoursePages:
    """The course pages (see :class:`CoursePages`)."""
    folder = pages_folder()
    data = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
    pages = data["pages"]
    return CoursePages(
        page_ids=[p["id"] for p in pages],
        paths={p["id"]: folder / p["file"] for p in pages},
        titles={p["id"]: p["title"] for p in pages},
        kinds={p["id"]: p["kind"] for p in pages},
        queries={q["id"]: q["text"] for q in data["queries"]},
        qrels={q["id"]: {q["page"]: 1} for q in data["queries"]},
        boxes={q["id"]: list(q["box"]) for q in data["queries"]},
    )


def load_page(path, name: str = "path"):
    """Open one page image and check it: a ``PIL.Image`` in RGB mode, fully read.

    Args:
        path: a file path (``str`` or ``pathlib.Path``), or an already opened ``PIL.Image``.
        name: how error messages call the argument.

    Raises:
        TypeError: ``path`` is neither a path nor a PIL image.
        ValueError: the file does not exist, is not an image Pillow can read, or the image is not
            RGB (for example RGBA, grey-scale "L" or palette "P"): the message says how to convert it.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(path, Image.Image):
        image = path
    elif isinstance(path, (str, os.PathLike)):
        file = Path(path)
        if not file.exists():
            raise ValueError(f"{name} {str(file)!r} does not exist: check the spelling and the folder "
                             f"(the current folder is {os.getcwd()!r})")
        if file.is_dir():
            raise ValueError(f"{name} {str(file)!r} is a folder, not an image file")
        try:
            with Image.open(file) as opened:
                opened.load()
                image = opened.copy()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ValueError(f"{name} {str(file)!r} is not an image Pillow can read (PNG, JPEG, ...): "
                             f"{type(error).__name__}: {error}") from None
    else:
        raise TypeError(f"{name} must be a file path (str or pathlib.Path) or a PIL.Image, got {type(path).__name__}")
    if image.mode != "RGB":
        raise ValueError(f"{name} is a {image.mode!r} image, not RGB; convert it first, e.g. "
                         "load_page(Image.open(file).convert('RGB'))")
    return image


def load_pages(paths) -> list:
    """:func:`load_page` for each of ``paths`` (a list); errors name the item, e.g. ``paths[3]``.

    Raises:
        TypeError: ``paths`` is a single path or not a list/tuple.
        ValueError: ``paths`` is empty, or as :func:`load_page` for an item.
    """
    if isinstance(paths, (str, os.PathLike)) or not isinstance(paths, (list, tuple)):
        raise TypeError(f"paths must be a list of page paths or images, got {type(paths).__name__}; "
                        "for one page, pass [path]")
    if len(paths) == 0:
        raise ValueError("paths is empty: give at least one page image")
    return [load_page(path, f"paths[{i}]") for i, path in enumerate(paths)]
