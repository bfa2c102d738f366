"""``python -m course_utils grade <lesson> <submissions>``: grade a whole class in one step.

1. collect the submissions (one folder per student, or a flat LMS download, or a zip of either);
2. read each one, report those that cannot be graded, repair what nbgrader cannot survive;
3. grade them in parallel worker processes, each in its own private copy of the course
   (nbgrader autograde, cells that hang or kill the kernel stopped, every check verified
   outside the student's kernel, HTML feedback);
4. write the scores into the course's nbgrader gradebook, one student at a time, and
   ``grades.csv`` (rewritten from the gradebook at the end of every run, interrupted or not);
   print a summary.

Ctrl+C stops the workers and their kernels, removes the scratch folders, keeps every result
already stored and rewrites ``grades.csv``; the same command then grades the rest
(see :mod:`course_utils.grading.interrupts`).

Submissions whose file is unchanged since they were last graded are not graded again
(``--regrade`` forces it); earlier grades are never removed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
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
from course_utils.grading import feedback_header, interrupts, matching, nbgrader_course, sandbox, sanitize, worker
from course_utils.grading.nbgrader_course import open_gradebook
from course_utils.grading import notebooks as nb

GRADING_RECORD = "course_grading.json"
#: The sandbox's limits when none are given (a frozen dataclass, so one shared value is safe).
DEFAULT_LIMITS = sandbox.Limits()


@dataclass
class Outcome:
    """What a ``grade`` run did. ``skipped`` lists (file, why); ``not_graded`` (student, why) for the
    students whose only file could not be graded."""

    graded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    csv: Path | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _record_path(course: Path, lesson: str, student: str) -> Path:
    return course / "autograded" / student / lesson / GRADING_RECORD


def store_result(course: Path, lesson: str, submission: collecting.Submission, result: dict, digest: str) -> None:
    """Write one graded submission into the instructor's course: files first, then the gradebook."""
    student = result["student"]
    submitted = course / "submitted" / student / lesson
    submitted.mkdir(parents=True, exist_ok=True)
    if Path(submission.path).resolve() != (submitted / f"{lesson}.ipynb").resolve():
        shutil.copyfile(submission.path, submitted / f"{lesson}.ipynb")
    (submitted / "timestamp.txt").write_text(submission.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    nb.write_text_atomically(course / "autograded" / student / lesson / f"{lesson}.ipynb", result["autograded"])
    nb.write_text_atomically(course / "feedback" / student / lesson / f"{lesson}.html", result["feedback"])
    with open_gradebook(course) as gradebook, warnings.catch_warnings():
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
    nb.write_text_atomically(_record_path(course, lesson, student),
                      json.dumps({"sha256": digest, **json.loads(worker.result_json(result))}, indent=1))


def manual_scores(course: Path, lesson: str, student: str) -> dict[str, float]:
    """{test grade_id: manual score} the instructor gave ``student`` in formgrader (empty if none)."""
    from nbgrader.api import MissingEntry

    if not (course / "gradebook.db").exists():
        return {}
    with open_gradebook(course) as gradebook:
        try:
            submission = gradebook.find_submission(lesson, student)
        except MissingEntry:
            return {}
        return {g.name: g.manual_score for n in submission.notebooks for g in n.grades if g.manual_score is not None}


def _status(course: Path, lesson: str, student: str) -> str:
    """``graded``, or ``graded without sandbox (--no-sandbox)`` when its last grading ran without one."""
    record = _record_path(course, lesson, student)
    if record.exists() and json.loads(record.read_text()).get("sandbox") is False:
        return "graded without sandbox (--no-sandbox)"
    return "graded"


def write_csv(course: Path, not_graded: list[tuple[str, str, str]] = ()) -> Path:
    """``grades.csv`` from the gradebook: student, lesson, score, max score, status, points per test cell.

    ``not_graded`` adds (student, lesson, why) rows, with no score, for students of the last run whose
    file could not be graded and who have no grade yet: a spreadsheet then shows them too.
    """
    rows, columns, graded = [], [], set()
    with open_gradebook(course) as gradebook:
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            names = [f"{assignment.name}/{cell.name}" for notebook in assignment.notebooks
                     for cell in sorted(notebook.grade_cells, key=lambda c: c.name)]
            columns += names
            for submission in sorted(gradebook.assignment_submissions(assignment.name), key=lambda s: s.student.id):
                row = {"student": submission.student.id, "lesson": assignment.name,
                       "score": submission.score, "max_score": submission.max_score,
                       "status": _status(course, assignment.name, submission.student.id)}
                graded.add((submission.student.id, assignment.name))
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        row[f"{assignment.name}/{grade.name}"] = grade.score
                rows.append(row)
    rows += [{"student": student, "lesson": lesson, "status": f"not graded: {why}"}
             for student, lesson, why in not_graded if (student, lesson) not in graded]
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, ["student", "lesson", "score", "max_score", "status", *columns])
    writer.writeheader()
    writer.writerows(rows)
    path = course / "grades.csv"
    nb.write_text_atomically(path, table.getvalue())
    return path


