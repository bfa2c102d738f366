"""Grade one submission in a private grading copy: one nbgrader autograde, verdicts, report, feedback.

Runs in a worker process of ``python -m course_utils grade``; each worker owns
one copy of the grading course (its "slot"), so workers never share an nbgrader
gradebook. The result goes back to the main process, which alone writes the
instructor's gradebook.

nbgrader runs the notebook once, with :class:`course_utils.grading.execution.GradingExecute`
in place of its own Execute step: the checks' values come from that run's messages, never
from a file the kernel could write. The kernel works in a folder of its own that nothing
reads back; nbgrader writes the autograded notebook into the slot, where no kernel can
reach. The feedback page is built here (:mod:`course_utils.grading.feedback_page`) from the
verdicts and the student's own code, without any of the kernel's outputs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat

from course_utils import models
from course_utils.models.environment import QDRANT_SERVER_SETTINGS
from course_utils.grading import capstone, check_results, execution, feedback_page, sandbox, safe_display, trusted
from course_utils.grading import notebooks as nb
from course_utils.grading.gradebook import nbgrader_scores
from course_utils.grading.jobs import GradingJob, GradingResult
from course_utils.grading.nbgrader_course import nbgrader_api, run_quietly

__all__ = ["grade_submission", "init_worker", "report_lines"]

_SLOT: Path | None = None
_LIMITS: sandbox.Limits | None = None


def init_worker(slots, environment: dict[str, str], limits: sandbox.Limits | None = None) -> None:
    """Process-pool initializer: take a free grading copy, the grading environment and the sandbox.

    Qdrant server settings are removed: notebooks are graded with Qdrant's embedded mode.
    ``limits`` None grades without the sandbox (``--no-sandbox``); otherwise every kernel
    runs in it, with the models' folder readable.

    What the worker and its kernels print (kernel start-up notices, nbgrader's log)
    goes to ``worker.log`` in its copy, not to the instructor's screen.
    """
    global _SLOT, _LIMITS
    _SLOT, _LIMITS = Path(slots.get()), limits
    os.environ.update(environment)
    sandbox.activate(limits, _SLOT / "kernels", readable=[models.cache_dir()])
    for name in QDRANT_SERVER_SETTINGS:
        os.environ.pop(name, None)  # graded notebooks use Qdrant's embedded mode, never a class server
    log = os.open(_SLOT / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)


def _cells(indices: list[int]) -> str:
    """``[3, 7, 8]`` -> ``cells 4, 8 and 9`` (1-based, as a student counts)."""
    numbers = [str(index + 1) for index in indices]
    if len(numbers) == 1:
        return f"cell {numbers[0]}"
    shown = numbers[:12] + (["..."] if len(numbers) > 12 else [])
    return "cells " + ", ".join(shown[:-1]) + " and " + shown[-1]


def _disagreements(job: GradingJob, verdicts: dict[str, trusted.Verdict], raw: dict[str, float | None]) -> list[str]:
    """Report lines for the test cells where nbgrader's score inside the kernel is not the verified one."""
    lines = []
    for test_id, verdict in verdicts.items():
        inside = raw.get(test_id)
        if job.test_cells[test_id].capstone is not None:  # in the kernel it only ran: the grader decides its points
            continue
        if inside is None or abs(float(inside) - verdict.score) < 1e-9:
            continue
        name = job.test_cells[test_id].name
        if inside > verdict.score:
            why = ("its checks passed inside the notebook but not when verified outside it: the notebook's "
                   "checking was altered")
        else:
            why = "the test cell failed inside the notebook although every check's result was right"
        lines.append(f"{name}: nbgrader gave {inside:g} point(s) inside the notebook, the verified score is "
                     f"{verdict.score:g}; {why}. Only the verified score counts.")
    return lines


def report_lines(job: GradingJob, run: execution.RunRecord, verdicts: dict[str, trusted.Verdict],
                 raw: dict[str, float | None]) -> list[str]:
    """Sentences for the grading report: structure, stopped and skipped cells, cut output, disagreements
    between nbgrader's in-kernel scores and the verified ones, tampering evidence."""
    lines = list(job.findings)
    for index, why in run.stopped:
        lines.append(f"Cell {index + 1} {why}; the grader stopped it and graded the rest.")
    if run.budget_spent_at is not None:
        skipped = f"; {_cells(run.not_run)} (not answers or tests) were not run" if run.not_run else ""
        lines.append(f"The notebook used up its time budget ({run.budget:g} s) at cell {run.budget_spent_at + 1}"
                     f"{skipped}; the answer and test cells after it still ran, for at most "
                     f"{execution.AFTER_BUDGET_SECONDS} s each.")
    if run.cut.get("text"):
        lines.append(f"The output of {_cells(run.cut['text'])} was cut by the grader: more than "
                     f"{execution.MAX_CELL_OUTPUT_CHARS:,} characters of text.")
    if run.cut.get("images"):
        lines.append(f"The images shown by {_cells(run.cut['images'])} were cut by the grader: more than "
                     f"{execution.MAX_CELL_IMAGE_CHARS:,} characters of images (base64 or SVG) in one cell.")
    if run.stray:
        lines.append(f"Code in {_cells(run.stray)} sent results that no running check wrote; they were ignored.")
    lines += _disagreements(job, verdicts, raw)
    if job.tampering:
        lines.append("The notebook contains code that " + "; ".join(job.tampering) +
                     ". Every exercise was checked outside the notebook, so this does not change the score.")
    return lines


def _sandbox_lines(autograded) -> list[str]:
    """Report lines about the sandbox: the cells that reached one of its limits, or that there was none."""
    if _LIMITS is None:
        return ["Graded without the grading sandbox: the instructor passed --no-sandbox."]
    return execution.limit_findings(autograded, _LIMITS)


def _submit(slot: Path, job: GradingJob) -> None:
    """Put the job's notebook into the slot as the student's submission."""
    submitted = slot / "submitted" / job.student / job.lesson
    submitted.mkdir(parents=True, exist_ok=True)
    nb.write_text_atomically(submitted / f"{job.lesson}.ipynb", job.notebook)
    nb.write_text_atomically(submitted / "timestamp.txt", job.timestamp)


def _autograde(slot: Path, job: GradingJob) -> tuple[object, execution.RunRecord]:
    """nbgrader autograde of the job's notebook, one pass (see the module docstring).

    Returns:
        (the autograded notebook, what the run found).

    Raises:
        RuntimeError: nbgrader could not grade it (the end of its log says why).
    """
    _submit(slot, job)
    run = execution.RunRecord(test_checks={test_id: [c.check_id for c in cell.checks]
                                           for test_id, cell in job.test_cells.items()},
                              timeout=job.timeout, budget=float(job.notebook_timeout))
    execution.CURRENT = run
    try:
        result = run_quietly(nbgrader_api(slot).autograde, job.lesson, job.student, force=True, create=True)
    finally:
        execution.CURRENT = None
    path = slot / "autograded" / job.student / job.lesson / f"{job.lesson}.ipynb"
    if not result["success"] or not path.is_file() or path.is_symlink():
        log_tail = "\n".join((result.get("log") or result.get("error") or "").strip().splitlines()[-15:])
        raise RuntimeError(f"nbgrader could not grade {job.student}; the end of its log:\n{log_tail}")
    return nb.read(path), run


def grade_submission(job: GradingJob) -> GradingResult:
    """Grade one sanitized submission in this worker's slot; see the module docstring.

    Returns:
        verified verdicts, nbgrader's own scores, stopped cells, report lines,
        the autograded notebook (JSON text, outputs made safe to display) and the feedback page (HTML text).
    """
    slot, lesson, student = _SLOT, job.lesson, job.student
    for folder in ("submitted", "autograded", "feedback"):
        shutil.rmtree(slot / folder / student, ignore_errors=True)
    autograded, run = _autograde(slot, job)
    stopped = {nb.nbgrader_info(autograded.cells[index]).get("grade_id"): why for index, why in run.stopped
               if index < len(autograded.cells)}
    verdicts = capstone.verdicts(job.test_cells, run.records, run.arrivals, stopped)
    raw = nbgrader_scores(slot, lesson, student)
    report = report_lines(job, run, verdicts, raw) + _sandbox_lines(autograded)
    safe_display.make_safe(autograded)
    page = feedback_page.render(job, nbformat.reads(job.notebook, as_version=4), verdicts, report,
                                feedback_page.limits_sentence(_LIMITS, job))
    return GradingResult(student=student, verdicts=verdicts, nbgrader_scores=raw, stopped_cells=run.stopped,
                         sandbox=_LIMITS is not None, report=report, autograded=nbformat.writes(autograded),
                         feedback=page, grader_peak_bytes=_peak_resident_bytes(), kernel_starts=run.kernel_starts,
                         seconds=run.seconds, checks=check_results.outcomes(job.test_cells, run.records),
                         late=job.late)


def _peak_resident_bytes() -> int:
    """The most memory this worker process has held at once (Linux and macOS; 0 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
