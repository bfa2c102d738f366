"""Figures for the lessons: token similarity heatmaps and score comparisons.

Every function draws with matplotlib on a given ``ax`` (or a new figure), works
headless (no screen needed) and returns ``(figure, axes)`` so a lesson can add to it.

Every figure a lesson shows stays within :data:`MAX_FIGURE_WIDTH_PX` pixels as
JupyterLab shows it inline (:func:`shown_width`), so that it is shown at 100% in a
laptop's 1,366 px window; the notebook tests check every figure of every lesson
(``tests/notebook_items.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from course_utils.scoring.maxsim import as_token_vectors

__all__ = ["MAX_FIGURE_WIDTH_PX", "MAX_FIGURE_WIDTH_INCHES", "score_bars", "shown_width", "similarity_heatmap"]

#: Widest figure a lesson may show, in pixels as shown inline (JupyterLab shows it unscaled in a 1,366 px window).
MAX_FIGURE_WIDTH_PX = 950
#: A ``figsize`` width (inches, at matplotlib's default 100 dpi: 920 px) whose figure stays within the limit
#: with tight cropping's 0.1 inch pads, when nothing is drawn outside the figure (lessons 1 and 7 use it).
MAX_FIGURE_WIDTH_INCHES = 9.2


def shown_width(fig) -> int:
    """The width in pixels of ``fig`` as the notebook shows it inline.

    Renders the PNG the inline backend makes (``bbox_inches="tight"`` at the
    figure's own dpi, as ``IPython.core.pylabtools.print_figure``) and reads its
    width from the PNG header.
    """
    import io

    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    header = buffer.getvalue()[:24]
    return int.from_bytes(header[16:20], "big")


def _figure_and_axes(ax, size: tuple[float, float]):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    return fig, ax


def _check_labels(labels, count: int, name: str, rows: str) -> list[str]:
    if labels is None:
        return [str(i) for i in range(count)]
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise ValueError(f"{name} has {len(labels)} labels but there are {count} {rows}: "
                         "use course_utils.token_labels to get labels aligned with the vectors")
    return labels


def similarity_heatmap(query, document, query_labels: Sequence[str] | None = None,
                       document_labels: Sequence[str] | None = None, *, ax=None, title: str | None = None,
                       cmap: str = "viridis", row_name: str = "query tokens", column_name: str = "document tokens",
                       vmin: float | None = None, vmax: float | None = None):
    """Heatmap of all query-token x document-token dot products, best match of each query token marked.

    Args:
        query: ``(q, dim)`` token vectors (one row of the heatmap each).
        document: ``(d, dim)`` token vectors (one column each).
        query_labels: ``q`` labels for the rows (default: row numbers).
        document_labels: ``d`` labels for the columns.
        ax: matplotlib axes to draw on (default: a new figure sized to the labels).
        title: text before the MaxSim value in the title.
        row_name, column_name: axis titles (for comparing two documents, say which is which).
        vmin, vmax: ends of the colour scale (default: the smallest and largest value shown);
            ``vmax=1`` makes "as similar as an exact copy" the brightest colour for unit vectors.

    Returns:
        ``(figure, axes)``. The title ends with ``MaxSim = <sum of row maxima>``;
        a white square marks each row's maximum.

    Raises:
        ValueError: bad vectors (see ``as_token_vectors``) or label counts that do not match.
    """
    q = as_token_vectors(query, "query")
    d = as_token_vectors(document, "document", q.shape[1])
    sims = q @ d.T
    rows = _check_labels(query_labels, len(q), "query_labels", "query vectors")
    cols = _check_labels(document_labels, len(d), "document_labels", "document vectors")
    width = min(MAX_FIGURE_WIDTH_INCHES, max(4.0, 0.38 * len(cols) + 2.5))
    fig, ax = _figure_and_axes(ax, (width, max(3.0, 0.28 * len(rows) + 1.5)))
    image = ax.imshow(sims, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    fig.colorbar(image, ax=ax, label="dot product")
    best = sims.argmax(axis=1)
    ax.scatter(best, np.arange(len(rows)), marker="s", s=60, facecolors="none", edgecolors="white",
               linewidths=1.5, label="best match of the query token")
    # more columns than fit 8-point labels in the widest figure: smaller labels (never below 6 points)
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=8 if len(cols) <= 17 else 6)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel(column_name)
    ax.set_ylabel(row_name)
    score = float(sims.max(axis=1).sum())
    ax.set_title(f"{title + ': ' if title else ''}MaxSim = {score:.3f}")
    return fig, ax


def score_bars(scores: Mapping[str, float] | Sequence[float], labels: Sequence[str] | None = None, *,
               ax=None, title: str = "Scores", xlabel: str = "score", highlight: bool = True):
    """Horizontal bar chart comparing the scores of several documents; the best bar is highlighted.

    Args:
        scores: ``{label: score}``, or a sequence of scores with ``labels``.
        labels: one label per score when ``scores`` is a sequence.
        highlight: colour the highest bar orange (turn off when the bars are not competing documents).

    Returns:
        ``(figure, axes)``; bars are in input order, top to bottom, with their values printed.
    """
    if isinstance(scores, Mapping):
        labels, values = list(scores.keys()), list(scores.values())
    else:
        values = list(scores)
        labels = _check_labels(labels, len(values), "labels", "scores")
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError("scores must hold at least one number")
    if not np.isfinite(values).all():
        raise ValueError("scores contains NaN or infinity")
    fig, ax = _figure_and_axes(ax, (6.5, (0.5 if len(values) <= 8 else 0.26) * len(values) + 1.2))
    colours = ["tab:orange" if highlight and i == values.argmax() else "tab:blue" for i in range(len(values))]
    positions = np.arange(len(values))
    ax.barh(positions, values, color=colours)
    ax.set_yticks(positions, [_shorten(str(label)) for label in labels])
    ax.invert_yaxis()
    for y, value in zip(positions, values):
        ax.annotate(f"{value:.3g}", (value, y), xytext=(3 if value >= 0 else -3, 0),
                    textcoords="offset points", va="center", ha="left" if value >= 0 else "right", fontsize=8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.margins(x=0.18)  # room for the printed values
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return fig, ax


def _shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"
