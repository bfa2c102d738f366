"""The race chart of lesson 8 and its benchmark: quality against milliseconds per query, one dot per setting.

``plot_race(ax, results)`` draws ``results[name]["ms"]`` (log x) against ``results[name][metric]``,
one numbered dot per setting, coloured by family (exact MaxSim, BM25 -> ColBERT, MUVERA -> ColBERT,
the centroid index, the centroid index reranking on float16 originals, fast-plaid), dots of one family
joined from fastest to slowest, and a legend beside the plot that names every number. ``results`` is
``{name: {"ms": ms per query, "recall@10 vs exact": ..., "bytes/passage": ...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["FAMILIES", "family_of", "plot_race"]

#: (word in a setting's name, family label, colour), the first match wins.
FAMILIES = (("fast-plaid", "fast-plaid", "tab:purple"), ("MUVERA", "MUVERA -> ColBERT", "tab:green"),
            ("BM25", "BM25 -> ColBERT", "tab:orange"), ("exact", "exact MaxSim", "black"),
            ("float16 rerank", "centroid index, float16 rerank (ours)", "tab:cyan"),
            ("", "centroid index (ours)", "tab:blue"))


def family_of(name: str) -> tuple[str, str]:
    """(family label, colour) of a setting's name."""
    return next((label, colour) for word, label, colour in FAMILIES if word in name)


def plot_race(ax, results: Mapping[str, Mapping[str, float]], *, metric: str = "recall@10 vs exact",
              title: str = "") -> None:
    """Quality against ms per query (log x), one numbered dot per setting; the legend names each number.

    Raises:
        ValueError: ``results`` is empty, or a row lacks ``"ms"`` or ``metric``, or has ``ms <= 0``.
    """
    if not results:
        raise ValueError("results is empty: nothing to plot")
    for name, row in results.items():
        missing = {"ms", metric} - set(row)
        if missing:
            raise ValueError(f"results[{name!r}] lacks {sorted(missing)}")
        if not row["ms"] > 0:
            raise ValueError(f"results[{name!r}]['ms'] must be positive for a log scale, got {row['ms']}")
    from matplotlib.lines import Line2D

    families: dict[str, tuple[str, list[tuple[float, float]]]] = {}
    handles, labels = [], []
    for number, (name, row) in enumerate(results.items(), 1):
        label, colour = family_of(name)
        families.setdefault(label, (colour, []))[1].append((row["ms"], row[metric]))
        ax.scatter(row["ms"], row[metric], s=50, color=colour, zorder=3)
        ax.annotate(str(number), (row["ms"], row[metric]), fontsize=8, textcoords="offset points", xytext=(5, 4))
        handles.append(Line2D([], [], marker="o", linestyle="", color=colour))
        labels.append(f"{number}. {name} ({row['ms']:.1f} ms)")
    for colour, points in families.values():
        if len(points) > 1:
            xs, ys = zip(*sorted(points))
            ax.plot(xs, ys, color=colour, alpha=0.4, linewidth=1)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 1, 2, 5, 10, 20, 50 ... ms
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="milliseconds per query (log scale)", ylabel=metric, title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
