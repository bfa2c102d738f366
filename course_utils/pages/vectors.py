"""Which vector of a page is which: tiles, patch grids, labels, heat maps, pooling (lesson 7).

fastembed's ``LateInteractionMultimodalEmbedding.embed_image`` returns one
``(n, 128)`` array per page and says nothing about its rows. This module works
out, with the model's own processor and tokenizer, what each row is:

- ``Qdrant/colpali-v1.3-fp16``: rows 0..1023 are a 32 x 32 grid of patches of the
  page (squeezed to a square), row-major; rows 1024..1029 the prompt
  ``<bos>Describe the image.\\n``.
- ``Qdrant/colmodernvbert``: the prompt's text tokens, then for each tile (row by
  row, then the global view) a marker token or two and 64 ``<image>`` tokens (an
  8 x 8 grid of that tile), then more text tokens.

:func:`page_layout` returns that as a :class:`PageLayout`, so that
``len(page_layout(model, page).labels) == len(next(model.embed_image([page])))``
and label ``i`` names row ``i``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PageLayout",
    "matched_patch_box",
    "page_layout",
    "patch_box",
    "patch_map",
    "pool_page",
    "query_labels",
    "tile_grid",
    "token_matches",
    "vector_kinds",
    "word_rows",
]

#: Labels of the 6 prompt ids that fastembed appends to ColPali's 1024 image tokens.
COLPALI_PROMPT_LABELS = ("<bos>", "Describe", "the", "image", ".", "\\n")
#: Label of an image-token row.
IMAGE_TOKEN = "<image>"


def tile_grid(width: int, height: int, longest_edge: int = 2048, tile: int = 512) -> tuple[int, int]:
    """(rows, cols) of tiles ColModernVBERT cuts a ``width`` x ``height`` page into (plus one global view).

    fastembed's rule: resize so the long edge is ``longest_edge`` (shorter edge
    truncated, both made even), then round each side up to a multiple of ``tile``.

    Raises:
        ValueError: if a size is not a positive whole number.
    """
    for name, value in (("width", width), ("height", height), ("longest_edge", longest_edge), ("tile", tile)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number of pixels, got {value!r}")
    if width >= height:
        w, h = longest_edge, int(longest_edge / (width / height))
    else:
        w, h = int(longest_edge * (width / height)), longest_edge
    w, h = max(1, w + w % 2), max(1, h + h % 2)
    if w >= h:
        new_w = math.ceil(w / tile) * tile
        new_h = math.ceil(int(new_w / (w / h)) / tile) * tile
    else:
        new_h = math.ceil(h / tile) * tile
        new_w = math.ceil(int(new_h * (w / h)) / tile) * tile
    if new_w <= tile and new_h <= tile:
        return (0, 0)
    return (math.ceil(new_h / tile), math.ceil(new_w / tile))


@dataclass(frozen=True)
class PageLayout:
    """What each of a page's ``n`` vectors is.

    Attributes:
        labels: ``n`` token labels, ``labels[i]`` names vector ``i``.
        tile: int64 ``(n,)``, tile of each image-token vector (-1 for text and marker tokens).
            Tiles are numbered row by row; ColModernVBERT's global view is the last tile.
        row, col: int64 ``(n,)``, the patch's row and column inside its tile's grid (-1 if not an image token).
        grid: ``(rows, cols)`` of local tiles over the page (ColPali: ``(1, 1)``).
        side: patches per tile side (ColPali 32, ColModernVBERT 8).
        has_global: True when the last tile is a global view of the whole page (ColModernVBERT).
        size: ``(width, height)`` of the page image in pixels.
    """

    labels: list
    tile: np.ndarray
    row: np.ndarray
    col: np.ndarray
    grid: tuple
    side: int
    has_global: bool
    size: tuple

    @property
    def local(self) -> np.ndarray:
        """bool ``(n,)``: True for image tokens of the local tiles (the ones that cover the page)."""
        n_local = self.grid[0] * self.grid[1]
        return (self.tile >= 0) & (self.tile < n_local)

    @property
    def map_shape(self) -> tuple[int, int]:
        """(rows, cols) of the patch map over the page: ``grid * side``."""
        return (self.grid[0] * self.side, self.grid[1] * self.side)

    def page_row_col(self) -> tuple[np.ndarray, np.ndarray]:
        """int64 ``(n,)`` row and column of each vector in the page's patch map (-1 outside it)."""
        local = self.local
        tile_row, tile_col = np.divmod(np.where(local, self.tile, 0), self.grid[1])
        rows = np.where(local, tile_row * self.side + self.row, -1)
        cols = np.where(local, tile_col * self.side + self.col, -1)
        return rows, cols


