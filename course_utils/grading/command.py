"""``python -m course_utils grade <lesson> <submissions>``: grade a whole class in one step.

1. collect the submissions (one folder per student, or a flat LMS download, or a zip of either);
2. read each one, report those that cannot be graded, repair what nbgrader cannot survive;
3. grade them in parallel worker processes, each in its own private copy of the course
   (nbgrader autograde, cells that hang or kill the kernel stopped, every check verified
   outside the student's kernel, HTML feedback);
4. write the scores into the course's nbgrader gradebook, one student at a time, and
   ``grades.csv``; print a summary.

Submissions whose file is unchanged since they were last graded are not graded again
(``--regrade`` forces it); earlier grades are never removed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import multiprocessing
import os
import shutil
import statistics
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import collect as collecting
from course_utils.grading import nbgrader_course, sanitize, worker
from course_utils.grading import notebooks as nb

GRADING_RECORD = "course_grading.json"


@dataclass
class Outcome:
    graded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _record_path(course: Path, lesson: str, student: str) -> Path:
    return course / "autograded" / student / lesson / GRADING_RECORD


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.writing")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def store_result(course: Path, lesson: str, submission: collecting.Submission, result: dict, digest: str) -> None:
    """Write one graded submission into the instructor's course: files first, then the gradebook."""
    from nbgrader.api import Gradebook

    student = result["student"]
    submitted = course / "submitted" / student / lesson
    submitted.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(submission.path, submitted / f"{lesson}.ipynb")
    (submitted / "timestamp.txt").write_text(submission.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    _write_atomically(course / "autograded" / student / lesson / f"{lesson}.ipynb", result["autograded"])
    _write_atomically(course / "feedback" / student / lesson / f"{lesson}.html", result["feedback"])
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy notices from inside nbgrader's API
        gradebook.update_or_create_student(student)
        record = gradebook.update_or_create_submission(lesson, student, timestamp=submission.timestamp)
        for notebook in record.notebooks:
            for grade in notebook.grades:
                verdict = result["verdicts"].get(grade.name)
                if verdict is not None:
                    grade.auto_score = verdict["score"]
                    grade.needs_manual_grade = False
        gradebook.db.commit()
    _write_atomically(_record_path(course, lesson, student),
                      json.dumps({"sha256": digest, **json.loads(worker.result_json(result))}, indent=1))


def write_csv(course: Path) -> Path:
    """``grades.csv`` from the gradebook: student, lesson, score, max score, points per test cell."""
    from nbgrader.api import Gradebook

    rows, columns = [], []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            names = [f"{assignment.name}/{cell.name}" for notebook in assignment.notebooks
                     for cell in sorted(notebook.grade_cells, key=lambda c: c.name)]
            columns += names
            for submission in sorted(gradebook.assignment_submissions(assignment.name), key=lambda s: s.student.id):
                row = {"student": submission.student.id, "lesson": assignment.name,
                       "score": submission.score, "max_score": submission.max_score}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        row[f"{assignment.name}/{grade.name}"] = grade.score
                rows.append(row)
    path = course / "grades.csv"
    temporary = path.with_name(".grades.csv.writing")
    with open(temporary, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, ["student", "lesson", "score", "max_score", *columns])
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(path)
    return path


def summary(course: Path, lesson: str) -> str:
    """Mean, spread and the most missed exercises of ``lesson``, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submissions = gradebook.assignment_submissions(lesson)
        scores = [s.score for s in submissions]
        if not scores:
            return f"No graded submissions of {lesson} yet."
        maximum = submissions[0].max_score
        missed: dict[str, int] = {}
        points: dict[str, float] = {}
        for submission in submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    points[grade.name] = grade.max_score
                    if (grade.score or 0) < grade.max_score:
                        missed[grade.name] = missed.get(grade.name, 0) + 1
    lines = [f"{lesson}: {len(scores)} graded, mean {statistics.mean(scores):.1f} / {maximum:g}, "
             f"median {statistics.median(scores):g}, lowest {min(scores):g}, highest {max(scores):g}"]
    bins = 5
    for b in range(bins):
        low, high = maximum * b / bins, maximum * (b + 1) / bins
        count = sum(1 for s in scores if low <= s < high or (b == bins - 1 and s == high))
        lines.append(f"  {low:5.1f}-{high:5.1f} | {'#' * count} {count}")
    worst = sorted(missed.items(), key=lambda item: (-item[1], item[0]))[:3]
    if worst:
        lines.append("Most often missed: " + ", ".join(
            f"{name} ({count} of {len(scores)} students, {points[name]:g} points)" for name, count in worst))
    return "\n".join(lines)


def _progress(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="notebook", desc="Grading", smoothing=0.1,
                bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed} elapsed, about {remaining} left")


def grade(course: Path, lesson: str, submissions_folder: Path, *, jobs: int | None = None, timeout: int = 60,
          regrade: bool = False, real_models: bool = False, echo=print) -> Outcome:
    """Grade every submission of ``lesson`` in ``submissions_folder``; see the module docstring.

    Raises:
        ValueError: unknown lesson, missing folder, or a course directory without nbgrader_config.py.
    """
    started = time.monotonic()
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise ValueError(f"{course} is not a course directory (no nbgrader_config.py): run the command from the "
                         "course's folder, or pass --course")
    found = collecting.collect(Path(submissions_folder))
    outcome = Outcome(skipped=list(found.skipped))
    setup = nbgrader_course.prepare(course, lesson, timeout)
    todo = []
    for submission in found.submissions:
        digest = _sha256(submission.path)
        record = _record_path(course, lesson, submission.student)
        if not regrade and record.exists() and json.loads(record.read_text()).get("sha256") == digest:
            outcome.unchanged.append(submission.student)
            continue
        try:
            repaired = sanitize.sanitize(sanitize.read_submission(submission.path), setup.release, lesson)
        except sanitize.UnreadableSubmission as problem:
            outcome.skipped.append((str(submission.path.name if submission.path.parent == submissions_folder
                                        else submission.path), f"{problem}"))
            continue
        todo.append((submission, digest, {
            "lesson": lesson, "student": submission.student, "notebook": nb.write_string(repaired.notebook),
            "timestamp": submission.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"),
            "test_cells": setup.test_cells, "timeout": timeout,
            "visible_sources": {k: c.source for k, c in nb.test_cells(setup.release).items()},
            "findings": repaired.findings, "tampering": repaired.tampering}))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    echo(f"{len(todo)} to grade, {len(outcome.unchanged)} unchanged since last graded, "
         f"{len(outcome.skipped)} skipped; {jobs} worker(s).")
    if todo:
        _run(course, lesson, setup, todo, jobs, real_models, outcome)
    shutil.rmtree(setup.template.parent, ignore_errors=True)
    outcome.seconds = time.monotonic() - started
    return outcome


def _run(course, lesson, setup, todo, jobs, real_models, outcome) -> None:
    from course_utils.standins import standin_models

    scratch = setup.template.parent
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for number in range(jobs):
        slot = scratch / f"worker-{number}"
        shutil.copytree(setup.template, slot)
        slots.put(str(slot))
    models = standin_models(scratch / "models") if not real_models else contextlib.nullcontext()
    with models:
        environment = {name: os.environ[name] for name in ("FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE")
                       if name in os.environ}
        progress = _progress(len(todo))
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=worker.init_worker,
                                 initargs=(slots, environment)) as pool:
            futures = {pool.submit(worker.grade_submission, job): (submission, digest)
                       for submission, digest, job in todo}
            for future in as_completed(futures):
                submission, digest = futures[future]
                try:
                    result = future.result()
                    store_result(course, lesson, submission, result, digest)
                    outcome.graded.append(submission.student)
                    score = sum(v["score"] for v in result["verdicts"].values())
                    total = sum(v["points"] for v in result["verdicts"].values())
                    progress.set_postfix_str(f"{submission.student}: {score:g}/{total:g}")
                except Exception as error:  # one broken submission must not stop the class
                    outcome.failed.append((submission.student, f"{type(error).__name__}: {error}"[:500]))
                progress.update(1)
        progress.close()


def run_command(args) -> int:
    """The ``grade`` command line; returns the exit status."""
    course = Path(args.course).resolve()
    try:
        outcome = grade(course, args.lesson, Path(args.submissions), jobs=args.jobs, timeout=args.timeout,
                        regrade=args.regrade, real_models=args.real_models)
    except ValueError as error:
        print(f"Cannot grade: {error}")
        return 2
    csv_path = write_csv(course)
    print()
    print(summary(course, args.lesson))
    for name, why in outcome.skipped:
        print(f"Not graded: {name} {why}")
    for student, why in outcome.failed:
        print(f"Grading failed for {student}: {why}")
    print(f"\nGraded {len(outcome.graded)} in {outcome.seconds:.0f} s; "
          f"{len(outcome.unchanged)} unchanged since their last grading (use --regrade to grade them again).")
    print(f"Gradebook: {course / 'gradebook.db'} (open it with nbgrader's formgrader)")
    print(f"Scores:    {csv_path}")
    print(f"Feedback:  {course / 'feedback'}/<student>/{args.lesson}/{args.lesson}.html")
    return 1 if outcome.failed else 0
