"""Grade one submission in a private grading copy: nbgrader autograde, stopped cells, verdicts, feedback.

Runs in a worker process of ``python -m course_utils grade``; each worker owns
one copy of the grading course (its "slot"), so workers never share an nbgrader
gradebook. The result goes back to the main process, which alone writes the
instructor's gradebook.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import nbformat

from course_utils import models
from course_utils.checks import LOG_VARIABLE
from course_utils.environment import QDRANT_SERVER_SETTINGS
from course_utils.grading import notebooks as nb
from course_utils.grading import sandbox, trusted
from course_utils.grading.nbgrader_course import nbgrader_api, open_gradebook, run_quietly

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
        if nb.nbgrader_info(notebook.cells[position]).get("solution"):
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


def _raw_scores(slot: Path, lesson: str, student: str) -> dict[str, float | None]:
    from nbgrader.api import MissingEntry

    with open_gradebook(slot) as gradebook:
        try:
            submission = gradebook.find_submission(lesson, student)
        except MissingEntry:
            return {}
        return {grade.name: grade.auto_score for notebook in submission.notebooks for grade in notebook.grades}


def _set_scores(slot: Path, lesson: str, student: str, verdicts: dict[str, trusted.Verdict],
                manual: dict[str, float]) -> None:
    """Verified scores, and the instructor's manual scores, into the slot's gradebook (for the feedback)."""
    with open_gradebook(slot) as gradebook:
        submission = gradebook.find_submission(lesson, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.name in verdicts:
                    grade.auto_score = verdicts[grade.name].score
                    grade.needs_manual_grade = False
                grade.manual_score = manual.get(grade.name)
        gradebook.db.commit()


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


def _feedback_notebook(autograded, verdicts: dict[str, trusted.Verdict], report: list[str], job: dict):
    """The autograded notebook as the student may see it: test cells as the student knows them
    (hidden checks and their code removed), their outputs replaced by the verified result."""
    shown = copy.deepcopy(autograded)
    for grade_id, cell in nb.test_cells(shown).items():
        verdict, test = verdicts.get(grade_id), job["test_cells"].get(grade_id)
        hidden = sum(check.hidden for check in test.checks) if test else 0
        visible = job["visible_sources"].get(grade_id, nb.without_hidden_tests(cell.source)).rstrip()
        cell.source = visible + (f"\n# ... and {hidden} hidden check(s), not shown" if hidden else "")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        lines = _verdict_lines(verdict, test, errors, job["manual_scores"].get(grade_id)) if verdict and test else []
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    header = ["## Grading report", ""]
    header += [f"- {line}" for line in report] or ["- Nothing unusual was found in this notebook."]
    shown.cells.insert(0, nbformat.v4.new_markdown_cell("\n".join(header)))
    return shown


def report_lines(job: dict, stoppers: list[tuple[int, str]], verdicts: dict[str, trusted.Verdict],
                 raw: dict[str, float | None], logged: dict[str, list]) -> list[str]:
    """Sentences for the grading report: structure, stopped cells, tampering evidence."""
    lines = list(job.get("findings", []))
    for index, why in stoppers:
        lines.append(f"Cell {index + 1} {why}; the grader stopped it and graded the rest.")
    for test_id, verdict in verdicts.items():
        if raw.get(test_id) and verdict.score == 0 and any(f.startswith("visible") for f in verdict.failures):
            name = job["test_cells"][test_id].name
            lines.append(f"{name} passed inside the notebook, but its checks failed when verified outside "
                         "it: the notebook's checking was altered. Only the verified result counts.")
    known = {c.check_id for cell in job["test_cells"].values() for c in cell.checks}
    if set(logged) - known:
        lines.append("The grading log contained entries that no check wrote; they were ignored.")
    if job.get("tampering"):
        lines.append("The notebook contains code that " + "; ".join(job["tampering"]) +
                     ". Every exercise was checked outside the notebook, so this does not change the score.")
    return lines


def _sandbox_report(autograded) -> list[str]:
    """Report lines about the sandbox: the cells that reached one of its limits, or that there was none."""
    if _LIMITS is None:
        return ["Graded without the grading sandbox: the instructor passed --no-sandbox."]
    return sandbox.limit_findings(autograded, _LIMITS)


def grade_submission(job: dict) -> dict:
    """Grade one sanitized submission in this worker's slot; see the module docstring.

    Args:
        job: ``lesson``, ``student``, ``notebook`` (JSON text), ``timestamp`` (ISO text),
            ``test_cells`` ({id: TestCell}), ``visible_sources`` ({id: test cell as students see it}),
            ``timeout`` (s), ``findings``, ``tampering``.

    Returns:
        plain data: verdicts, nbgrader's own scores, stopped cells, report lines,
        the autograded notebook (JSON text) and the feedback page (HTML text).
    """
    slot, lesson, student = _SLOT, job["lesson"], job["student"]
    notebook = nbformat.reads(job["notebook"], as_version=4)
    for folder in ("submitted", "autograded", "feedback"):
        shutil.rmtree(slot / folder / student, ignore_errors=True)
    submitted = slot / "submitted" / student / lesson
    log = slot / "logs" / f"{student}.jsonl"
    log.parent.mkdir(exist_ok=True)
    api = nbgrader_api(slot)
    stoppers: list[tuple[int, str]] = []
    failures = 0
    for _attempt in range(4):
        submitted.mkdir(parents=True, exist_ok=True)
        nb.write(notebook, submitted / f"{lesson}.ipynb")
        (submitted / "timestamp.txt").write_text(job["timestamp"])
        log.unlink(missing_ok=True)
        os.environ[LOG_VARIABLE] = str(log)
        result = run_quietly(api.autograde, lesson, student, force=True, create=True)
        autograded_path = slot / "autograded" / student / lesson / f"{lesson}.ipynb"
        if result["success"] and autograded_path.exists():
            break
        grading_version = nb.read(slot / "solutions" / lesson / f"{lesson}.ipynb")
        trial = copy.deepcopy(notebook)
        tests = nb.test_cells(grading_version)
        for cell in trial.cells:  # run the test cells nbgrader runs, as it would
            grade_id = nb.nbgrader_info(cell).get("grade_id")
            if grade_id in tests:
                cell.source = tests[grade_id].source
        found = find_stopping_cells(trial, job["timeout"])
        if not found:
            failures += 1  # nothing hangs or kills the kernel: a passing hitch, worth one more try
            if failures > 1:
                log_tail = "\n".join((result.get("log") or "").strip().splitlines()[-15:])
                raise RuntimeError(f"nbgrader could not grade {student} (twice, and no cell hangs or stops the "
                                   f"kernel); the end of its log:\n{log_tail}")
            continue
        for index, why in found:
            target = index if not nb.nbgrader_info(notebook.cells[index]).get("locked") \
                else _answer_cell_before(notebook, index)
            _stub(notebook.cells[target], why)
            stoppers.append((index, why))
    else:
        raise RuntimeError(f"nbgrader could not grade {student} even after stopping cells {stoppers}")
    logged = trusted.read_log(log)
    verdicts = trusted.verdicts(job["test_cells"], logged)
    raw = _raw_scores(slot, lesson, student)
    _set_scores(slot, lesson, student, verdicts, job["manual_scores"])
    report = report_lines(job, stoppers, verdicts, raw, logged)
    autograded = nb.read(autograded_path)
    report += _sandbox_report(autograded)
    _truncate_outputs(autograded)
    nb.write(_feedback_notebook(autograded, verdicts, report, job), autograded_path)
    feedback = run_quietly(api.generate_feedback, lesson, student, force=True)
    nb.write(autograded, autograded_path)
    feedback_path = slot / "feedback" / student / lesson / f"{lesson}.html"
    if not feedback["success"] or not feedback_path.exists():
        raise RuntimeError(f"nbgrader could not make the feedback of {student}: {feedback.get('error')}")
    return {
        "student": student,
        "verdicts": {k: asdict(v) for k, v in verdicts.items()},
        "nbgrader_scores": raw,
        "stopped_cells": stoppers,
        "sandbox": _LIMITS is not None,
        "report": report,
        "autograded": nbformat.writes(autograded),
        "feedback": feedback_path.read_text(encoding="utf-8").replace("</head>", WRAP_LINES_CSS + "</head>", 1),
    }


def result_json(result: dict) -> str:
    """The parts of a result worth keeping next to the autograded notebook."""
    kept = {k: v for k, v in result.items() if k not in ("autograded", "feedback")}
    return json.dumps(kept, indent=1, sort_keys=True)
