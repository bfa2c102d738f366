"""The instructor's class report: ``reports/<lesson>/report.html`` and ``report-figures.png``; the cross-lesson
view ``reports/index.html``.

Built from the gradebook, the stored grading records (per-check results and the wrong values
returned) and ``reports/<lesson>/download.json`` only, so ``course.py report LESSON`` rebuilds
it at any time without grading again. It is for the instructor, never for students: it shows the
hidden checks' code. Everything in it that came from a submission (wrong values, file names,
student ids) is untrusted: every piece of text is escaped, and the page carries the feedback
pages' Content-Security-Policy (:data:`course_utils.grading.feedback_page.CSP`: no scripts, nothing
loaded, images only as ``data:``).
"""

from __future__ import annotations

import base64
import html
import statistics
from pathlib import Path

from course_utils.grading import class_results, download_record, item_analysis, nbgrader_course, report_figures
from course_utils.grading import notebooks as nb
from course_utils.grading.feedback_page import CSP
from course_utils.grading.gradebook import waiting_for_manual_grade
from course_utils.grading.trusted import parse_test_cells

__all__ = ["write_index", "write_lesson"]

_STYLE = """
body {font-family: system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; color: #222}
table {border-collapse: collapse; margin: .5rem 0 1.5rem} td, th {border: 1px solid #ccc; padding: .25rem .5rem;
 vertical-align: top} th {background: #f0f1f6; text-align: left} td.n {text-align: right; white-space: nowrap}
code, pre {font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; white-space: pre-wrap}
img {max-width: 100%} .note {color: #555} .bar {display: inline-block; height: .7rem; background: #c62828}
table.checks {table-layout: fixed; width: 100%} ul {margin: 0; padding-left: 1.1rem}
"""


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="referrer" content="no-referrer"><title>{_text(title)}</title><style>{_STYLE}</style>'
            f"</head><body><h1>{_text(title)}</h1>{body}</body></html>\n")


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _summary(stats: item_analysis.LessonStats, record) -> str:
    scores = list(stats.scores.values())
    if not scores:
        return "<p>No graded submissions yet.</p>"
    late = (f" {len(stats.late)} late (penalties applied: scores are final scores)." if stats.late else "")
    missing = [s for s in record.roster if s not in stats.scores and s not in record.students]
    older = stats.without_checks
    late += (f" {older} submission(s) were graded before per-check results were kept: they count in the scores but "
             "not in the per-check table (grade again with --regrade to include them)." if older else "")
    return (f"<p>{len(scores)} graded; mean {stats.mean:.1f}, median {stats.median:g}, lowest {min(scores):g}, "
            f"highest {max(scores):g} of {stats.max_score:g} points.{_text(late)}"
            + (f" {len(missing)} on the roster handed nothing in." if missing else "") + "</p>")


def _exercise_table(stats: item_analysis.LessonStats) -> str:
    rows = "".join(
        f"<tr><td>{_text(e.name)}</td><td class=n>{e.points:g}</td><td class=n>{e.mean:.2f}</td>"
        f"<td class=n>{_percent(e.full)}</td><td class=n>{_percent(e.partial)}</td><td class=n>{_percent(e.zero)}</td>"
        f"<td class=n>{_percent(e.unsolved)}</td></tr>" for e in stats.exercises)
    return ("<h2>Per exercise</h2><table><tr><th>Exercise</th><th>Points</th><th>Mean points</th><th>Full</th>"
            "<th>Partial</th><th>Zero</th><th>Left unsolved (NotImplementedError)</th></tr>" + rows + "</table>")


def _check_table(stats: item_analysis.LessonStats) -> str:
    rows = []
    passed = sum(not check.failed for check in stats.checks)
    for check in (check for check in stats.checks if check.failed):
        wrong = "".join(f"<li><code>{_text(answer)}</code> &times; {count}</li>" for answer, count in check.wrong)
        rows.append(f"<tr><td>{_text(check.label)}</td><td><code>{_text(check.code)}</code></td>"
                    f"<td class=n>{_percent(check.share_failed)}<br>{check.failed} of {check.seen}"
                    f'<br><span class="bar" style="width:{check.share_failed * 5:.2f}rem"></span></td>'
                    f"<td>{'<ul>' + wrong + '</ul>' if wrong else ''}</td></tr>")
    rubric = ("The capstone's held-out cell has no checks: each line of its rubric stands for one (failed = its "
              "points not earned, with the first reason the feedback gave; the leaderboard above has the numbers). "
              if any(check.label.startswith("held-out rubric: ") for check in stats.checks) else "")
    return ("<h2>Per check, most failed first (item analysis)</h2><p class=note>" + rubric + "Visible and hidden "
            "checks alike; "
            "wrong answers are what the students' code returned (cut to 80 characters; unsolved exercises not "
            f"counted), shown as text. {passed} of {len(stats.checks)} checks were passed by every submission and are "
            "not listed.</p><table class=checks><colgroup><col style=\"width:12%\"><col style=\"width:52%\">"
            "<col style=\"width:9%\"><col style=\"width:27%\"></colgroup><tr><th>Check</th><th>Code</th>"
            "<th>Failed</th><th>Most common wrong answers</th></tr>" + "".join(rows) + "</table>")


