"""``check``: the comparison every graded test cell uses, with a message that teaches.

A test cell reads like this::

    check(maxsim_loops(Q_small, D_small), 1.5, "add up each query token's best dot product")

When the answer is right, nothing is printed on stderr (graded cells must stay
silent there); when every check of a cell passed, one line on stdout says so
(:mod:`course_utils.lesson.check_summary`). When it is wrong, the student reads one
sentence: what was expected, what their code returned, and the hint.

>>> check(2 + 2, 4, "add them")                       # right: silent
>>> check([1, 2], [1, 3], "look at the last one")  # doctest: +ELLIPSIS
Traceback (most recent call last):
course_utils.lesson.checks.CheckFailed: Not yet: expected [1, 3], got [1, 2]: ... Hint: look at the last one

The instructor's ``grade`` command does not trust this function, nor anything
else in the student's kernel. It runs the test cells with the expected values
of hidden checks removed and an id added to every check; ``check`` then
publishes the value it was given, as plain data, in a display message of the
type :data:`RECORD_MIME`, which the grader takes from the running test cell's
messages (:mod:`course_utils.grading.execution`) and compares with the expected
value in its own process. Expected values that are never in the kernel cannot
be read or faked there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

__all__ = ["RECORD_MIME", "TOLERANCE", "CheckFailed", "check", "compare", "explain", "hint_for", "kind_of", "plain",
           "publish_record", "short_repr"]

#: The display-data type of one check's record while the grader runs a test cell
#: (``{"check": id, "value": plain value}`` or ``{"check": id, "error": exception type}``).
RECORD_MIME = "application/vnd.course-check+json"
_NOT_GIVEN = object()

#: Default tolerance for floats: |actual - expected| <= TOLERANCE * max(1, |expected|).
#: A whole number expected (an ``int``) must be matched exactly.
TOLERANCE = 1e-5


def plain(value):
    """``value`` as plain Python data (numbers, str, bool, None, lists, dicts), for comparison and transport.

    numpy arrays and scalars become lists and numbers, tuples become lists.
    Anything else is returned as its ``repr`` in a ``{"__repr__": ...}`` dict, so
    that it compares unequal to every expected value.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    module = type(value).__module__
    if module == "numpy":
        if hasattr(value, "tolist"):
            return plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return {"__repr__": repr(value)[:200]}


