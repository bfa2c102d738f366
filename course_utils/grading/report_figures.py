"""The class report's figures, drawn once into a PNG (printable, and shown in the report as a ``data:`` image).

Three panels, 900 px wide at 100 dpi: the final scores' histogram with mean and median; per exercise, the
share of the class with full, partial and zero points; the checks failed most often (item analysis).
"""

from __future__ import annotations

import io

from course_utils.grading.item_analysis import LessonStats

__all__ = ["DPI", "MAX_CHECKS", "leaderboard_png", "png"]

DPI = 100
#: Checks shown in the figure (the report's table lists them all).
MAX_CHECKS = 10
_FULL, _PARTIAL, _ZERO, _UNSOLVED = "#2e7d32", "#f9a825", "#c62828", "#9e9e9e"


def _short(text: str, width: int = 44) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _histogram(axis, stats: LessonStats) -> None:
    scores = list(stats.scores.values())
    top = stats.max_score or 1
    bins = [top * i / 10 for i in range(11)]
    axis.hist(scores, bins=bins, color="#5c6bc0", edgecolor="white")
    axis.axvline(stats.mean, color="#222", linestyle="--", label=f"mean {stats.mean:.1f}")
    axis.axvline(stats.median, color="#d84315", linestyle=":", linewidth=2, label=f"median {stats.median:g}")
    axis.set_xlim(0, top)
    axis.set_xlabel(f"final score (of {top:g})")
    axis.set_ylabel("students")
    axis.yaxis.get_major_locator().set_params(integer=True)
    axis.set_title(f"{stats.lesson}: scores of {len(scores)} graded submissions", loc="left")
    axis.legend(loc="upper left", frameon=False)


def _exercises(axis, stats: LessonStats) -> None:
    names = [_short(e.name.rsplit(" (", 1)[0] if e.name.endswith(")") else e.name) for e in stats.exercises][::-1]
    full = [e.full * 100 for e in stats.exercises][::-1]
    partial = [e.partial * 100 for e in stats.exercises][::-1]
    unsolved = [e.unsolved * 100 for e in stats.exercises][::-1]
    wrong = [(e.zero - e.unsolved) * 100 for e in stats.exercises][::-1]
    axis.barh(names, full, color=_FULL, label="full points")
    axis.barh(names, partial, left=full, color=_PARTIAL, label="partial")
    left = [f + p for f, p in zip(full, partial)]
    axis.barh(names, wrong, left=left, color=_ZERO, label="zero")
    axis.barh(names, unsolved, left=[a + w for a, w in zip(left, wrong)], color=_UNSOLVED,
              label="zero: left unsolved")
    axis.set_xlim(0, 100)
    axis.set_xlabel("share of the graded students (%)")
    axis.set_title("Per exercise", loc="left")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=4, frameon=False, fontsize=9)


def _checks(axis, stats: LessonStats) -> None:
    shown = [c for c in stats.checks if c.failed][:MAX_CHECKS][::-1]
    if not shown:
        axis.text(0.5, 0.5, "no check was failed", ha="center", va="center", transform=axis.transAxes)
        axis.set_axis_off()
        return
    labels = [c.label for c in shown]
    axis.barh(labels, [c.share_failed * 100 for c in shown], color=_ZERO)
    for y, check in enumerate(shown):
        axis.text(check.share_failed * 100 + 1, y, f"{check.failed}/{check.seen}", va="center", fontsize=9)
    axis.set_xlim(0, 110)
    axis.set_xlabel("share of the submissions that failed the check (%)")
    axis.set_title(f"Checks failed most often (top {len(shown)})", loc="left")