def summary(course: Path, lesson: str, names: dict[str, str] | None = None) -> str:
    """Mean, spread and the most missed exercises of ``lesson``, from the gradebook.

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
        last = b == bins - 1
        count = sum(1 for s in scores if low <= s < high or (last and s == high))
        label = f"[{low:g}, {high:g}{']' if last else ')'}"
        lines.append(f"  {label:>10} | {'#' * count}{' ' if count else ''}{count}")
    worst = sorted(missed.items(), key=lambda item: (-item[1], item[0]))[:3]
    if worst:
        lines.append("Most often missed:")
        lines += [f"  {names.get(name, name)}: {count} of {len(scores)} students ({points[name]:g} points)"
                  for name, count in worst]
    return "\n".join(lines)


def _progress(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="notebook", desc="Grading", smoothing=0.1,
                bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed} elapsed, about {remaining} left")


def grade(course: Path, lesson: str, submissions_folder: Path, *, jobs: int | None = None, timeout: int = 60,
          regrade: bool = False, real_models: bool = False, roster: str | Path | None = None,
          echo=print, sandbox_limits: sandbox.Limits | None = DEFAULT_LIMITS) -> Outcome:
    """Grade every submission of ``lesson`` in ``submissions_folder``; see the module docstring.

    ``roster``: a CSV of the class's student ids (:func:`matching.read_roster`) to match files exactly.
    Every kernel runs in the grading sandbox with ``sandbox_limits`` (None: no sandbox, ``--no-sandbox``).
    ``grades.csv`` is rewritten from the gradebook at the end, also after an interrupt.

    Raises:
        ValueError: unknown lesson, missing folder or roster, or a course directory without nbgrader_config.py.
        sandbox.SandboxUnavailable (a ValueError): no sandbox can be made here (checked before grading).
        interrupts.GradingInterrupted: Ctrl+C; everything was stopped and cleaned up, its ``outcome``
            says what was stored.
    """
    started = time.monotonic()
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise ValueError(f"{course} is not a course directory (no nbgrader_config.py): run the command from the "
                         "course's folder, or pass --course")
    students = matching.read_roster(roster) if roster is not None else None
    if sandbox_limits is not None:
        sandbox.check_available(sandbox_limits)
    outcome = Outcome()
    with interrupts.handled():
        try:
            found = collecting.collect(Path(submissions_folder), lesson, students)
            outcome.skipped = list(found.skipped)
            try:
                _grade_collected(course, lesson, found, outcome, jobs, timeout, regrade, real_models, echo,
                                 sandbox_limits)
            finally:
                found.cleanup()
        except KeyboardInterrupt:
            outcome.csv = _write_csv_if_graded(course, lesson, outcome)
            outcome.seconds = time.monotonic() - started
            raise interrupts.GradingInterrupted(outcome) from None
        outcome.csv = _write_csv_if_graded(course, lesson, outcome)
    outcome.seconds = time.monotonic() - started
    return outcome


def _write_csv_if_graded(course: Path, lesson: str, outcome: Outcome) -> Path | None:
    """``grades.csv`` from the gradebook (None when there is no gradebook yet)."""
    if not (course / "gradebook.db").exists():
        return None
    return write_csv(course, [(student, lesson, why) for student, why in outcome.not_graded])


def _grade_collected(course, lesson, found, outcome, jobs, timeout, regrade, real_models, echo, limits) -> None:
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
            outcome.skipped.append((found.display(submission.path), f"{problem}"))
            outcome.not_graded.append((submission.student, f"{found.display(submission.path)} {problem}"))
            continue
        todo.append((submission, digest, {
            "lesson": lesson, "student": submission.student, "notebook": nb.write_string(repaired.notebook),
            "timestamp": submission.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"),
            "test_cells": setup.test_cells, "timeout": timeout,
            "visible_sources": {k: c.source for k, c in nb.test_cells(setup.release).items()},
            "manual_scores": manual_scores(course, lesson, submission.student),
            "findings": repaired.findings, "tampering": repaired.tampering}))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    echo(f"{len(todo)} to grade, {len(outcome.unchanged)} unchanged since last graded, "
         f"{len(outcome.skipped)} skipped; {jobs} worker(s).")
    try:
        if todo:
            _run(course, lesson, setup, todo, jobs, real_models, outcome, limits)
    finally:
        shutil.rmtree(setup.template.parent, ignore_errors=True)


def _run(course, lesson, setup, todo, jobs, real_models, outcome, limits) -> None:
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
        # kernels' connection files and every temporary file of workers and kernels go to the
        # scratch folder, which is always removed (an interrupted kernel cannot clean up after itself)
        environment["JUPYTER_RUNTIME_DIR"] = str(scratch / "runtime")
        environment["TMPDIR"] = str(scratch / "tmp")
        (scratch / "tmp").mkdir(exist_ok=True)
        progress = _progress(len(todo))
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=interrupts.init_worker,
                                   initargs=(slots, environment, limits))
        try:
            futures = {pool.submit(worker.grade_submission, job): (submission, digest)
                       for submission, digest, job in todo}
            for future in as_completed(futures):
                submission, digest = futures[future]
                with interrupts.deferred():  # a result is stored whole or not at all
                    _store(course, lesson, setup, submission, digest, future, outcome, progress)
                progress.update(1)
            pool.shutdown()
        except BaseException:
            interrupts.stop_workers(pool)
            raise
        finally:
            progress.close()


def _store(course, lesson, setup, submission, digest, future, outcome, progress) -> None:
    """Store one finished grading (or record why it failed)."""
    try:
        result = future.result()
        result["feedback"] = feedback_header.name_exercises(result["feedback"], setup.test_cells)
        store_result(course, lesson, submission, result, digest)
        outcome.graded.append(submission.student)
        score = sum(v["score"] for v in result["verdicts"].values())
        total = sum(v["points"] for v in result["verdicts"].values())
        progress.set_postfix_str(f"{submission.student}: {score:g}/{total:g}")
    except Exception as error:  # one broken submission must not stop the class
        outcome.failed.append((submission.student, f"{type(error).__name__}: {error}"[:500]))


def sandbox_limits(args) -> sandbox.Limits | None:
    """The sandbox's limits from the command line's options, or None with ``--no-sandbox``."""
    if getattr(args, "no_sandbox", False):
        print("Grading WITHOUT the sandbox (--no-sandbox): each notebook runs with your files, your network and "
              "no limits. Grades.csv and the feedback say so.")
        return None
    chosen = {name: getattr(args, option, None) for name, option in
              (("memory", "memory"), ("processes", "max_processes"), ("file_size", "max_file_size"))}
    return sandbox.Limits(**{name: value for name, value in chosen.items() if value is not None})


def run_command(args) -> int:
    """The ``grade`` command line; returns the exit status."""
    course = Path(args.course).resolve()
    try:
        outcome = grade(course, args.lesson, Path(args.submissions), jobs=args.jobs, timeout=args.timeout,
                        regrade=args.regrade, real_models=args.real_models, roster=args.roster,
                        sandbox_limits=sandbox_limits(args))
    except ValueError as error:
        print(f"Cannot grade: {error}")
        return 2
    except interrupts.GradingInterrupted as stopped:
        print(f"\nInterrupted: {len(stopped.outcome.graded)} graded and stored in this run"
              + (f", {stopped.outcome.csv} rewritten from the gradebook" if stopped.outcome.csv else "")
              + "; run the same command again to grade the rest.", flush=True)
        return 130
    csv_path = outcome.csv or write_csv(course)
    from course_utils.grading import trusted

    source = nb.read(nbgrader_course.source_notebook_path(course, args.lesson))
    names = {test_id: cell.name for test_id, cell in trusted.test_cells(source).items()}
    print()
    print(summary(course, args.lesson, names))
    for name, why in outcome.skipped:
        print(f"Not graded: {name} {why}")
    for student, why in outcome.failed:
        print(f"Grading failed for {student}: {why}")
    unchanged = (f"; {len(outcome.unchanged)} unchanged since their last grading (use --regrade to grade them "
                 "again, for example after changing scores in formgrader, to refresh their feedback)"
                 if outcome.unchanged else "")
    print(f"\nGraded {len(outcome.graded)} in {outcome.seconds:.0f} s{unchanged}.")
    print(f"Gradebook: {course / 'gradebook.db'} (open it with nbgrader's formgrader)")
    print(f"Scores:    {csv_path}")
    print(f"Feedback:  {course / 'feedback'}/<student>/{args.lesson}/{args.lesson}.html")
    return 1 if outcome.failed else 0
