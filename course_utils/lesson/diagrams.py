"""Diagrams of lesson 1, drawn with matplotlib (no image files).

- :func:`interaction_paradigms`: no, early and late interaction side by side;
- :func:`pooled_vs_token_vectors`: one pooled vector versus one vector per token,
  drawn from real token vectors;
- :func:`indexing_and_search`: the offline indexing and online search pipelines.

Each returns ``(figure, axes)``.
"""

from __future__ import annotations

import numpy as np

from course_utils.lesson.plots import MAX_FIGURE_WIDTH_INCHES

__all__ = ["DOCUMENT_COLOUR", "MODEL_COLOUR", "QUERY_COLOUR", "SCORE_COLOUR", "indexing_and_search",
           "interaction_paradigms", "pooled_vs_token_vectors"]

QUERY_COLOUR = "#cfe2ff"
DOCUMENT_COLOUR = "#d1e7dd"
MODEL_COLOUR = "#fff3cd"
SCORE_COLOUR = "#f8d7da"


def _box(ax, x: float, y: float, text: str, colour: str, width: float = 0.26, height: float = 0.09) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.01",
                                facecolor=colour, edgecolor="black", linewidth=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "linewidth": 1.0})


def _vectors(ax, x: float, y: float, rows: int, colour: str, width: float = 0.2) -> None:
    """A stack of ``rows`` thin bars standing for vectors, centred on (x, y)."""
    from matplotlib.patches import Rectangle

    height = 0.018
    top = y + rows * height / 2
    for i in range(rows):
        ax.add_patch(Rectangle((x - width / 2, top - (i + 1) * height), width, height * 0.8,
                               facecolor=colour, edgecolor="black", linewidth=0.5))


