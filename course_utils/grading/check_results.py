"""Per-check results of one graded submission, kept for the class report (item analysis).

The values come from the check records the grader took from the running test cell's
messages (:class:`course_utils.grading.execution.RunRecord`), in the grading worker; the
main process stores them in the submission's grading record
(``autograded/<student>/<lesson>/course_grading.json``), which no kernel can reach. A
wrong value is kept only as a short ``repr`` (:data:`MAX_ANSWER_CHARS`): it is untrusted
text written by the student's code, shown only in the instructor's report, escaped.
"""

from __future__ import annotations

from course_utils.lesson.checks import compare
from course_utils.grading.trusted import Raised, TestCell

__all__ = ["MAX_ANSWER_CHARS", "NOT_ATTEMPTED", "NOT_REACHED", "outcomes"]

#: Characters of a wrong answer's ``repr`` kept for the report.
MAX_ANSWER_CHARS = 80
#: What the report calls a check whose call raised NotImplementedError (the answer cell was left as given).
NOT_ATTEMPTED = "raised NotImplementedError"
#: What the report calls a check that recorded nothing (the cell stopped before it).
NOT_REACHED = "not reached"


def _short(value) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a structure too deep to print, say
        return "(a value that cannot be shown)"
    return text if len(text) <= MAX_ANSWER_CHARS else text[: MAX_ANSWER_CHARS - 3] + "..."


def outcomes(cells: dict[str, TestCell], logged: dict[str, list]) -> dict[str, dict]:
    """{check id: {"passed": bool, "answer": None, or what the failing check got}} for every check of ``cells``.

    ``logged``: {check id: [recorded values, :class:`Raised` for errors]} as in
    :func:`course_utils.grading.trusted.verdicts`, which decides the same way: a check passes when it
    recorded exactly one value, equal to the expected one. ``answer`` is ``raised <Error>``,
    :data:`NOT_REACHED`, ``reported more than once``, or the wrong value's short ``repr``.
    """
    result = {}
    for cell in cells.values():
        if cell.capstone is not None:  # the held-out run has no expected values: its verdict has the numbers
            continue
        for check in cell.checks:
            entries = logged.get(check.check_id, [])
            errors = [value for value in entries if isinstance(value, Raised)]
            values = [value for value in entries if not isinstance(value, Raised)]
            if errors:
                answer = f"raised {str(errors[0]).split(':')[0].strip()[:60]}"
            elif not values:
                answer = NOT_REACHED
            elif len(values) > 1:
                answer = "reported more than once"
            else:
                try:
                    agrees = compare(values[0], check.expected, check.tolerance) is None
                except Exception:  # noqa: BLE001 - a value that cannot be compared is wrong
                    agrees = False
                answer = None if agrees else _short(values[0])
            result[check.check_id] = {"passed": answer is None, "answer": answer}
    return result
