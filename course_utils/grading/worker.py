"""Grade one submission in a private grading copy: nbgrader autograde, stopped cells, verdicts, feedback.

Runs in a worker process of ``python -m course_utils grade``; each worker owns
one copy of the grading course (its "slot"), so workers never share an nbgrader
gradebook. The result goes back to the main process, which alone writes the
instructor's gradebook.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import nbformat

from course_utils import models
from course_utils.checks import LOG_VARIABLE
from course_utils.environment import QDRANT_SERVER_SETTINGS
from course_utils.grading import notebooks as nb
from course_utils.grading import sandbox, trusted
from course_utils.grading.gradebook import nbgrader_scores, set_scores
from course_utils.grading.jobs import GradingJob, GradingResult
from course_utils.grading.nbgrader_course import nbgrader_api, run_quietly

__all__ = ["MAX_OUTPUT_CHARS", "find_stopping_cells", "grade_submission", "init_worker", "report_lines"]

#: Longest text kept of one output in autograded notebooks and feedback (a cell printing
#: 50 MB must not make the feedback unreadable).
MAX_OUTPUT_CHARS = 20_000
#: Added to the feedback page: long lines of the grader's messages wrap inside their box.
WRAP_LINES_CSS = ("<style>div.output_area pre, div.output_subarea pre, div.output_text pre, div.input_area pre "
                  "{white-space: pre-wrap; overflow-wrap: anywhere;}</style>")
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


def _stub(cell, why: str) -> None:
    cell.source = f"raise RuntimeError({('The grader stopped this cell: it ' + why)!r})"
    cell.outputs, cell.execution_count = [], None


def find_stopping_cells(notebook, timeout: int, rounds: int = 6) -> list[tuple[int, str]]:
    """Cells that kill the kernel or run past ``timeout`` seconds (even ignoring interrupts).

    Runs the notebook cell by cell in a fresh kernel (in the sandbox when one is active);
    after each stop, stubs the cell and starts again, so cells after it are reached too.

    Returns:
        [(cell index, what it did)] in the order found.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    stoppers: list[tuple[int, str]] = []
    for _ in range(rounds):
        work = copy.deepcopy(notebook)
        for index, why in stoppers:
            _stub(work.cells[index], why)
        client = NotebookClient(work, timeout=timeout, interrupt_on_timeout=False, allow_errors=True,
                                kernel_name="python3", shutdown_kernel="immediate",
                                kernel_manager_class=sandbox.SandboxedKernelManager)
        current = None
        try:
            with client.setup_kernel():
                for current, cell in enumerate(work.cells):
                    if cell.cell_type == "code":
                        client.execute_cell(cell, current)
            return stoppers
        except CellTimeoutError:
            stoppers.append((current, f"ran longer than {timeout} s"))
        except DeadKernelError:
            stoppers.append((current, "stopped the Python kernel"))
        except Exception:  # the kernel could not even start or answer: nothing more to learn here
            return stoppers
    return stoppers


def _answer_cell_before(notebook, index: int) -> int:
    """The index of the answer cell a locked test cell at ``index`` exercises (the nearest one above)."""
    for position in range(index, -1, -1):
        if nb.is_solution(notebook.cells[position]):
            return position
    return index


def _truncate_outputs(notebook) -> None:
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and len(output.get("text", "")) > MAX_OUTPUT_CHARS:
                output["text"] = output["text"][:MAX_OUTPUT_CHARS] + \
                    f"\n... [output cut by the grader: {len(output['text']):,} characters in all]\n"
            for kind, value in list(output.get("data", {}).items()):
                if isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS and kind.startswith("text/"):
                    output["data"][kind] = value[:MAX_OUTPUT_CHARS] + "\n... [output cut by the grader]"


