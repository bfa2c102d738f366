"""``python -m course_utils validate NOTEBOOK``: where a student stands, exercise by exercise.

nbgrader's Validate button lists only the test cells that fail, each with its raw
error (a long traceback for an exercise not answered yet), without exercise numbers
or a count, says nothing about the exercises that pass, and nothing about a failed
set-up cell, the usual cause when every exercise fails. In the course's JupyterLab
the button shows this module's summary instead (:mod:`course_utils.lesson.validate_button`).

This command runs the saved notebook from the top in a fresh kernel, as the button
does (every cell, errors allowed), and prints, first, whether the set-up cell failed
(and what it said), then one line per exercise::

    Exercise 1 (2 points): passed (visible checks; hidden checks run when graded)
    Exercise 2 (3 points): not solved yet (answer_function still raises NotImplementedError)
    Exercise 3 (3 points): failed: Not yet: expected 4.0, got 3.0. Hint: ...

and a count. The capstone (lesson 9) is said as it is graded: its held-out test cell only checks that the
pipeline answers with passage ids ("passed (answers with passage ids; points come from the held-out run when
graded)"), and its written exercise, an answer cell the instructor scores by hand, is listed as "graded by your
instructor" (not counted among the exercises that pass). :func:`summarize` reads an executed notebook;
:func:`run` executes and prints.

A cell of the notebook may itself run this command (the README suggests one at the end): the kernel
validate starts carries :data:`RUNNING_VARIABLE`, and a validate started inside it (that cell, run by
the outer one) says so and stops, instead of running the notebook again, and again.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RUNNING_VARIABLE", "ExerciseResult", "Summary", "count_line", "execute", "exercise_line", "format_summary",
           "run", "summarize"]

#: Set in the kernel that validate runs the notebook in: a validate started from one of its cells stops at once.
RUNNING_VARIABLE = "COURSE_VALIDATE_RUNNING"

#: The set-up cell's id (course_utils.lesson.colab.SETUP_CELL_ID; not imported: that module needs the package
#: version and this one must stay light).
_SETUP_CELL_ID = "course-setup"
_HEADING = re.compile(r"^#+\s*(?:\S+\s+)?Exercise\s+(\d+)\s*(\([^)]*\))?", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: What marks the capstone's held-out test cell (course_utils.grading.trusted.CAPSTONE_CALL; not imported, as above).
_CAPSTONE_CALL = "dev_check(build_pipeline)"
#: Statuses that are not the result of checks (left out of the count of exercises that pass).
MANUAL = "graded by your instructor"


@dataclass
class ExerciseResult:
    """One exercise: its number, points, status ("passed", "not solved yet", "failed", "not checked", or
    :data:`MANUAL` for a written answer) and why; ``capstone`` for the capstone's held-out test cell."""

    number: int
    points: str
    status: str
    message: str = ""
    capstone: bool = False


@dataclass
class Summary:
    """What :func:`summarize` found: the set-up cell's error ("" if it passed) and each exercise's result."""

    setup_error: str = ""
    exercises: list[ExerciseResult] = field(default_factory=list)

    @property
    def checked(self) -> list[ExerciseResult]:
        """The exercises checked by code (not the written ones the instructor grades)."""
        return [result for result in self.exercises if result.status != MANUAL]

    @property
    def passed(self) -> int:
        return sum(result.status == "passed" for result in self.exercises)


def _error(cell) -> tuple[str, str] | None:
    """(exception name, its message without colour codes) of a code cell's error output, or None."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", ""), _ANSI.sub("", output.get("evalue", ""))
    return None


def _unsolved_function(cell) -> str:
    """The name of the function whose ``raise NotImplementedError`` a test cell's traceback ends in ("" if unknown)."""
    for output in cell.get("outputs", []):
        frames = [_ANSI.sub("", line) for line in output.get("traceback", [])]
        names = re.findall(r"in (\w+)\(", "\n".join(frames))
        if names:
            return names[-1]
    return ""


def summarize(notebook) -> Summary:
    """The set-up cell's error and every exercise's result, from an executed lesson notebook (nbformat node).

    Exercises are the nbgrader test cells (``grade`` with points), numbered by the
    markdown heading above them ("### Exercise 2 (3 points): ...") or else in order.
    """
    summary, heading = Summary(), (None, "")
    for cell in notebook.cells:
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        if nbgrader.get("grade") and nbgrader.get("solution"):  # a written answer, graded by hand
            number = heading[0] if heading[0] is not None else len(summary.exercises) + 1
            summary.exercises.append(ExerciseResult(number, heading[1] or f"{nbgrader.get('points', 0)} points",
                                                    MANUAL))
            continue
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            heading = (int(match.group(1)), (match.group(2) or "").strip("()")) if match else heading
            continue
        if cell.get("id") == _SETUP_CELL_ID:
            error = _error(cell)
            summary.setup_error = f"{error[0]}: {error[1]}" if error else ""
            continue
        if not (nbgrader.get("grade") and nbgrader.get("points")):
            continue
        number = heading[0] if heading[0] is not None else len(summary.exercises) + 1
        result = _result(cell, number, heading[1] or f"{nbgrader['points']} points")
        result.capstone = _CAPSTONE_CALL in cell.source
        summary.exercises.append(result)
    return summary


