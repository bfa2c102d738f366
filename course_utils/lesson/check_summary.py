"""One line under a test cell whose visible checks all passed.

A passing :func:`course_utils.lesson.checks.check` prints nothing, so a student could
not tell a cell that passed from one that never ran. In IPython (Jupyter,
Colab), :func:`record` counts the checks of the cell that is running, and when
the cell ends without an error, after at least one check passed and none
failed, one short line goes to stdout::

    ✓ 2 visible checks passed; hidden checks run when graded

In the instructor's source notebook, where the hidden checks are in the cell
too, the line says ``✓ all 5 checks passed (visible and hidden)``.

Nothing ever goes to stderr (nbgrader scores a test cell with stderr output as
failed), nothing is printed outside IPython, and nothing while the course's
grader runs the notebook (it decides the scores outside the kernel and replaces
the test cells' outputs in the feedback anyway). The counter is reset when a cell
starts; the two IPython event callbacks are registered once per kernel.
"""

from __future__ import annotations

import sys

__all__ = ["record", "summary_line"]

#: Marks the hidden part of a test cell in the instructor's version.
HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"

_tally = {"passed": 0, "failed": 0}
_registered: set[int] = set()


def _shell():
    """The running IPython shell, or None (plain Python; IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if get else None


def record(passed: bool) -> None:
    """Count one check of the running cell (``passed``: whether it passed)."""
    shell = _shell()
    if shell is None or not hasattr(shell, "events"):
        return
    if id(shell) not in _registered:
        shell.events.register("pre_run_cell", _reset)
        shell.events.register("post_run_cell", _report)
        _registered.add(id(shell))
    _tally["passed" if passed else "failed"] += 1


def _reset(*_info) -> None:
    _tally["passed"] = _tally["failed"] = 0


def summary_line(passed: int, source: str = "") -> str:
    """The line for ``passed`` passing checks of a cell whose source is ``source``.

    Raises:
        ValueError: ``passed`` is below 1.
    """
    if passed < 1:
        raise ValueError(f"passed must be at least 1, got {passed}")
    if HIDDEN_MARKER in source:
        return f"✓ all {passed} checks passed (visible and hidden)"
    noun = "check" if passed == 1 else "checks"
    return f"✓ {passed} visible {noun} passed; hidden checks run when graded"


def _report(result=None) -> None:
    passed, failed = _tally["passed"], _tally["failed"]
    _reset()
    succeeded = getattr(result, "success", True)
    if passed and not failed and succeeded:
        info = getattr(result, "info", None)
        print(summary_line(passed, getattr(info, "raw_cell", "") or ""), flush=True)