def _verdict_lines(verdict: trusted.Verdict, test: trusted.TestCell, errors: list, manual: float | None) -> list[str]:
    """What the feedback says under one test cell."""
    title = f"{test.title}: " if test.title else ""
    lines = [f"{title}{verdict.score:g} of {verdict.points:g} points (all or nothing: every check, "
             "visible and hidden, must pass)."]
    if manual is not None:
        lines.append(f"Your instructor set this exercise's score to {manual:g}.")
    error = errors[0] if errors else None
    if verdict.failures and error is not None and error.get("ename") == "NotImplementedError":
        return lines + ["  Not attempted yet: the answer cell still raises NotImplementedError()."]
    lines += [f"  - {failure}" for failure in verdict.failures]
    if verdict.failures and error is not None and error.get("ename") != "CheckFailed":  # failures say it
        message = str(error.get("evalue") or "").strip()
        lines.append(f"  The cell stopped with {error.get('ename')}" + (f": {message[:300]}" if message else "."))
    return lines


def _feedback_notebook(autograded, verdicts: dict[str, trusted.Verdict], report: list[str], job: GradingJob):
    """The autograded notebook as the student may see it: test cells as the student knows them
    (hidden checks and their code removed), their outputs replaced by the verified result."""
    shown = copy.deepcopy(autograded)
    for grade_id, cell in nb.test_cells(shown).items():
        verdict, test = verdicts.get(grade_id), job.test_cells.get(grade_id)
        hidden = sum(check.hidden for check in test.checks) if test else 0
        visible = job.visible_sources.get(grade_id, nb.without_hidden_tests(cell.source)).rstrip()
        cell.source = visible + (f"\n# ... and {hidden} hidden check(s), not shown" if hidden else "")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        lines = _verdict_lines(verdict, test, errors, job.manual_scores.get(grade_id)) if verdict and test else []
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    header = ["## Grading report", ""]
    header += [f"- {line}" for line in report] or ["- Nothing unusual was found in this notebook."]
    shown.cells.insert(0, nbformat.v4.new_markdown_cell("\n".join(header)))
    return shown


def report_lines(job: GradingJob, stoppers: list[tuple[int, str]], verdicts: dict[str, trusted.Verdict],
                 raw: dict[str, float | None], logged: dict[str, list]) -> list[str]:
    """Sentences for the grading report: structure, stopped cells, tampering evidence."""
    lines = list(job.findings)
    for index, why in stoppers:
        lines.append(f"Cell {index + 1} {why}; the grader stopped it and graded the rest.")
    for test_id, verdict in verdicts.items():
        if raw.get(test_id) and verdict.score == 0 and any(f.startswith("visible") for f in verdict.failures):
            name = job.test_cells[test_id].name
            lines.append(f"{name} passed inside the notebook, but its checks failed when verified outside "
                         "it: the notebook's checking was altered. Only the verified result counts.")
    known = {c.check_id for cell in job.test_cells.values() for c in cell.checks}
    if set(logged) - known:
        lines.append("The grading log contained entries that no check wrote; they were ignored.")
    if job.tampering:
        lines.append("The notebook contains code that " + "; ".join(job.tampering) +
                     ". Every exercise was checked outside the notebook, so this does not change the score.")
    return lines


def _sandbox_report(autograded) -> list[str]:
    """Report lines about the sandbox: the cells that reached one of its limits, or that there was none."""
    if _LIMITS is None:
        return ["Graded without the grading sandbox: the instructor passed --no-sandbox."]
    return sandbox.limit_findings(autograded, _LIMITS)


def _trial_notebook(slot: Path, lesson: str, notebook):
    """``notebook`` with its test cells as nbgrader runs them (the grading copy's versions)."""
    tests = nb.test_cells(nb.read(slot / "solutions" / lesson / f"{lesson}.ipynb"))
    trial = copy.deepcopy(notebook)
    for cell in trial.cells:
        grade_id = nb.nbgrader_info(cell).get("grade_id")
        if grade_id in tests:
            cell.source = tests[grade_id].source
    return trial


def _stop_cells(notebook, found: list[tuple[int, str]]) -> None:
    """Stub the cells that stopped the run; a stopping test cell stops the answer cell it exercises."""
    for index, why in found:
        target = index if not nb.is_locked(notebook.cells[index]) else _answer_cell_before(notebook, index)
        _stub(notebook.cells[target], why)