def short_repr(value, width: int = 120) -> str:
    """``repr(value)``, cut to ``width`` characters with ``...``."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def kind_of(value, show_objects: bool = True) -> str:
    """What plain value ``value`` is (``a list or tuple of 3``), never its contents, except the ``repr`` of an
    object :func:`plain` could not turn into data when ``show_objects``."""
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list or tuple of {len(value)}"
    if isinstance(value, dict):
        if "__repr__" not in value:
            return "a dict"
        return f"an object {value['__repr__']}" if show_objects else "an object the checks cannot compare"
    return "None" if value is None else type(value).__name__


def compare(actual, expected, tolerance: float = TOLERANCE, where: str = "") -> str | None:
    """Why plain value ``actual`` differs from ``expected``, or None when they agree.

    Whole numbers (``int`` expected) agree only exactly; floats within ``tolerance``
    (relative, at least absolute); bools only
    with bools; lists element by element (same length); dicts key by key.
    """
    at = f" at {where}" if where else ""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if isinstance(actual, type(expected)) and actual == expected:
            return None
        return f"expected {short_repr(expected)}{at}, got {short_repr(actual)}"
    if isinstance(expected, (int, float)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return f"expected a number{at}, got {kind_of(actual)}"
        allowed = 0.0 if isinstance(expected, int) else tolerance * max(1.0, abs(expected))
        try:
            off = math.isnan(actual) or abs(actual - expected) > allowed
        except (OverflowError, ValueError):  # an integer too large for a float, say 10**400
            off = True
        if off:
            return f"expected {expected!r}{at}, got {short_repr(actual)}"
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"expected a list of {len(expected)}{at}, got {kind_of(actual)}"
        if len(actual) != len(expected):
            return f"expected {len(expected)} items{at}, got {len(actual)}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            problem = compare(a, e, tolerance, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or "__repr__" in actual:
            return f"expected a dict{at}, got {kind_of(actual)}"
        if set(actual) != set(expected):
            return f"expected the keys {sorted(expected)}{at}, got {sorted(actual)}"
        for key in expected:
            problem = compare(actual[key], expected[key], tolerance, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    raise TypeError(f"expected values must be plain data, not {type(expected).__name__}")


def explain(actual, expected, tolerance: float = TOLERANCE) -> str | None:
    """Like :func:`compare` on plain data, but short lists and dicts are shown whole:
    ``expected [1, 2, 0], got [0, 2, 1]: they first differ at [0]``."""
    problem = compare(actual, expected, tolerance)
    where = re.search(r" at ((?:\[[^\]]*\])+)", problem or "")
    if where and len(repr(actual)) <= 120 and len(repr(expected)) <= 120:
        return f"expected {expected!r}, got {actual!r}: they first differ at {where.group(1)}"
    return problem


def hint_for(hint, problem: str) -> str:
    """The hint to show for ``problem`` (a :func:`compare` or :func:`explain` text).

    ``hint`` is a string, shown as it is, or a dict of hints by part of a dict answer
    (``{"candidates": "...", "top": "..."}``): then the hint of the part where the values first
    differ (``... at ['top'][0]``), or every part's hint when the difference is not inside one part.
    """
    if not isinstance(hint, Mapping):
        return hint
    where = re.search(r" at \[([^\]]*)\]", problem or "")
    for key, text in hint.items():
        if where and where.group(1) in (repr(key), str(key)):
            return text
    return " ".join(f"{key}: {text}" for key, text in hint.items())


def _count_for_cell_summary(passed: bool) -> None:
    """Count a check towards the line under a passing test cell (see :mod:`course_utils.lesson.check_summary`)."""
    try:
        from course_utils.lesson import check_summary
    except ImportError:  # loaded from its file alone, without the package
        return
    check_summary.record(passed)


def publish_record(record: dict) -> None:
    """Send one check's record to the grader, as display data of type :data:`RECORD_MIME` (grading only).

    Front-ends show nothing for it; outside IPython it goes nowhere.
    """
    try:
        from IPython.display import publish_display_data
    except ImportError:
        return
    publish_display_data({RECORD_MIME: record}, metadata={})


class CheckFailed(AssertionError):
    """A check that did not pass: shown as its message alone, not as a traceback.

    IPython (JupyterLab, Colab, nbgrader's runs) asks an exception for
    ``_render_traceback_`` before it formats a traceback: a failing check is
    the expected outcome of a wrong answer, so the student reads one marked
    line instead of the inside of this module. An error raised by the
    student's own code is not a ``CheckFailed`` and keeps its full traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return ["\x1b[1;31m\u2717 Check failed\x1b[0m (the test cell stopped here)", str(self)]


def check(actual, expected=_NOT_GIVEN, hint: str = "", *, tolerance: float = TOLERANCE,
          check_id: str | None = None) -> None:
    """Pass when ``actual`` equals ``expected`` (counted for the cell's pass line); otherwise explain in one sentence.

    Args:
        actual: what the student's code returned (numbers, arrays, lists, ...).
        expected: the right answer, as plain data (numbers, lists, dicts, str, bool).
            Left out only by the grader, for hidden checks it compares itself.
        hint: what to look at when the answer is wrong; for a dict answer, optionally a dict of
            hints by part, of which the failing part's is shown (:func:`hint_for`).
        tolerance: relative tolerance for numbers (absolute below 1).
        check_id: set by the grader: ``actual`` is then published as the record of this check.

    Raises:
        CheckFailed: (an ``AssertionError``) ``Not yet: expected ..., got .... Hint: ...``.
    """
    if check_id:  # the grader's version of a test cell: it decides outside the kernel
        publish_record({"check": check_id, "value": plain(actual)})
    if expected is _NOT_GIVEN:
        return
    problem = explain(plain(actual), plain(expected), tolerance)
    if not check_id:
        _count_for_cell_summary(problem is None)
    if problem:
        message = f"Not yet: {problem}."
        if hint:
            message += f" Hint: {hint_for(hint, problem)}"
        failure = CheckFailed(message)
        failure.course_recorded = bool(check_id)  # its value is in the record: no error record needed
        raise failure