def _findings(results: class_results.LessonResults, record) -> str:
    items = []
    for student, result in results.students.items():
        lines = [line for line in result.record.get("report", [])
                 if not line.startswith("Graded without the grading sandbox")]
        if result.days_late:
            lines.append(f"late by {result.days_late} started day(s): penalty {result.penalty:g} "
                         f"point{'' if result.penalty == 1 else 's'}")
        if lines:
            items.append(f"<li><b>{_text(student)}</b><ul>" + "".join(f"<li>{_text(line)}</li>" for line in lines)
                         + "</ul></li>")
    found = "<ul>" + "".join(items) + "</ul>" if items else "<p>None.</p>"
    skipped = ("<ul>" + "".join(f"<li><code>{_text(name)}</code>: {_text(why)}</li>" for name, why in record.not_graded)
               + "</ul>") if record.not_graded else "<p>None.</p>"
    return (f"<h2>Submissions with findings (edited cells, limits reached, tampering, late)</h2>{found}"
            f"<h2>Files not graded in the last run</h2>{skipped}")


def _over_budget(details: dict) -> str:
    """The budget lines a held-out run broke, in a few words ("" when within the budget)."""
    from course_utils.lesson.capstone import BUDGET

    measured = {"bytes": details.get("bytes_per_passage"), "time": details.get("time_ratio"),
                "build": details.get("build_s")}
    limits = {"bytes": BUDGET["bytes_per_passage"], "time": BUDGET["query_time_ratio"],
              "build": BUDGET["build_seconds"]}
    return ", ".join(name for name, value in measured.items() if value is not None and value > limits[name])


def _leaderboard(results: class_results.LessonResults, folder: Path) -> str:
    """The capstone's leaderboard (held-out nDCG@10 against ms per query), saved as ``leaderboard.png``; "" for
    a lesson without a held-out run."""
    from course_utils.lesson.capstone import BUDGET

    runs = {student: details for student, result in results.students.items()
            for verdict in result.record.get("verdicts", {}).values()
            if (details := verdict.get("details"))}
    if not runs:
        return ""
    placed = {s: (d["pipeline"]["ms"], d["pipeline"]["ndcg"]) for s, d in runs.items() if "pipeline" in d}
    baselines = {}
    for name, key in (("BM25", "bm25"), ("dense -> ColBERT", "dense_colbert")):
        measured = [d[key] for d in runs.values() if key in d]
        if measured:
            baselines[name] = (statistics.median(m["ms"] for m in measured),
                               statistics.median(m["ndcg"] for m in measured))
    image = report_figures.leaderboard_png(placed, baselines, BUDGET["query_time_ratio"],
                                           {s: words for s in placed if (words := _over_budget(runs[s]))})
    nb.write_bytes_atomically(folder / "leaderboard.png", image)
    rows = "".join(
        f"<tr><td>{_text(student)}</td><td class=n>{d['pipeline']['ndcg']:.3f}</td>"
        f"<td class=n>{d['pipeline']['recall']:.3f}</td><td class=n>{d['pipeline']['ms']:.2f}</td>"
        f"<td class=n>{d['time_ratio']:.1f}</td><td class=n>{d.get('bytes_per_passage', 0):,.0f}</td>"
        f"<td class=n>{d.get('build_s', 0):.1f}</td><td class=n>{d.get('bm25', {}).get('ndcg', 0):.3f}</td>"
        f"<td class=n>{d.get('dense_colbert', {}).get('ndcg', 0):.3f}</td></tr>"
        for student, d in sorted(runs.items(), key=lambda item: -item[1].get("pipeline", {}).get("ndcg", -1))
        if "pipeline" in d)
    missing = sorted(set(runs) - set(placed))
    off = (f"<p>Not on the leaderboard (no valid held-out run: see their feedback): "
           f"{_text(', '.join(missing))}.</p>" if missing else "")
    names = ", ".join(f"{name} nDCG@10 {ndcg:.3f} at {ms:.2f} ms" for name, (ms, ndcg) in baselines.items())
    return (f"<h2>Leaderboard (held-out queries)</h2><p class=note>Held-out nDCG@10 against ms per query, one point "
            f"per student (ids as in grades.csv) and the baselines (median over the class's runs: {_text(names)}); "
            "the dashed line is the frontier of the within-budget points; a hollow point is over the budget (its "
            "label says which line). Each run's baselines were measured in that student's own grading "
            "run: a baseline far from the class's median in the table hints at a notebook that changed the "
            "course's code in its kernel. Saved as leaderboard.png beside this page.</p>"
            f'<img alt="leaderboard: held-out nDCG@10 against ms per query" '
            f'src="data:image/png;base64,{base64.b64encode(image).decode()}">'
            "<table><tr><th>Student</th><th>nDCG@10</th><th>recall@10</th><th>ms/query</th><th>x BM25 time</th>"
            "<th>bytes/passage</th><th>build s</th><th>BM25 nDCG@10 (their run)</th>"
            f"<th>dense -> ColBERT nDCG@10 (their run)</th></tr>{rows}</table>{off}")


