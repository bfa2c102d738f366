"""The student's feedback page, built by the grader from what it decided, without any kernel output.

A page of plain HTML: every piece of text in it is escaped, it has no scripts and loads
nothing (its Content-Security-Policy, :data:`CSP`, forbids scripts, frames, fonts and any
address; images only as ``data:``), so it looks the same offline and nothing a student
wrote can run in the browser of whoever opens it. It shows, in this order: the score and
the grading report, one row per exercise, then each exercise with the student's answer code,
the test cell as students see it (hidden checks counted, never shown) and the verdict, and
last the limits the notebook was graded under.

The kernel's outputs are left out on purpose: what a student's code prints could carry the
inputs of hidden checks, or imitate the grader's own words.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from course_utils.grading import memory_cgroup
from course_utils.grading import notebooks as nb
from course_utils.grading.jobs import GradingJob
from course_utils.grading.trusted import TestCell, Verdict

__all__ = ["CSP", "exercise_answers", "limits_sentence", "render", "verdict_lines"]

#: Nothing runs and nothing is loaded: styles only from the page itself, images only as data.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")

_STYLE = """
body {font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222}
header.grader {border: 2px solid #335; border-radius: 6px; padding: 1rem 1.25rem; background: #f4f5fa}
.score {font-size: 1.6rem; font-weight: 600}
table {border-collapse: collapse; margin: .75rem 0} td, th {border: 1px solid #ccc; padding: .3rem .6rem}
td.points {text-align: right; white-space: nowrap}
pre {background: #f7f7f7; border: 1px solid #ddd; padding: .6rem; white-space: pre-wrap;
     overflow-wrap: anywhere}
section.exercise {margin-top: 2rem} .full {color: #155724} .none {color: #8a1c1c}
footer {margin-top: 2rem; color: #555; font-size: .9rem}
"""


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def verdict_lines(verdict: Verdict, manual: float | None) -> list[str]:
    """What the feedback says about one exercise's test cell (from the verified verdict only)."""
    if verdict.details:  # the capstone's held-out run: partial credit, line by line of the rubric
        from course_utils.grading.capstone import summary_lines

        lines = [f"{verdict.score:g} of {verdict.points:g} points (the rubric's lines, held-out queries)."]
        lines += summary_lines(verdict.details)
        if manual is not None:
            lines.append(f"Your instructor set this exercise's score to {manual:g}.")
        return lines + [f"- {failure}" for failure in verdict.failures]
    lines = [f"{verdict.score:g} of {verdict.points:g} points (all or nothing: every check, visible and hidden, "
             "must pass)."]
    if manual is not None:
        lines.append(f"Your instructor set this exercise's score to {manual:g}.")
    if verdict.failures and all("raised NotImplementedError" in failure for failure in verdict.failures):
        return lines + ["Not attempted yet: the answer cell still raises NotImplementedError()."]
    return lines + [f"- {failure}" for failure in verdict.failures]


def exercise_answers(notebook) -> dict[str, list[str]]:
    """{test grade_id: the sources of the answer cells since the previous test cell} of a student notebook."""
    answers, pending = {}, []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if nb.is_solution(cell):
            pending.append(cell.source)
        elif nb.is_grade(cell):
            answers[nb.nbgrader_info(cell).get("grade_id")] = pending
            pending = []
    return answers


def limits_sentence(limits, job: GradingJob) -> str:
    """How the notebook was run: the sandbox's limits (``limits`` None: no sandbox) and the time limits."""
    times = (f"each cell could run for {job.timeout} s and the whole notebook for {job.notebook_timeout} s")
    if limits is None:
        return f"Graded without the grading sandbox (the instructor chose so); {times}."
    scope = "for all its processes together" if memory_cgroup.available() else "for each of its processes"
    return (f"Graded in the grading sandbox, without network, with {limits.describe('memory')} {scope}, "
            f"{limits.describe('processes')} and {limits.describe('file_size')}; {times}.")


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{_text(item)}</li>" for item in items) + "</ul>"


def _exercise(test: TestCell, verdict: Verdict | None, answers: list[str], visible: str, manual) -> str:
    hidden = sum(check.hidden for check in test.checks)
    shown = visible.rstrip() + (f"\n# ... and {hidden} hidden check(s), not shown" if hidden else "")
    if test.capstone is not None:
        shown = visible.rstrip() + "\n# when graded, the grader ran your pipeline on its held-out queries instead"
    answer = "\n\n".join(source.rstrip() for source in answers) or "(no answer cell found)"
    lines = verdict_lines(verdict, manual) if verdict else ["Not graded."]
    mark = "full" if verdict and verdict.score >= verdict.points > 0 else "none"
    return (f'<section class="exercise" id="{_text(test.test_id)}"><h2>{_text(test.name)}</h2>'
            f'<p class="{mark}">{_text(lines[0])}</p>'
            + "".join(f"<p>{_text(line)}</p>" for line in lines[1:])
            + f"<h3>Your answer</h3><pre>{_text(answer)}</pre>"
            f"<h3>The test cell</h3><pre>{_text(shown)}</pre></section>")


def _penalty(late: dict | None, raw: float) -> float:
    return round(raw * late["share"], 2) if late else 0.0


def _late_section(late: dict | None, raw: float) -> str:
    """How the late penalty was computed (``late``: :meth:`course_utils.grading.late_work.Lateness.as_record`)."""
    if not late:
        return ""
    penalty = _penalty(late, raw)
    unit = "point" if penalty == 1 else "points"
    sums = (f" Score before the penalty {raw:g}, penalty {penalty:g} {unit}, score {raw - penalty:g}."
            if late["share"] else "")
    return f'<p class="late">Deadline: {_text(late["how"])}{_text(sums)}</p>'


def render(job: GradingJob, notebook, verdicts: dict[str, Verdict], report: list[str], limits: str) -> str:
    """The feedback page (HTML text) of one graded submission; ``notebook`` is the student's notebook as
    graded, ``report`` the grading report's sentences, ``limits`` from :func:`limits_sentence`."""
    answers = exercise_answers(notebook)
    scored = {test_id: job.manual_scores.get(test_id, verdict.score) for test_id, verdict in verdicts.items()}
    manual = {grade_id: job.manual_scores.get(grade_id) for grade_id in job.manual_cells}
    waiting = [grade_id for grade_id, score in manual.items() if score is None]
    total = sum(scored.values()) + sum(score for score in manual.values() if score is not None)
    points = sum(verdict.points for verdict in verdicts.values()) + sum(p for _, p in job.manual_cells.values())
    rows = "".join(
        f'<tr><td><a href="#{_text(test_id)}">{_text(test.name)}</a></td>'
        f'<td class="points">{scored.get(test_id, 0):g} / {test.points:g}</td></tr>'
        for test_id, test in job.test_cells.items())
    rows += "".join(
        f"<tr><td>{_text(name)}</td><td class=\"points\">"
        + (f"waiting for your instructor (/ {cell_points:g})" if manual[grade_id] is None
           else f"{manual[grade_id]:g} / {cell_points:g}") + "</td></tr>"
        for grade_id, (name, cell_points) in job.manual_cells.items())
    pending = "".join(
        f'<p class="pending">{_text(name)} ({cell_points:g} points) is waiting for your instructor: it is graded '
        "by hand, and the score above counts it as 0 until then.</p>"
        for grade_id, (name, cell_points) in job.manual_cells.items() if grade_id in waiting)
    sections = "".join(
        _exercise(test, verdicts.get(test_id), answers.get(test_id, []),
                  job.visible_sources.get(test_id, ""), job.manual_scores.get(test_id))
        for test_id, test in job.test_cells.items())
    findings = _list(report) if report else "<p>Nothing unusual was found in this notebook.</p>"
    late = _late_section(job.late, total)
    title = f"Feedback: {job.lesson}, {job.student}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="referrer" content="no-referrer"><title>{_text(title)}</title><style>{_STYLE}</style>'
            f'</head><body><header class="grader"><h1>{_text(title)}</h1>'
            f'<p class="score">Score: {total - _penalty(job.late, total):g} / {points:g}'
            f'{" so far" if waiting else ""}</p>{pending}{late}'
            f"<table><tr><th>Exercise</th><th>Points</th></tr>{rows}</table>"
            f"<h2>Grading report</h2>{findings}</header>{sections}"
            f"<footer><p>{_text(limits)}</p><p>This page was made by the grader: it shows your code and the "
            "grader's verdicts, not the outputs of your notebook.</p></footer></body></html>\n")
