"""Every read and write of an nbgrader gradebook, and the grading files kept next to it.

The instructor's course keeps nbgrader's ``gradebook.db``; each graded submission also leaves
``submitted/``, ``autograded/`` (with :data:`GRADING_RECORD`, what the grader found) and
``feedback/`` files. The workers' private grading copies have gradebooks of their own, read and
written with the same functions.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import warnings
from pathlib import Path

from course_utils.grading import notebooks as nb
from course_utils.grading.jobs import GradingResult
from course_utils.grading.nbgrader_course import open_gradebook

__all__ = ["GRADING_RECORD", "LATE_COLUMNS", "late_columns",
           "manual_scores", "nbgrader_scores", "read_record", "record_path", "set_scores",
           "store_result", "summary", "waiting_for_manual_grade", "write_csv"]

#: What the grader found about one submission, next to its autograded notebook.
GRADING_RECORD = "course_grading.json"


def record_path(course: Path, lesson: str, student: str) -> Path:
    return Path(course) / "autograded" / student / lesson / GRADING_RECORD


def read_record(course: Path, lesson: str, student: str) -> dict:
    """The grading record of ``student``'s last grading ({} when never graded)."""
    path = record_path(course, lesson, student)
    return json.loads(path.read_text()) if path.exists() else {}


def _find_submission(gradebook, lesson: str, student: str):
    """The gradebook's submission of ``lesson`` by ``student``, or None when there is none."""
    from nbgrader.api import MissingEntry

    try:
        return gradebook.find_submission(lesson, student)
    except MissingEntry:
        return None


def _grades(submission):
    """Every grade (one per test cell) of a gradebook submission."""
    return [grade for notebook in submission.notebooks for grade in notebook.grades]


def waiting_for_manual_grade(grade) -> bool:
    """Whether a gradebook grade is a manually graded cell the instructor has not scored yet (it counts as 0
    until then: pending, not missed)."""
    return bool(grade.needs_manual_grade) and grade.manual_score is None


def set_scores(root: Path, lesson: str, student: str, scores: dict[str, float],
               manual: dict[str, float] | None = None, timestamp=None) -> None:
    """Write verified ``scores`` ({test grade_id: points}) of a submission into the gradebook of ``root``.

    ``manual`` ({test grade_id: score}) replaces the manual scores too (None leaves them as they are);
    with a ``timestamp`` the student and the submission are made first when missing.
    """
    with open_gradebook(root) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy notices from inside nbgrader's API
        if timestamp is not None:
            gradebook.update_or_create_student(student)
            submission = gradebook.update_or_create_submission(lesson, student, timestamp=timestamp)
        else:
            submission = gradebook.find_submission(lesson, student)
        for grade in _grades(submission):
            if grade.name in scores:
                grade.auto_score = scores[grade.name]
                grade.needs_manual_grade = False
            if manual is not None:
                grade.manual_score = manual.get(grade.name)
        gradebook.db.commit()


def manual_scores(course: Path, lesson: str, student: str) -> dict[str, float]:
    """{test grade_id: manual score} the instructor gave ``student`` in formgrader (empty if none)."""
    if not (Path(course) / "gradebook.db").exists():
        return {}
    with open_gradebook(course) as gradebook:
        submission = _find_submission(gradebook, lesson, student)
        return {g.name: g.manual_score for g in _grades(submission) if g.manual_score is not None} \
            if submission is not None else {}


def nbgrader_scores(root: Path, lesson: str, student: str) -> dict[str, float | None]:
    """{test grade_id: the score nbgrader gave inside the student's kernel} (empty if not graded)."""
    with open_gradebook(root) as gradebook:
        submission = _find_submission(gradebook, lesson, student)
        return {g.name: g.auto_score for g in _grades(submission)} if submission is not None else {}