def _submit(slot: Path, job: GradingJob, notebook, log: Path) -> None:
    """Put ``notebook`` into the slot as the student's submission, with a fresh grading log."""
    submitted = slot / "submitted" / job.student / job.lesson
    submitted.mkdir(parents=True, exist_ok=True)
    nb.write(notebook, submitted / f"{job.lesson}.ipynb")
    (submitted / "timestamp.txt").write_text(job.timestamp)
    log.unlink(missing_ok=True)
    os.environ[LOG_VARIABLE] = str(log)


def _autograde(slot: Path, job: GradingJob, log: Path) -> tuple[Path, list[tuple[int, str]]]:
    """nbgrader autograde of the job's notebook; cells that hang or kill the kernel are found and stopped.

    Returns:
        (the autograded notebook's path, [(cell index, why it was stopped)]).
    """
    notebook = nbformat.reads(job.notebook, as_version=4)
    api = nbgrader_api(slot)
    stoppers: list[tuple[int, str]] = []
    failures = 0
    autograded = slot / "autograded" / job.student / job.lesson / f"{job.lesson}.ipynb"
    for _attempt in range(4):
        _submit(slot, job, notebook, log)
        result = run_quietly(api.autograde, job.lesson, job.student, force=True, create=True)
        if result["success"] and autograded.exists():
            return autograded, stoppers
        found = find_stopping_cells(_trial_notebook(slot, job.lesson, notebook), job.timeout)
        if not found:
            failures += 1  # nothing hangs or kills the kernel: a passing hitch, worth one more try
            if failures > 1:
                log_tail = "\n".join((result.get("log") or "").strip().splitlines()[-15:])
                raise RuntimeError(f"nbgrader could not grade {job.student} (twice, and no cell hangs or stops "
                                   f"the kernel); the end of its log:\n{log_tail}")
            continue
        _stop_cells(notebook, found)
        stoppers += found
    raise RuntimeError(f"nbgrader could not grade {job.student} even after stopping cells {stoppers}")


def _feedback_page(slot: Path, job: GradingJob, autograded_path: Path, autograded, shown) -> str:
    """nbgrader's feedback page of the notebook ``shown``; then ``autograded`` is written in its place."""
    nb.write(shown, autograded_path)
    feedback = run_quietly(nbgrader_api(slot).generate_feedback, job.lesson, job.student, force=True)
    nb.write(autograded, autograded_path)
    path = slot / "feedback" / job.student / job.lesson / f"{job.lesson}.html"
    if not feedback["success"] or not path.exists():
        raise RuntimeError(f"nbgrader could not make the feedback of {job.student}: {feedback.get('error')}")
    return path.read_text(encoding="utf-8").replace("</head>", WRAP_LINES_CSS + "</head>", 1)


def grade_submission(job: GradingJob) -> GradingResult:
    """Grade one sanitized submission in this worker's slot; see the module docstring.

    Returns:
        verified verdicts, nbgrader's own scores, stopped cells, report lines,
        the autograded notebook (JSON text) and the feedback page (HTML text).
    """
    slot, lesson, student = _SLOT, job.lesson, job.student
    for folder in ("submitted", "autograded", "feedback"):
        shutil.rmtree(slot / folder / student, ignore_errors=True)
    log = slot / "logs" / f"{student}.jsonl"
    log.parent.mkdir(exist_ok=True)
    autograded_path, stoppers = _autograde(slot, job, log)
    logged = trusted.read_log(log)
    verdicts = trusted.verdicts(job.test_cells, logged)
    raw = nbgrader_scores(slot, lesson, student)
    set_scores(slot, lesson, student, {k: v.score for k, v in verdicts.items()}, manual=job.manual_scores)
    autograded = nb.read(autograded_path)
    report = report_lines(job, stoppers, verdicts, raw, logged) + _sandbox_report(autograded)
    _truncate_outputs(autograded)
    shown = _feedback_notebook(autograded, verdicts, report, job)
    feedback = _feedback_page(slot, job, autograded_path, autograded, shown)
    return GradingResult(student=student, verdicts=verdicts, nbgrader_scores=raw, stopped_cells=stoppers,
                         sandbox=_LIMITS is not None, report=report, autograded=nbformat.writes(autograded),
                         feedback=feedback)
