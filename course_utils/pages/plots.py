"""Figures of lesson 7: how a page is cut into tiles and patches, and where on it each query token matches.

Every function draws with matplotlib, works headless and returns ``(figure, axes)``. Every figure is
at most ``MAX_WIDTH_INCHES`` wide: at the inline dpi of 100 that is at most 940 pixels after cropping, so that
JupyterLab shows it at full size beside the notebook's margins in a 1,366-pixel window.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.pages.vectors import PageLayout, patch_box, patch_map

__all__ = ["MAX_WIDTH_INCHES", "page_thumbnails", "show_patch_grid", "token_heatmaps"]

#: Widest figure, in inches (x 100 dpi inline = 920 pixels, plus matplotlib's 0.1-inch crop padding).
MAX_WIDTH_INCHES = 9.2


def show_patch_grid(image, layout: PageLayout, *, title: str | None = None):
    """The page with its tiles (thick lines) and patches (thin lines) as the model cuts it.

    For ColModernVBERT, a second panel shows the global view (the whole page squeezed to one tile).
    """
    import matplotlib.pyplot as plt

    panels = 2 if layout.has_global else 1
    width, height = layout.size
    ratios = [width / height, 1.0][:panels]
    panel_height = min(3.4, (MAX_WIDTH_INCHES - 0.4) / sum(ratios))
    fig, axes = plt.subplots(1, panels, figsize=(min(MAX_WIDTH_INCHES, panel_height * sum(ratios) + 0.4),
                                                 panel_height + 0.4), layout="constrained",
                             gridspec_kw={"width_ratios": ratios})
    axes = np.atleast_1d(axes)
    rows, cols = layout.map_shape
    ax = axes[0]
    ax.imshow(image, extent=(0, width, height, 0))
    for r in range(rows + 1):
        ax.axhline(r * height / rows, color="#1565c0", lw=1.6 if r % layout.side == 0 else 0.3)
    for c in range(cols + 1):
        ax.axvline(c * width / cols, color="#1565c0", lw=1.6 if c % layout.side == 0 else 0.3)
    margin = 0.01 * max(width, height)  # room for the edge lines, which would be cut in half at the border
    ax.set_xlim(-margin, width + margin)
    ax.set_ylim(height + margin, -margin)
    ax.set_title(title or f"{layout.grid[0]} x {layout.grid[1]} tiles of {layout.side} x {layout.side} patches",
                 fontsize=9)
    ax.set_axis_off()
    if layout.has_global:
        axes[1].imshow(image.resize((256, 256)), extent=(0, 1, 1, 0))
        for k in range(layout.side + 1):
            axes[1].axhline(k / layout.side, color="#ef6c00", lw=0.4)
            axes[1].axvline(k / layout.side, color="#ef6c00", lw=0.4)
        axes[1].set_xlim(-0.01, 1.01)
        axes[1].set_ylim(1.01, -0.01)
        axes[1].set_title(f"global view: {layout.side} x {layout.side} patches", fontsize=9)
        axes[1].set_axis_off()
    return fig, axes


def _draw_box(ax, box, colour: str, style: str = "-", width: float = 1.8) -> None:
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = box
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour, lw=width, linestyle=style))


def _ring(ax, box, page_size) -> None:
    """A thin cyan ring around ``box``, a few patches wide: it marks the patch and leaves its text visible."""
    from matplotlib.patches import Ellipse

    x0, y0, x1, y1 = box
    radius = 0.06 * max(page_size)
    for colour, line in (("black", 2.2), ("cyan", 1.2)):  # a dark halo keeps the ring visible on light pages
        ax.add_patch(Ellipse(((x0 + x1) / 2, (y0 + y1) / 2), 2 * radius, 2 * radius, fill=False,
                             edgecolor=colour, lw=line))


def _panel_grid(panels: int, columns: int) -> tuple[int, int]:
    """(rows, columns) of a grid of ``panels`` panels, at most ``columns`` wide."""
    n_cols = min(columns, panels)
    return -(-panels // n_cols), n_cols


def _panels_size(panels: int, columns: int, page_size, colour_bar: bool) -> tuple[float, float]:
    """Figure size (inches) of the heat-map panels: at most ``MAX_WIDTH_INCHES`` wide, colour bar included."""
    n_rows, n_cols = _panel_grid(panels, columns)
    width, height = page_size
    bar = 0.9 if colour_bar else 0.0
    panel_width = min(4.5 if n_cols == 1 else 3.2, (MAX_WIDTH_INCHES - bar) / n_cols)
    return panel_width * n_cols + bar, (panel_width * height / width + 0.3) * n_rows + 0.4


def token_heatmaps(image, query_vectors, page_vectors, layout: PageLayout, labels: Sequence[str],
                   rows: Sequence[int] | None = None, *, judged_box=None, columns: int = 3, title: str | None = None,
                   shared_scale: bool = False):
    """For each chosen query token, its similarity with every local patch, drawn over the page.

    Panel ``i`` shows query row ``rows[i]`` and is titled ``labels[rows[i]]``: the labels must
    line up with the query's vectors (use ``course_utils.pages.vectors.query_labels``). The patch
    that token matches best among the local patches gets a thin cyan ring around it (wider than
    the patch, so it is easy to find, and open, so the text under it stays readable; cyan is not
    a colour of the map); the judged answer box, if given, a dashed red outline. The best local
    patch need not be the token's MaxSim choice: that may be a global-view or text vector
    (``course_utils.pages.vectors.token_matches`` says which).

    Args:
        query_vectors: ``(q, dim)``; page_vectors: ``(n, dim)``, as fastembed returned them.
        labels: ``q`` labels, one per query vector.
        rows: which query rows to draw (default: every row that is not padding).
        shared_scale: one colour scale for all panels (with a colour bar); by default each panel
            spans its own lowest to highest value, which shows *where* each token matches best.

    Raises:
        ValueError: if ``labels`` does not have one label per query vector, or a row is out of range.
    """
    import matplotlib.pyplot as plt

    q = np.asarray(query_vectors, dtype=np.float32)
    d = np.asarray(page_vectors, dtype=np.float32)
    if len(labels) != len(q):
        raise ValueError(f"labels has {len(labels)} labels but the query has {len(q)} vectors: use "
                         "course_utils.pages.vectors.query_labels(model, text) to get one label per vector")
    if rows is None:
        rows = [i for i, label in enumerate(labels) if label not in ("<end_of_utterance>", "<pad>", "\\n")]
    rows = list(rows)
    if not rows or any(not 0 <= r < len(q) for r in rows):
        raise ValueError(f"rows must be query row numbers between 0 and {len(q) - 1}, got {rows}")
    sims = q[rows] @ d.T
    maps = [patch_map(s, layout) for s in sims]
    low, high = float(np.nanmin(maps)), float(np.nanmax(maps))
    width, height = layout.size
    fig, axes = plt.subplots(*_panel_grid(len(rows), columns), figsize=_panels_size(len(rows), columns, layout.size,
                                                                                   shared_scale),
                             layout="constrained", squeeze=False)
    for ax in axes.flat[len(rows):]:
        ax.set_axis_off()
    for ax, row, grid in zip(axes.flat, rows, maps):
        ax.imshow(image, extent=(0, width, height, 0))
        scale = (low, high) if shared_scale else (float(np.nanmin(grid)), float(np.nanmax(grid)))
        shown = ax.imshow(grid, extent=(0, width, height, 0), cmap="magma", alpha=0.6, vmin=scale[0], vmax=scale[1],
                          interpolation="nearest")
        _ring(ax, patch_box(*np.unravel_index(np.nanargmax(grid), grid.shape), layout), layout.size)
        if judged_box is not None:
            _draw_box(ax, judged_box, "red", "--")
        ax.set_title(f"row {row}: {labels[row]!r}" + ("" if shared_scale else f"  ({scale[0]:.2f} to {scale[1]:.2f})"),
                     fontsize=8)
        ax.set_axis_off()
    if shared_scale:
        fig.colorbar(shown, ax=axes, shrink=0.7, label="dot product")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig, axes


def page_thumbnails(images, titles: Sequence[str], *, columns: int = 6):
    """The pages side by side, each titled (e.g. with its id and kind)."""
    import matplotlib.pyplot as plt

    if len(images) != len(titles) or not images:
        raise ValueError(f"images and titles must be non-empty and of the same length, got {len(images)} "
                         f"and {len(titles)}")
    n_rows = -(-len(images) // columns)
    cell = min(2.0, MAX_WIDTH_INCHES / columns)
    fig, axes = plt.subplots(n_rows, columns, figsize=(cell * columns, 0.9 * cell * n_rows), layout="constrained",
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, title in zip(axes.flat, images, titles):
        thumbnail = image.copy()
        thumbnail.thumbnail((240, 240))  # drawing small copies keeps the figure quick
        ax.imshow(thumbnail)
        ax.set_title(title, fontsize=7)
    return fig, axes