def store_result(course: Path, lesson: str, submission, result: GradingResult, digest: str) -> None:
    """Write one graded submission into the instructor's course: files first, then the gradebook.

    ``submission`` is a :class:`course_utils.grading.collect.Submission`; ``digest`` the sha256 of its
    ``content``, the bytes that were graded (stored as ``submitted/<student>/<lesson>/<lesson>.ipynb``).
    """
    student = result.student
    submitted = course / "submitted" / student / lesson
    submitted.mkdir(parents=True, exist_ok=True)
    nb.write_bytes_atomically(submitted / f"{lesson}.ipynb", submission.content)  # the bytes that were graded
    nb.write_text_atomically(submitted / "timestamp.txt", submission.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    nb.write_text_atomically(course / "autograded" / student / lesson / f"{lesson}.ipynb", result.autograded)
    nb.write_text_atomically(course / "feedback" / student / lesson / f"{lesson}.html", result.feedback)
    set_scores(course, lesson, student, {test_id: v.score for test_id, v in result.verdicts.items()},
               timestamp=submission.timestamp)
    nb.write_text_atomically(record_path(course, lesson, student),
                             json.dumps({"sha256": digest, **result.record()}, indent=1, sort_keys=True))


def _status(course: Path, lesson: str, student: str, submission=None) -> str:
    """``graded``, or ``graded without sandbox (--no-sandbox)`` when its last grading ran without one;
    then, when manually graded cells of ``submission`` (a gradebook submission) wait for the instructor,
    ``; manual grading pending: <cells> (counted as 0 until graded)``; then, if the grading report found
    something (edited or deleted cells, tampering, stopped cells, sandbox limits),
    ``; N finding(s) in the grading report (see the feedback)``."""
    record = read_record(course, lesson, student)
    status = "graded without sandbox (--no-sandbox)" if record.get("sandbox") is False else "graded"
    waiting = sorted(g.name for g in _grades(submission) if waiting_for_manual_grade(g)) if submission else []
    if waiting:
        status += f"; manual grading pending: {', '.join(waiting)} (counted as 0 until graded)"
    findings = [line for line in record.get("report", []) if not line.startswith("Graded without the grading sandbox")]
    if findings:
        status += f"; {len(findings)} finding(s) in the grading report (see the feedback)"
    return status


def _csv_rows(course: Path, gradebook) -> tuple[list[dict], list[str]]:
    """(one row per graded submission, the per-test-cell columns) of every lesson in the gradebook."""
    rows, columns = [], []
    for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
        columns += [f"{assignment.name}/{cell.name}" for notebook in assignment.notebooks
                    for cell in sorted(notebook.grade_cells, key=lambda c: c.name)]
        for submission in sorted(gradebook.assignment_submissions(assignment.name), key=lambda s: s.student.id):
            row = {"student": submission.student.id, "lesson": assignment.name,
                   "score": submission.score, "max_score": submission.max_score,
                   "status": _status(course, assignment.name, submission.student.id, submission)}
            row.update({f"{assignment.name}/{grade.name}": grade.score for grade in _grades(submission)})
            row.update(late_columns(read_record(course, assignment.name, submission.student.id), submission.score))
            rows.append(row)
    return rows, columns


#: Columns grades.csv gets when a lesson was graded with a deadline: ``score`` stays the raw score.
LATE_COLUMNS = ("days_late", "late_penalty", "final_score")


def late_columns(record: dict, raw: float) -> dict:
    """{days_late, late_penalty, final_score} of a graded submission whose grading record has a late-work
    decision (``record["late"]``), else {}; the penalty is that share of ``raw`` (the gradebook's score)."""
    late = record.get("late")
    if not late:
        return {}
    penalty = round(raw * late["share"], 2)
    return {"days_late": late["days"], "late_penalty": penalty, "final_score": round(raw - penalty, 2)}


def write_csv(course: Path, not_graded: list[tuple[str, str, str]] = ()) -> Path:
    """``grades.csv`` from the gradebook: student, lesson, score, max score, status, points per test cell, and
    :data:`LATE_COLUMNS` when a lesson was graded with a deadline (``score`` is then the raw score).

    ``not_graded`` adds (student, lesson, why) rows, with no score, for students of the last run whose
    file could not be graded and who have no grade yet: a spreadsheet then shows them too.
    """
    with open_gradebook(course) as gradebook:
        rows, columns = _csv_rows(Path(course), gradebook)
    graded = {(row["student"], row["lesson"]) for row in rows}
    rows += [{"student": student, "lesson": lesson, "status": f"not graded: {why}"}
             for student, lesson, why in not_graded if (student, lesson) not in graded]
    table = io.StringIO(newline="")
    late = [name for name in LATE_COLUMNS if any(name in row for row in rows)]
    writer = csv.DictWriter(table, ["student", "lesson", "score", "max_score", "status", *columns, *late])
    writer.writeheader()
    writer.writerows(rows)
    path = Path(course) / "grades.csv"
    nb.write_text_atomically(path, table.getvalue())
    return path


def _histogram(scores: list[float], maximum: float, bins: int = 5) -> list[str]:
    lines = []
    for b in range(bins):
        low, high = maximum * b / bins, maximum * (b + 1) / bins
        last = b == bins - 1
        count = sum(1 for s in scores if low <= s < high or (last and s == high))
        label = f"[{low:g}, {high:g}{']' if last else ')'}"
        lines.append(f"  {label:>10} | {'#' * count}{' ' if count else ''}{count}")
    return lines


def summary(course: Path, lesson: str, names: dict[str, str] | None = None) -> str:
    """Mean, spread and every exercise someone missed (most often first) of ``lesson``, from the gradebook.

    ``names`` maps test cell ids to what to call them (``Exercise 2: ... (ex2-test)``).
    """
    names = names or {}
    with open_gradebook(course) as gradebook:
        submissions = gradebook.assignment_submissions(lesson)
        scores = [s.score for s in submissions]
        if not scores:
            return f"No graded submissions of {lesson} yet."
        maximum = submissions[0].max_score
        missed: dict[str, int] = {}
        waiting: dict[str, int] = {}
        points: dict[str, float] = {}
        for grade in (g for submission in submissions for g in _grades(submission)):
            points[grade.name] = grade.max_score
            if waiting_for_manual_grade(grade):
                waiting[grade.name] = waiting.get(grade.name, 0) + 1
            elif (grade.score or 0) < grade.max_score:
                missed[grade.name] = missed.get(grade.name, 0) + 1
    lines = [f"{lesson}: {len(scores)} graded, mean {statistics.mean(scores):.1f} / {maximum:g}, "
             f"median {statistics.median(scores):g}, lowest {min(scores):g}, highest {max(scores):g}"]
    lines += _histogram(scores, maximum)
    worst = sorted(missed.items(), key=lambda item: (-item[1], item[0]))  # all of them: a lesson has a few
    if worst:
        lines.append("Missed, most often first:")
        lines += [f"  {names.get(name, name)}: {count} of {len(scores)} students ({points[name]:g} points)"
                  for name, count in worst]
    if waiting:
        lines.append("Waiting for manual grading (counted as 0 until you grade them in formgrader):")
        lines += [f"  {names.get(name, name)}: {count} of {len(scores)} students ({points[name]:g} points)"
                  for name, count in sorted(waiting.items())]
    return "\n".join(lines)
