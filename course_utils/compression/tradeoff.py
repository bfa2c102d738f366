"""The storage/quality trade-off chart of lesson 6: bytes per passage (log scale) against quality.

``plot_tradeoff(ax, results)`` draws one labelled dot per variant, where ``results`` is
``{variant name: {"bytes": bytes per passage in memory, "ndcg@10": quality, "ms": time per query}}``.
Each dot carries a number; the legend beside the plot names it and gives its time per query
(dots too close to label apart share one label, e.g. ``"7, 8"``). A row may also give
``"stored_bytes"``: everything kept per passage, in memory or on disk (a variant that rescores
keeps its float32 vectors too); a dotted line then joins its dot to a hollow one at that size.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["plot_tradeoff"]

#: Axis labels of the quality keys (the rest are shown as they are).
METRIC_LABELS = {"ndcg@10": "nDCG@10", "recall_vs_exact": "recall@10 against exact MaxSim"}


def _colour(name: str) -> str:
    colours = (("pooled", "tab:green"), ("asymmetric", "tab:purple"), ("2-bit", "tab:brown"), ("1.5-bit", "tab:pink"),
               ("binary", "tab:red"), ("int8", "tab:orange"), ("float16", "tab:cyan"))
    for key, colour in colours:
        if key in name:
            return colour
    return "tab:blue"


def plot_tradeoff(ax, results: Mapping[str, Mapping[str, float]], *, metric: str = "ndcg@10", title: str = "",
                  ylim: tuple[float, float] | None = None) -> None:
    """Plot ``results[name][metric]`` against ``results[name]["bytes"]`` (log x); a legend names every dot and its ms.

    Args:
        ax: a matplotlib Axes.
        results: ``{name: {"bytes": float, metric: float, "ms": float}}``, optionally ``"stored_bytes"``.
        metric: the quality key to plot on the y axis.
        title: the panel's title.
        ylim: the y axis's limits (to give several panels the same scale); default: around the values.

    Raises:
        ValueError: ``results`` is empty, or a row lacks ``"bytes"``, ``metric`` or ``"ms"``.
    """
    if not results:
        raise ValueError("results is empty: nothing to plot")
    for name, row in results.items():
        missing = {"bytes", metric, "ms"} - set(row)
        if missing:
            raise ValueError(f"results[{name!r}] lacks {sorted(missing)}")
    from matplotlib.lines import Line2D

    xs = [size for row in results.values() for size in (row["bytes"], row.get("stored_bytes", row["bytes"]))]
    ys = [row[metric] for row in results.values()]
    spread = max(ys) - min(ys) or 0.1
    clusters: list[tuple[float, float, list[str]]] = []  # dots too close to label apart share one label
    handles, labels = [], []
    for number, (name, row) in enumerate(results.items(), 1):
        x, y = row["bytes"], row[metric]
        ax.scatter(x, y, s=45, color=_colour(name), zorder=3)
        if row.get("stored_bytes", x) != x:
            ax.plot([x, row["stored_bytes"]], [y, y], ":", color=_colour(name), linewidth=1, zorder=2)
            ax.scatter(row["stored_bytes"], y, s=30, facecolors="none", edgecolors=_colour(name), zorder=2)
        handles.append(Line2D([], [], marker="o", linestyle="", color=_colour(name)))
        labels.append(f"{number}. {name} ({row['ms']:.1f} ms)")
        near = next((c for c in clusters if abs(c[0] / x - 1) < 0.05 and abs(c[1] - y) < 0.03 * spread), None)
        if near:
            near[2].append(str(number))
        else:
            clusters.append((x, y, [str(number)]))
    for x, y, numbers in clusters:
        ax.annotate(", ".join(numbers), (x, y), fontsize=8, textcoords="offset points", xytext=(6, 0), va="center")
    ax.set(xscale="log", xlabel="bytes per passage in memory (log scale)", ylabel=METRIC_LABELS.get(metric, metric),
           title=title)
    ax.set_xlim(min(xs) / 1.6, max(xs) * 2)
    ax.set_ylim(ylim if ylim is not None else (min(ys) - 0.08 * spread, max(ys) + 0.08 * spread))
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