def _pending_manual(course: Path, lesson: str) -> str:
    """A paragraph naming the manually graded cells still waiting for the instructor ("" when none)."""
    waiting: dict[str, list[str]] = {}
    with nbgrader_course.open_gradebook(course) as gradebook:
        for submission in gradebook.assignment_submissions(lesson):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if waiting_for_manual_grade(grade):
                        waiting.setdefault(grade.name, []).append(submission.student.id)
    if not waiting:
        return ""
    items = "".join(f"<li><code>{_text(name)}</code>: {len(students)} submission(s) "
                    f"({_text(', '.join(sorted(students)))})</li>" for name, students in sorted(waiting.items()))
    return ("<h2>Cells waiting for manual grading</h2><p class=note>Scores above count them as 0 until you grade "
            f"them in formgrader (<code>python3 course.py start --instructor</code>).</p><ul>{items}</ul>")


def write_lesson(course: Path, lesson: str) -> Path:
    """Write ``reports/<lesson>/report.html`` and ``report-figures.png``; returns the page's path.

    Raises:
        ValueError: no gradebook, or the lesson was never graded.
    """
    course = Path(course)
    results = class_results.lesson_results(course, lesson)
    cells = parse_test_cells(nb.read(nbgrader_course.source_notebook_path(course, lesson)))
    stats = item_analysis.analyse(results, cells)
    record = download_record.load(course, lesson)
    folder = course / "reports" / lesson
    folder.mkdir(parents=True, exist_ok=True)
    image = report_figures.png(stats)
    nb.write_bytes_atomically(folder / "report-figures.png", image)
    figure = (f'<img alt="score histogram, exercises and most failed checks" '
              f'src="data:image/png;base64,{base64.b64encode(image).decode()}">')
    body = (f'<p class=note>For the instructor only (it shows hidden checks). Printable figures: '
            f'report-figures.png beside this page.</p>{_summary(stats, record)}{figure}'
            f"{_leaderboard(results, folder)}{_pending_manual(course, lesson)}"
            f"{_exercise_table(stats)}{_check_table(stats)}{_findings(results, record)}")
    page = folder / "report.html"
    nb.write_text_atomically(page, _page(f"Class report: {lesson}", body))
    return page


def _name(records, student: str) -> str:
    """The student's name from the first roster that has it (Canvas, Moodle, Blackboard columns), or ""."""
    for record in records:
        parts = (record.roster_value(student, "First Name"), record.roster_value(student, "Last Name"))
        name = record.roster_value(student, "Student") or record.roster_value(student, "Full name") or \
            " ".join(part for part in parts if part)
        if name:
            return name
    return ""


def write_index(course: Path) -> Path:
    """The cross-lesson view ``reports/index.html``: one row per student (graded, or on a roster), their name
    from the rosters, one column per graded lesson (final scores), and each lesson's mean. Raises ValueError
    when nothing was graded."""
    course = Path(course)
    lessons = class_results.graded_lessons(course)
    if not lessons:
        raise ValueError(f"nothing graded in {course} yet: grade a lesson first (python3 course.py grade ...)")
    tables = {lesson: class_results.lesson_results(course, lesson) for lesson in lessons}
    records = [download_record.load(course, lesson) for lesson in lessons]
    students = sorted({student for results in tables.values() for student in results.students}
                      | {student for record in records for student in record.roster})
    head = "".join(f'<th><a href="{_text(lesson)}/report.html">{_text(lesson)}</a><br>(of '
                   f"{tables[lesson].max_score:g})</th>" for lesson in lessons)
    rows = "".join(
        f"<tr><td>{_text(student)}</td><td>{_text(_name(records, student))}</td>" + "".join(
            f"<td class=n>{tables[lesson].students[student].final:g}</td>" if student in tables[lesson].students
            else "<td class=n>&ndash;</td>" for lesson in lessons) + "</tr>" for student in students)
    means = "".join(f"<td class=n><b>{statistics.mean(r.final for r in tables[lesson].students.values()):.1f}</b>"
                    f"</td>" for lesson in lessons)
    body = (f"<p>{len(students)} students, {len(lessons)} graded lesson(s); final scores (after late penalties); "
            "&ndash; means not graded (no submission, or not gradable); names from the rosters given to grade.</p>"
            f"<table><tr><th>Student</th><th>Name</th>{head}</tr>{rows}<tr><td><b>Mean</b></td><td></td>{means}"
            "</tr></table>")
    page = course / "reports" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    nb.write_text_atomically(page, _page("Class report: all graded lessons", body))
    return page
