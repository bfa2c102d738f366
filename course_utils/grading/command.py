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
import hashlib
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import collect as collecting
from course_utils.grading import download_record
from course_utils.grading import interrupts, matching, nbgrader_course, round_trip, sandbox, sanitize, worker
from course_utils.grading import notebooks as nb
from course_utils.grading.gradebook import GRADING_RECORD, manual_scores, read_record, store_result, write_csv
from course_utils.grading.jobs import GradingJob
from course_utils.lesson.moved import MOVED_LESSONS, moved_lesson_message

__all__ = ["DEFAULT_LIMITS", "DEFAULT_NOTEBOOK_TIMEOUT", "GRADING_RECORD", "Outcome", "check_same_system", "grade",
           "store_result", "write_csv"]
#: The sandbox's limits when none are given (a frozen dataclass, so one shared value is safe).
DEFAULT_LIMITS = sandbox.Limits()
#: Seconds one notebook may run in all when no budget is given (``--notebook-timeout``).
DEFAULT_NOTEBOOK_TIMEOUT = 600


@dataclass
class Outcome:
    """What a ``grade`` run did. ``skipped`` lists (file, why); ``not_graded`` (student, why) for the
    students whose only file could not be graded; ``written`` the report and export files, ``problems`` what
    could not be written, ``round_trip_seconds`` the time they took (not part of ``seconds``)."""

    graded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    csv: Path | None = None
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    round_trip_seconds: float = 0.0


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _progress(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="notebook", desc="Grading", smoothing=0.1,
                bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed} elapsed, about {remaining} left")


def grade(course: Path, lesson: str, submissions_folder: Path, *, jobs: int | None = None, timeout: int = 60,
          notebook_timeout: int = DEFAULT_NOTEBOOK_TIMEOUT,
          regrade: bool = False, real_models: bool = False, roster: str | Path | None = None,
          echo: Callable[[str], object] | None = None,
          sandbox_limits: sandbox.Limits | None = DEFAULT_LIMITS,
          trip: round_trip.RoundTrip | None = None) -> Outcome:
    """Grade every submission of ``lesson`` in ``submissions_folder``; see the module docstring.

    ``roster``: a CSV of the class's student ids (:func:`matching.read_roster`) to match files exactly.
    ``timeout``: seconds a cell may run; ``notebook_timeout``: seconds the whole notebook may run (its
    slow cells are stopped, and once it is spent only answer and test cells still run).
    Every kernel runs in the grading sandbox with ``sandbox_limits`` (None: no sandbox, ``--no-sandbox``).
    ``grades.csv`` is rewritten from the gradebook at the end, also after an interrupt.
    ``echo`` is called with a line saying how many will be graded, before grading (the command line
    prints it; the library prints nothing itself, except the progress bar).
    ``trip``: late work, roster rows and exports (:class:`round_trip.RoundTrip`); after grading the class
    report and the exports it asks for are written (:func:`round_trip.finish`). None: no late work, no
    report, no exports (the ``grade`` command line always gives one: it writes the report by default).

    Returns:
        the :class:`Outcome`: who was graded, unchanged, skipped or failed, and where ``grades.csv`` is.

    Raises:
        ValueError: unknown lesson, missing folder or roster, a course directory without nbgrader_config.py,
            or a download from another learning system than the one the lesson was graded from
            (:func:`check_same_system`).
        sandbox.SandboxUnavailable (a ValueError): no sandbox can be made here (checked before grading).
        interrupts.GradingInterrupted: Ctrl+C; everything was stopped and cleaned up, its ``outcome``
            says what was stored.
    """
    started = time.monotonic()
    course, students = _checked_before_grading(course, lesson, roster, sandbox_limits)
    outcome = Outcome()
    trip = trip or round_trip.RoundTrip(report=False)  # the command line always passes one (with the report)
    with interrupts.handled():
        try:
            found = collecting.collect(Path(submissions_folder), lesson, students)
            try:
                check_same_system(course, lesson, found)
            except ValueError:
                found.cleanup()
                raise
            outcome.skipped = list(found.skipped)
            outcome.not_graded = list(found.unreadable)
            try:
                _grade_collected(_Run(course, lesson, found, outcome, jobs, timeout, notebook_timeout, regrade,
                                      real_models, echo or (lambda _line: None), sandbox_limits, trip=trip))
                round_trip.remember_download(course, lesson, found, outcome, trip)
            finally:
                found.cleanup()
        except KeyboardInterrupt:
            outcome.csv = _write_csv_if_graded(course, lesson, outcome)
            outcome.seconds = time.monotonic() - started
            raise interrupts.GradingInterrupted(outcome) from None
        outcome.csv = _write_csv_if_graded(course, lesson, outcome)
    outcome.seconds = time.monotonic() - started
    outcome.written, outcome.problems, outcome.round_trip_seconds = round_trip.finish(course, lesson, trip)
    return outcome