def _blank(ax, title: str) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def interaction_paradigms():
    """Three panels: when do the query and the document meet?

    Returns:
        ``(figure, axes)`` with three axes: no interaction (dense vectors),
        early interaction (cross-encoder), late interaction (ColBERT).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(MAX_FIGURE_WIDTH_INCHES, 3.6), layout="constrained")
    titles = ["No interaction\n(dense bi-encoder)", "Early interaction\n(cross-encoder)",
              "Late interaction\n(ColBERT)"]
    for ax, title in zip(axes, titles):
        _blank(ax, title)
    # no interaction: two encoders, one vector each, a dot product
    ax = axes[0]
    for x, text, colour in [(0.25, "query", QUERY_COLOUR), (0.75, "document", DOCUMENT_COLOUR)]:
        _box(ax, x, 0.1, text, colour)
        _box(ax, x, 0.35, "encoder", MODEL_COLOUR)
        _arrow(ax, (x, 0.15), (x, 0.3))
        _vectors(ax, x, 0.58, 1, colour)
        _arrow(ax, (x, 0.4), (x, 0.56))
        _arrow(ax, (x, 0.61), (0.5, 0.76))
    ax.text(0.5, 0.53, "one vector\neach", ha="center", fontsize=8)
    _box(ax, 0.5, 0.82, "dot product", SCORE_COLOUR)
    # early interaction: one model reads both texts together
    ax = axes[1]
    _box(ax, 0.3, 0.1, "query", QUERY_COLOUR, width=0.22)
    _box(ax, 0.7, 0.1, "document", DOCUMENT_COLOUR, width=0.22)
    _box(ax, 0.5, 0.45, "one model reads\nboth texts together", MODEL_COLOUR, width=0.5, height=0.16)
    _arrow(ax, (0.3, 0.15), (0.42, 0.37))
    _arrow(ax, (0.7, 0.15), (0.58, 0.37))
    _box(ax, 0.5, 0.82, "relevance score", SCORE_COLOUR)
    _arrow(ax, (0.5, 0.53), (0.5, 0.77))
    ax.text(0.5, 0.66, "nothing can be computed\nbefore the query arrives", ha="center", fontsize=7.5,
            style="italic")
    # late interaction: two encoders, many vectors each, MaxSim
    ax = axes[2]
    for x, text, colour, rows in [(0.25, "query", QUERY_COLOUR, 5), (0.75, "document", DOCUMENT_COLOUR, 8)]:
        _box(ax, x, 0.1, text, colour)
        _box(ax, x, 0.35, "encoder", MODEL_COLOUR)
        _arrow(ax, (x, 0.15), (x, 0.3))
        _vectors(ax, x, 0.58, rows, colour)
        _arrow(ax, (x, 0.4), (x, 0.49))
        _arrow(ax, (x, 0.67), (0.5, 0.77))
    ax.text(0.5, 0.55, "one vector\nper token", ha="center", fontsize=8)
    _box(ax, 0.5, 0.82, "MaxSim", SCORE_COLOUR)
    return fig, axes


def pooled_vs_token_vectors(labels, token_vectors, dims: int = 24):
    """One pooled vector versus one vector per token, from real token vectors.

    Args:
        labels: ``n`` token labels.
        token_vectors: ``(n, dim)`` token vectors of one text.
        dims: how many leading dimensions to draw.

    Returns:
        ``(figure, axes)``: left, the ``n`` token vectors as heatmap rows (what
        late interaction stores); right, their mean rescaled to length 1 (a
        pooled single vector, on the same scale as one token vector: what it
        loses is which token said what, not the size of the numbers).
    """
    import matplotlib.pyplot as plt

    vectors = np.asarray(token_vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(labels) != len(vectors):
        raise ValueError(f"labels ({len(labels)}) and token_vectors (shape {vectors.shape}) must match row for row")
    shown = vectors[:, :dims]
    mean = vectors.mean(axis=0)
    pooled = (mean / (np.linalg.norm(mean) or 1.0))[None, :dims]  # rescaled, as dense models output unit vectors
    limit = float(np.abs(shown).max()) or 1.0
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(MAX_FIGURE_WIDTH_INCHES, 0.3 * len(labels) + 1.6), layout="constrained",
        gridspec_kw={"width_ratios": [1, 1]})
    left.imshow(shown, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    left.set_yticks(range(len(labels)), labels, fontsize=8)
    left.set_xlabel(f"first {shown.shape[1]} of {vectors.shape[1]} dimensions")
    left.set_title(f"Late interaction keeps {len(labels)} vectors, one per token", fontsize=10)
    image = right.imshow(pooled, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    right.set_yticks([0], ["mean, length 1"], fontsize=8)
    right.set_xlabel(f"first {shown.shape[1]} of {vectors.shape[1]} dimensions")
    right.set_title("Pooling keeps 1 vector for the whole text", fontsize=10)
    right.set_box_aspect(0.08)
    fig.colorbar(image, ax=[left, right], shrink=0.6, label="value")
    return fig, (left, right)


def indexing_and_search():
    """The two pipelines of late-interaction search.

    Returns:
        ``(figure, axes)``: top row indexing (offline, once per document), bottom
        row search (online, once per query).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(MAX_FIGURE_WIDTH_INCHES, 3.4), layout="constrained")
    _blank(ax, "Indexing happens once, ahead of time; search happens for every query")
    ax.set_xlim(-0.01, 1.0)  # the boxes' rounded edges at x = 0 stay inside
    top, bottom = 0.75, 0.28
    ax.text(0.0, top + 0.13, "INDEXING (offline)", fontsize=9, weight="bold")
    ax.text(0.0, bottom + 0.13, "SEARCH (online)", fontsize=9, weight="bold")
    steps_top = [(0.09, "documents", DOCUMENT_COLOUR), (0.33, "ColBERT encoder\n(passage_embed)", MODEL_COLOUR)]
    for x, text, colour in steps_top:
        _box(ax, x, top, text, colour, width=0.16, height=0.14)
    _arrow(ax, (0.17, top), (0.25, top))
    _vectors(ax, 0.55, top, 6, DOCUMENT_COLOUR, width=0.1)
    ax.text(0.55, top - 0.14, "one vector per token", ha="center", fontsize=7.5)
    _arrow(ax, (0.41, top), (0.49, top))
    _box(ax, 0.8, top, "multi-vector index\n(stored once)", "#e2e3e5", width=0.18, height=0.14)
    _arrow(ax, (0.61, top), (0.71, top))
    _box(ax, 0.09, bottom, "query", QUERY_COLOUR, width=0.16, height=0.14)
    _box(ax, 0.33, bottom, "ColBERT encoder\n(query_embed)", MODEL_COLOUR, width=0.16, height=0.14)
    _arrow(ax, (0.17, bottom), (0.25, bottom))
    _vectors(ax, 0.55, bottom, 4, QUERY_COLOUR, width=0.1)
    ax.text(0.55, bottom - 0.12, "32 query vectors", ha="center", fontsize=7.5)
    _arrow(ax, (0.41, bottom), (0.49, bottom))
    _box(ax, 0.8, bottom, "MaxSim against\nstored vectors", SCORE_COLOUR, width=0.18, height=0.14)
    _arrow(ax, (0.61, bottom), (0.71, bottom))
    _arrow(ax, (0.8, top - 0.07), (0.8, bottom + 0.07))
    _box(ax, 0.95, bottom, "top-k\nresults", "#e2e3e5", width=0.07, height=0.14)  # inside the axes, pad too
    _arrow(ax, (0.89, bottom), (0.915, bottom))
    return fig, ax