def _inner(model):
    inner = getattr(model, "model", model)
    if not hasattr(inner, "processor") or not hasattr(inner, "tokenizer"):
        raise ValueError(f"model must be a fastembed LateInteractionMultimodalEmbedding, got {type(model).__name__}")
    if inner.processor is None or inner.tokenizer is None:
        inner.load_onnx_model()
    return inner


def _image_token_positions(count: int, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = np.arange(count)
    tile, within = np.divmod(k, side * side)
    row, col = np.divmod(within, side)
    return tile, row, col


def page_layout(model, image) -> PageLayout:
    """The :class:`PageLayout` of ``image`` (a ``PIL.Image``) as ``model`` embeds it.

    Raises:
        ValueError: if ``model`` is not a fastembed multimodal model, or ``image`` not a PIL image.
    """
    from PIL import Image

    if not isinstance(image, Image.Image):
        raise ValueError("image must be a PIL.Image (use course_utils.pages.files.load_page), "
                         f"got {type(image).__name__}")
    inner = _inner(model)
    if hasattr(inner, "_build_input_ids_for_image"):  # ColModernVBERT
        metadata: dict = {}
        inner.processor([image], metadata=metadata)
        rows, cols = metadata["image_grid"][0]
        ids = [int(i) for i in inner._build_input_ids_for_image(rows, cols)]
        labels = [inner.tokenizer.id_to_token(i) for i in ids]
        side = int(round(math.sqrt(inner.image_seq_len)))
        grid, has_global = ((rows, cols), True) if rows else ((1, 1), False)
    else:  # ColPali
        labels = [IMAGE_TOKEN] * (len(inner.EMPTY_TEXT_PLACEHOLDER) - 6) + list(COLPALI_PROMPT_LABELS)
        side, grid, has_global = int(round(math.sqrt(len(labels) - 6))), (1, 1), False
    is_image = np.array([label == IMAGE_TOKEN for label in labels])
    tile, row, col = (np.full(len(labels), -1, dtype=np.int64) for _ in range(3))
    t, r, c = _image_token_positions(int(is_image.sum()), side)
    tile[is_image], row[is_image], col[is_image] = t, r, c
    return PageLayout(labels, tile, row, col, grid, side, has_global, image.size)


def query_labels(model, text: str) -> list[str]:
    """Labels of the vectors ``model.embed_text([text])`` returns, row for row.

    ColModernVBERT: the query's tokens and 10 ``<end_of_utterance>`` (padding dropped).
    ColPali: ``<bos>``, ``Query``, then the tokens of ``": " + text``, 10 ``<pad>`` and a newline
    (fastembed overwrites the first two ids). Embed ColPali queries one at a time: in a
    batch, shorter queries also get the batch's padding rows.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be one string, got {type(text).__name__}")
    inner = _inner(model)
    encoding = inner.tokenize([text])[0]
    tokens = [t for t, m in zip(encoding.tokens, encoding.attention_mask) if m]
    if not hasattr(inner, "_build_input_ids_for_image"):
        tokens = ["<bos>", "Query"] + tokens[2:]
    return ["\\n" if t == "\n" else t for t in tokens]


def word_rows(labels) -> list[int]:
    """Row numbers of ``labels`` that are words of the query: not padding, prompt or special tokens."""
    return [i for i, label in enumerate(labels) if any(ch.isalpha() for ch in label)
            and not label.startswith(("<", "\\")) and not (label == "Query" and i == 1)]


def patch_map(similarities, layout: PageLayout) -> np.ndarray:
    """float ``(R, C)`` map of ``similarities`` over the page's patches, ``R, C = layout.map_shape``.

    Args:
        similarities: ``(n,)``, one value per page vector (e.g. one query token's dot products).

    Returns:
        ``m`` with ``m[r, c]`` = the value of the local image token at page row ``r``, column ``c``.
    """
    values = np.asarray(similarities, dtype=np.float64)
    if values.shape != (len(layout.labels),):
        raise ValueError(f"similarities must have shape ({len(layout.labels)},), one per page vector, "
                         f"got {values.shape}")
    rows, cols = layout.page_row_col()
    grid = np.full(layout.map_shape, np.nan)
    grid[rows[layout.local], cols[layout.local]] = values[layout.local]
    return grid


def patch_box(row: int, col: int, layout: PageLayout) -> list[float]:
    """``[x0, y0, x1, y1]`` in page pixels of the patch at ``(row, col)`` of the page's patch map."""
    height_cells, width_cells = layout.map_shape
    width, height = layout.size
    return [col * width / width_cells, row * height / height_cells,
            (col + 1) * width / width_cells, (row + 1) * height / height_cells]


def vector_kinds(layout: PageLayout) -> list[str]:
    """What each page vector is, as MaxSim can pick it: ``"tile"``, ``"global"`` or ``"text"``.

    ``"tile"``: an image vector of a local tile (a place on the page); ``"global"``: an image vector
    of ColModernVBERT's global view (the whole page squeezed into one tile); ``"text"``: a prompt,
    marker or other text token. Returns ``n`` strings, one per page vector.
    """
    global_tile = layout.grid[0] * layout.grid[1] if layout.has_global else -2
    return ["tile" if local else "global" if tile == global_tile else "text"
            for local, tile in zip(layout.local.tolist(), layout.tile.tolist())]


def token_matches(query_vectors, page_vectors, layout: PageLayout) -> tuple[np.ndarray, list[str]]:
    """MaxSim's choice for each query vector: the page vector it matches best, and what that vector is.

    Args:
        query_vectors: ``(q, dim)``; page_vectors: ``(n, dim)`` with ``n == len(layout.labels)``.

    Returns:
        ``(best, kinds)``: int64 ``(q,)`` row of the page vector with the highest dot product for each
        query vector (MaxSim adds exactly these maxima), and ``q`` kinds from :func:`vector_kinds`.

    Raises:
        ValueError: if the arrays are not 2-d, their sizes differ, or ``page_vectors`` does not match
            the layout.
    """
    q = np.asarray(query_vectors, dtype=np.float32)
    d = np.asarray(page_vectors, dtype=np.float32)
    if q.ndim != 2 or d.ndim != 2 or q.shape[1] != d.shape[1]:
        raise ValueError(f"query_vectors (q, dim) and page_vectors (n, dim) must be 2-d with the same dim, got "
                         f"{q.shape} and {d.shape}")
    if len(d) != len(layout.labels):
        raise ValueError(f"page_vectors has {len(d)} rows but the layout names {len(layout.labels)}: use the "
                         "layout of this page")
    best = np.argmax(q @ d.T, axis=1).astype(np.int64)
    kinds = vector_kinds(layout)
    return best, [kinds[i] for i in best]


def matched_patch_box(page_row: int, layout: PageLayout) -> list[float] | None:
    """Box in page pixels of page vector ``page_row`` if it is a local tile's patch, else None."""
    if not layout.local[page_row]:
        return None
    rows, cols = layout.page_row_col()
    return patch_box(int(rows[page_row]), int(cols[page_row]), layout)


def pool_page(page_vectors, layout: PageLayout, by: str = "rows", keep_text: bool = True) -> np.ndarray:
    """Mean-pool a page's patch vectors by row (or column) of each tile grid, keeping every other vector.

    The local tiles are pooled over the page's patch map (one vector per page row,
    or column), the global view over its own grid; text and marker tokens are kept
    as they are, in their order, after the pooled vectors (unless ``keep_text`` is False:
    then only the pooled image vectors are returned).

    Returns:
        float32 ``(p, dim)``: ``p = map rows (+ global rows) + other tokens`` for ``by="rows"``.
    """
    if by not in ("rows", "columns"):
        raise ValueError(f"by must be 'rows' or 'columns', got {by!r}")
    d = np.asarray(page_vectors, dtype=np.float32)
    if d.ndim != 2 or len(d) != len(layout.labels):
        raise ValueError(f"page_vectors must have shape ({len(layout.labels)}, dim), got {d.shape}")
    rows, cols = layout.page_row_col()
    key = rows if by == "rows" else cols
    pooled = [d[layout.local & (key == k)].mean(axis=0) for k in range(layout.map_shape[0 if by == "rows" else 1])]
    if layout.has_global:
        in_global = layout.tile == layout.grid[0] * layout.grid[1]
        local_key = layout.row if by == "rows" else layout.col
        pooled += [d[in_global & (local_key == k)].mean(axis=0) for k in range(layout.side)]
    others = d[layout.tile < 0] if keep_text else d[:0]
    return np.vstack([np.array(pooled, dtype=np.float32), others]).astype(np.float32)