def _result(cell, number: int, points: str) -> ExerciseResult:
    """One test cell's result."""
    error = _error(cell)
    if error is None:
        ran = cell.get("execution_count") is not None or cell.get("outputs")
        return ExerciseResult(number, points, "passed" if ran else "not checked", "" if ran else "the cell did not run")
    name, message = error
    if name == "SetupFailedError":
        return ExerciseResult(number, points, "not checked", "the set-up cell failed (above)")
    if name == "NotImplementedError":
        function = _unsolved_function(cell)
        return ExerciseResult(number, points, "not solved yet",
                              f"{function} still raises NotImplementedError" if function else "")
    if name == "CheckFailed":
        return ExerciseResult(number, points, "failed", message)
    return ExerciseResult(number, points, "failed", f"{name}: {message}" if message else name)


def format_summary(summary: Summary) -> str:
    """The report :func:`run` prints."""
    lines = []
    if summary.setup_error:
        lines += ["The set-up cell (the lesson's first code cell) FAILED, so the exercises could not be checked. "
                  "It said:", "  " + summary.setup_error.replace("\n", "\n  "), ""]
    lines += [exercise_line(result) for result in summary.exercises]
    if not summary.exercises:
        lines.append("This notebook has no graded exercises.")
    else:
        manual = [r for r in summary.exercises if r.status == MANUAL]
        lines += ["", count_line(summary)]
        if manual and summary.checked:
            lines[-1] = lines[-1][:-1] + "; " + ", ".join(f"Exercise {r.number}" for r in manual) + \
                f" {'is' if len(manual) == 1 else 'are'} graded by your instructor."
    return "\n".join(lines)


def exercise_line(result: ExerciseResult) -> str:
    """"Exercise 2 (3 points): not solved yet: best_matches still raises NotImplementedError" and the like."""
    detail = {"passed": " (answers with passage ids; points come from the held-out run when graded)"
              if result.capstone else " (visible checks; hidden checks run when graded)"}.get(result.status, "")
    return f"Exercise {result.number} ({result.points}): {result.status}{detail}" + \
        (f": {result.message}" if result.message else "")


def count_line(summary: Summary) -> str:
    """How many exercises pass: "2 of 5 exercises pass their visible checks." (and said so when some are
    written answers the instructor grades)."""
    checked = summary.checked
    if not checked:
        return "Every exercise here is graded by your instructor." if summary.exercises else \
            "This notebook has no graded exercises."
    graded_by_hand = " checked by code" if len(checked) < len(summary.exercises) else ""
    return f"{summary.passed} of {len(checked)} exercises{graded_by_hand} pass their visible checks."


def execute(path: str | Path, timeout: int = 600):
    """Run the saved notebook at ``path`` from the top in a fresh kernel, every cell (errors allowed).

    Raises:
        FileNotFoundError: no notebook at ``path``.
        RuntimeError: nbclient (part of Jupyter) is not installed.
    """
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {str(path)!r} not found: give the path of a lesson's .ipynb file "
                                "(for example notebooks/02-maxsim/02-maxsim.ipynb)")
    try:
        from nbclient import NotebookClient
    except ImportError:
        raise RuntimeError("validate needs nbclient, which comes with Jupyter: start the course with "
                           "`python3 course.py start`, or run this in the course environment") from None
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    sockets = None
    if os.name != "nt":  # Unix sockets, as course.py start's kernels: no "susceptible to eavesdropping" warning
        from jupyter_client import KernelManager

        # the sockets' path must be absolute: the kernel starts in the notebook's folder, this process elsewhere
        sockets = tempfile.mkdtemp(prefix="course-validate-")
        client.km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
    before = os.environ.get(RUNNING_VARIABLE)
    os.environ[RUNNING_VARIABLE] = str(path.resolve())  # the kernel inherits it
    try:
        client.execute()
    finally:
        if before is None:
            os.environ.pop(RUNNING_VARIABLE, None)
        else:
            os.environ[RUNNING_VARIABLE] = before
        if sockets:
            shutil.rmtree(sockets, ignore_errors=True)
    return notebook


def run(path: str | Path, timeout: int = 600, setup_hint: str = "") -> int:
    """Execute the notebook at ``path``, print the summary; 0 when every exercise passes, 1 otherwise.

    ``setup_hint``: printed after the summary when the set-up cell failed. Inside a notebook that validate
    is running (a cell that runs validate), print that and return 0 at once.
    """
    if os.environ.get(RUNNING_VARIABLE):
        print(f"validate is running this notebook ({os.environ[RUNNING_VARIABLE]}) and reached this cell: "
              "its summary follows when it has run every cell (this cell's own run is skipped).")
        return 0
    print(f"Running {path} from the top in a fresh kernel (as nbgrader's Validate button does) ...", flush=True)
    summary = summarize(execute(path, timeout))
    print(format_summary(summary))
    if summary.setup_error and setup_hint:
        print("\n" + setup_hint)
    return 0 if summary.checked and summary.passed == len(summary.checked) and not summary.setup_error else 1