def _checked_before_grading(course: Path, lesson: str, roster, sandbox_limits) -> tuple[Path, frozenset | None]:
    """(the course folder resolved, the roster's students or None), after the checks that refuse to start."""
    if lesson in MOVED_LESSONS:
        raise ValueError(moved_lesson_message(lesson))
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise ValueError(f"{course} is not a course directory (no nbgrader_config.py): run the command from the "
                         "course's folder, or pass --course")
    students = matching.read_roster(roster) if roster is not None else None
    if sandbox_limits is not None:
        sandbox.check_available(sandbox_limits)
    return course, students


def check_same_system(course: Path, lesson: str, found: collecting.Collected) -> None:
    """Refuse a download from another learning system than the one ``lesson`` was already graded from.

    Each system names students by its own ids (Canvas's numeric user id, Blackboard's username, Moodle's
    participant id), so one student graded from two systems' downloads would be two students in the
    gradebook, ``grades.csv``, the report and the exports (whose files then hold the other system's ids).
    A lesson is graded from one system: the one its ``reports/<lesson>/download.json`` names. Downloads
    without a system (a folder per student) are not checked: their ids are whatever the folders say.

    Raises:
        ValueError: the lesson was graded from another system's download; the message says what to do.
    """
    systems = {submission.system for submission in found.submissions if submission.system}
    earlier = download_record.load(course, lesson).system
    if not earlier or not systems or systems == {earlier}:
        return
    now = " and ".join(sorted(systems))
    raise ValueError(
        f"{lesson} was already graded from a {earlier} download, and this is a {now} download. The systems "
        f"give the same students different ids, so grading it here would list them twice in the gradebook, "
        f"grades.csv and the report, and put {now} ids into the {earlier} exports. Grade each lesson from one "
        f"system: grade {lesson}'s {earlier} download again, or grade this download in a separate course "
        f"folder (a fresh copy of the course, with --course FOLDER).")


def _write_csv_if_graded(course: Path, lesson: str, outcome: Outcome) -> Path | None:
    """``grades.csv`` from the gradebook (None when there is no gradebook yet), with a row for each student of
    this run who has no grade because their file could not be read or their grading failed."""
    rows = [(student, lesson, why) for student, why in outcome.not_graded]
    rows += [(student, lesson, f"grading failed ({why})") for student, why in outcome.failed]
    if not rows and not (course / "gradebook.db").exists():
        return None
    return write_csv(course, rows)


@dataclass
class _Run:
    """One ``grade`` run: what it grades, how, and what it did so far."""

    course: Path
    lesson: str
    found: collecting.Collected
    outcome: Outcome
    jobs: int | None
    timeout: int
    notebook_timeout: int
    regrade: bool
    real_models: bool
    echo: Callable[[str], object]
    limits: sandbox.Limits | None
    setup: nbgrader_course.GradingSetup | None = None
    trip: round_trip.RoundTrip = field(default_factory=round_trip.RoundTrip)