def png(stats: LessonStats) -> bytes:
    """The three panels as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = max(len(stats.exercises), 1), max(min(sum(c.failed > 0 for c in stats.checks), MAX_CHECKS), 2)
    figure, axes = plt.subplots(3, 1, figsize=(9, 3.2 + 0.35 * (rows[0] + rows[1]) + 2.4),
                                gridspec_kw={"height_ratios": [3, 1.2 + 0.35 * rows[0], 0.8 + 0.35 * rows[1]]})
    try:
        _histogram(axes[0], stats)
        _exercises(axes[1], stats)
        _checks(axes[2], stats)
        return _png_of(figure)
    finally:
        plt.close(figure)


def _png_of(figure) -> bytes:
    """``figure`` laid out tightly, as PNG bytes at :data:`DPI`."""
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _draw_points(axis, students, baselines, over_budget: dict[str, str], frontier_baselines) -> None:
    """The leaderboard's frontier (within-budget points only), students (hollow when over budget) and baselines."""
    within = [point for student, point in students.items() if student not in over_budget]
    within += [point for name, point in baselines.items() if name in frontier_baselines]
    frontier = sorted((ms, ndcg) for ms, ndcg in within
                      if not any(o_ms <= ms and o_ndcg > ndcg or o_ms < ms and o_ndcg >= ndcg
                                 for o_ms, o_ndcg in within))
    if len(frontier) > 1:
        axis.step([ms for ms, _ in frontier], [ndcg for _, ndcg in frontier], where="post", color="#9e9e9e",
                  linestyle="--", linewidth=1, label="frontier of the within-budget points")
    kept = {s: p for s, p in students.items() if s not in over_budget}
    over = {s: p for s, p in students.items() if s in over_budget}
    if kept:
        axis.scatter([ms for ms, _ in kept.values()], [ndcg for _, ndcg in kept.values()],
                     color="#5c6bc0", zorder=3, label="students within the budget")
    if over:
        axis.scatter([ms for ms, _ in over.values()], [ndcg for _, ndcg in over.values()], facecolors="none",
                     edgecolors="#5c6bc0", linewidths=1.5, zorder=3, label="students over the budget (hollow)")
    for number, (student, (ms, ndcg)) in enumerate(sorted(students.items(), key=lambda item: item[1])):
        label = _short(student, 18) + (f" (over budget: {over_budget[student]})" if student in over_budget else "")
        axis.annotate(label, (ms, ndcg), textcoords="offset points", fontsize=8,
                      xytext=(5, 5 if number % 2 == 0 else -12))  # neighbours above and below
    for (name, (ms, ndcg)), marker in zip(baselines.items(), ("s", "D", "^")):
        axis.scatter([ms], [ndcg], color="#c62828", marker=marker, s=60, zorder=4, label=f"baseline: {name}")


def leaderboard_png(students: dict[str, tuple[float, float]], baselines: dict[str, tuple[float, float]],
                    ratio_budget: float | None = None, over_budget: dict[str, str] | None = None,
                    frontier_baselines: tuple[str, ...] = ("BM25",)) -> bytes:
    """The capstone's leaderboard as PNG bytes: held-out nDCG@10 against ms per query (log scale), one point per
    student (``{student id: (ms, nDCG@10)}``, labelled with the id) and per baseline (``{name: (ms, nDCG@10)}``),
    and the frontier: the within-budget points that no other within-budget point beats on both quality and time.

    ``over_budget`` ({student id: the budget lines it broke, in words}): those students are drawn hollow, their
    label says "(over budget: ...)", and they are left out of the frontier. Of the baselines, only those named in
    ``frontier_baselines`` join the frontier (dense -> ColBERT's float32 token vectors are over the byte budget).
    ``ratio_budget`` with a ``"BM25"`` baseline draws the time budget (that many times BM25's ms). The legend sits
    outside the axes, so that it never hides a point."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    over_budget = over_budget or {}
    figure, axis = plt.subplots(figsize=(11, 5.2))
    try:
        everyone = list(students.values()) + list(baselines.values())
        _draw_points(axis, students, baselines, over_budget, frontier_baselines)
        if ratio_budget and "BM25" in baselines:
            axis.axvline(baselines["BM25"][0] * ratio_budget, color="#f9a825", linestyle=":",
                         label=f"time budget ({ratio_budget:g} x BM25)")
        axis.set_xscale("log")
        xs = [ms for ms, _ in everyone if ms > 0]
        if xs:  # room on the right for the labels (written to the right of their points), inside the axes
            axis.set_xlim(min(xs) / 2, max(xs) * 12)
        axis.set_xlabel("ms per query on the held-out queries (grader's clock, log scale)")
        axis.set_ylabel("held-out nDCG@10")
        axis.set_title(f"Capstone leaderboard: {len(students)} pipeline(s) and the baselines", loc="left")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, borderaxespad=0)
        return _png_of(figure)
    finally:
        plt.close(figure)