def _job(run: _Run, submission: collecting.Submission) -> GradingJob | None:
    """The grading job of one submission, or None when it cannot be graded (recorded in the outcome)."""
    try:
        repaired = sanitize.sanitize(sanitize.read_submission(submission.content), run.setup.release, run.lesson)
    except sanitize.UnreadableSubmission as problem:
        run.outcome.skipped.append((run.found.display(submission.path), f"{problem}"))
        run.outcome.not_graded.append((submission.student, f"{run.found.display(submission.path)} {problem}"))
        return None
    return GradingJob(
        lesson=run.lesson, student=submission.student, notebook=nb.write_string(repaired.notebook),
        timestamp=submission.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"),
        test_cells=run.setup.test_cells, timeout=run.timeout, notebook_timeout=run.notebook_timeout,
        visible_sources={k: c.source for k, c in nb.test_cells(run.setup.release).items()},
        manual_scores=manual_scores(run.course, run.lesson, submission.student),
        findings=repaired.findings, tampering=repaired.tampering, late=run.trip.lateness(submission),
        manual_cells=nb.manual_cells(run.setup.release))


def _grade_collected(run: _Run) -> None:
    run.setup = nbgrader_course.prepare(run.course, run.lesson, run.timeout)
    todo = []
    for submission in run.found.submissions:
        digest = _sha256(submission.content)
        if not run.regrade and read_record(run.course, run.lesson, submission.student).get("sha256") == digest:
            run.outcome.unchanged.append(submission.student)
            continue
        job = _job(run, submission)
        if job is not None:
            todo.append((submission, digest, job))
    jobs = max(1, min(run.jobs or os.cpu_count() or 1, len(todo) or 1))
    run.echo(f"{len(todo)} to grade, {len(run.outcome.unchanged)} unchanged since last graded, "
             f"{len(run.outcome.skipped)} skipped; {jobs} worker(s).")
    try:
        if todo:
            _run(run, todo, jobs)
    finally:
        shutil.rmtree(run.setup.template.parent, ignore_errors=True)


def _grading_environment(scratch: Path) -> dict[str, str]:
    """The environment variables the workers get: the models' cache, and scratch for temporary files."""
    environment = {name: os.environ[name] for name in ("FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE")
                   if name in os.environ}
    # kernels' connection files and every temporary file of workers and kernels go to the
    # scratch folder, which is always removed (an interrupted kernel cannot clean up after itself)
    environment["JUPYTER_RUNTIME_DIR"] = str(scratch / "runtime")
    environment["TMPDIR"] = str(scratch / "tmp")
    (scratch / "tmp").mkdir(exist_ok=True)
    return environment


def _run(run: _Run, todo: list[tuple[collecting.Submission, str, GradingJob]], jobs: int) -> None:
    """Grade ``todo`` [(submission, sha256 of its file, job)] in ``jobs`` worker processes, storing each result."""
    from course_utils.models.standins import standin_models

    scratch = run.setup.template.parent
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for number in range(jobs):
        slot = scratch / f"worker-{number}"
        shutil.copytree(run.setup.template, slot)
        slots.put(str(slot))
    models = standin_models(scratch / "models") if not run.real_models else contextlib.nullcontext()
    with models:
        environment = _grading_environment(scratch)
        progress = _progress(len(todo))
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=interrupts.init_worker,
                                   initargs=(slots, environment, run.limits))
        try:
            futures = {pool.submit(worker.grade_submission, job): (submission, digest)
                       for submission, digest, job in todo}
            for future in as_completed(futures):
                submission, digest = futures[future]
                with interrupts.deferred():  # a result is stored whole or not at all
                    _store(run, submission, digest, future, progress)
                progress.update(1)
            pool.shutdown()
        except BaseException:
            interrupts.stop_workers(pool)
            raise
        finally:
            progress.close()


def _store(run: _Run, submission: collecting.Submission, digest: str, future, progress) -> None:
    """Store one finished grading (or record why it failed)."""
    try:
        result = future.result()
        store_result(run.course, run.lesson, submission, result, digest)
        run.outcome.graded.append(submission.student)
        progress.set_postfix_str(f"{submission.student}: {result.score:g}/{result.points:g}")
    except Exception as error:  # one broken submission must not stop the class
        run.outcome.failed.append((submission.student, f"{type(error).__name__}: {error}"[:500]))
