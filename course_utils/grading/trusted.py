"""The instructor's checks, read from the source notebook, and their verdicts outside the student's kernel.

A test cell of a lesson is made of ``check(<call>, <expected literal>, "<hint>")``
lines (see ``course_utils.lesson.checks``). For grading, each test cell is rewritten so
that every check carries an id and hidden checks lose their expected value::

    check(rank(q, docs), [1, 0], "hint")                        # visible, as the student sees it
    check(rank(q, docs), [1, 0], 'hint', check_id='ex1-test/0')  # visible, grading version
    check(rank(q2, d2), hint='hint', check_id='ex1-test/1')      # hidden, grading version

The kernel then publishes what each ``<call>`` returned as a record (display data of
type ``course_utils.lesson.checks.RECORD_MIME``); the grader keeps the records that arrive
while that test cell runs (:mod:`course_utils.grading.execution`), and
:func:`verdicts` compares them with the expected values kept here. The grading
version loads ``check`` afresh from its file in every test cell (:data:`PRELUDE`),
so a student who replaces ``course_utils.lesson.checks.check`` or ``compare`` only breaks
the exercises they tried to fake, not the others.

Every check of a test cell runs, even after one fails (:data:`KEEP_GOING`): a
call that raises is recorded as an error (its exception's type only), the next
check runs, and the cell ends by raising the first failure (so nbgrader, too,
sees it fail). The feedback can then say something about each check.

What the feedback says about a failed check never contains what the student's code
returned or raised (only its kind, its length, where it differs): a value could
carry what the student's code saw of the hidden checks back to the student.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path

import course_utils.lesson.checks
from course_utils.lesson.checks import TOLERANCE, compare, hint_for, kind_of, plain, short_repr
from course_utils.grading import notebooks as nb

#: The start of every grading version of a test cell: ``check`` loaded afresh from its file, the
#: failures met so far, and how to record an error. ``{path}``: the file of ``course_utils.lesson.checks``.
PRELUDE = (
    "import importlib.util as _course_loader\n"
    "_course_spec = _course_loader.spec_from_file_location('course_checks_for_grading', {path!r})\n"
    "_course_checks = _course_loader.module_from_spec(_course_spec)\n"
    "_course_spec.loader.exec_module(_course_checks)\n"
    "check = _course_checks.check\n"
    "_course_failures = []\n"
    "def _course_failed(check_id, error):\n"
    "    _course_failures.append(error)\n"
    "    if type(error) is not _course_checks.CheckFailed or not getattr(error, 'course_recorded', False):\n"
    "        _course_checks.publish_record({{'check': check_id, 'error': type(error).__name__[:100]}})")
_IMPORT_CHECK = "from course_utils.lesson.checks import check"
#: Replaces one check statement: it runs, and a failure is kept for the end of the cell.
KEEP_GOING = "try:\n    {check}\nexcept Exception as _course_error:\n    _course_failed({check_id!r}, _course_error)"
#: Ends grading versions of test cells: the first failure, raised again.
KEEP_GOING_END = "if _course_failures:\n    raise _course_failures[0]"
#: In every grading version of a test cell (the grader looks for it to clear the cell from the kernel's caches).
MARKER = "_course_failures"
#: Exception types the feedback names; any other (a class of the student's) is "an exception of its own".
_NAMED_ERRORS = {name for name, value in vars(builtins).items()
                 if isinstance(value, type) and issubclass(value, BaseException)} | {"CheckFailed"}


@dataclass(frozen=True)
class Check:
    """One ``check(...)`` line of a test cell."""

    test_id: str
    index: int
    call: str
    expected: object
    hint: str | dict  # a dict: hints by part of a dict answer (course_utils.lesson.checks.hint_for)
    tolerance: float
    hidden: bool

    @property
    def check_id(self) -> str:
        return f"{self.test_id}/{self.index}"


@dataclass
class TestCell:
    """A graded test cell: its checks and points, and the title of its exercise."""

    test_id: str
    points: float
    checks: list[Check] = field(default_factory=list)
    title: str = ""
    #: The capstone's held-out test cell: {"queries", "qrels"} (:mod:`course_utils.grading.capstone`); else None.
    capstone: dict | None = None

    @property
    def name(self) -> str:
        """How people call it: ``Exercise 2: model passes per query (ex2-test)``."""
        return f"{self.title} ({self.test_id})" if self.title else self.test_id


def _check_calls(source: str):
    """(statement, call) for every top-level ``check(...)`` statement of ``source``."""
    for statement in ast.parse(source).body:
        value = getattr(statement, "value", None)
        if isinstance(statement, ast.Expr) and isinstance(value, ast.Call) and \
                isinstance(value.func, ast.Name) and value.func.id == "check":
            yield statement, value


def parse_test_cell(test_id: str, source: str, points: float = 0.0) -> TestCell:
    """Read the checks of one test cell.

    Raises:
        ValueError: a check whose expected value is not a literal, or whose hint is not a string.
    """
    hidden = {number for number, marker in nb.hidden_test_lines(source).items() if not marker}
    cell = TestCell(test_id, points)
    for index, (statement, call) in enumerate(_check_calls(source)):
        keywords = {k.arg: k.value for k in call.keywords}
        arguments = list(call.args) + [None] * 3
        expected_node = arguments[1] if arguments[1] is not None else keywords.get("expected")
        hint_node = arguments[2] if arguments[2] is not None else keywords.get("hint")
        where = f"{test_id}, check {index + 1} (line {statement.lineno})"
        if arguments[0] is None or expected_node is None:
            raise ValueError(f"{where}: a check needs the call and a literal expected value")
        try:
            expected = plain(ast.literal_eval(expected_node))  # tuples become lists, as check() does
            hint = ast.literal_eval(hint_node) if hint_node is not None else ""
            tolerance = ast.literal_eval(keywords["tolerance"]) if "tolerance" in keywords else TOLERANCE
        except ValueError:
            raise ValueError(f"{where}: expected value, hint and tolerance must be literals") from None
        cell.checks.append(Check(test_id, index, ast.get_source_segment(source, arguments[0]), expected,
                                 hint if isinstance(hint, dict) else str(hint), float(tolerance),
                                 statement.lineno in hidden))
    return cell


def grading_source(cell: TestCell, source: str) -> str:
    """The test cell as the grader runs it: ids on every check, hidden expected values removed (not the capstone's
    held-out cell: :func:`course_utils.grading.capstone.grading_source`)."""
    lines = source.splitlines()
    replacements = {}
    for check, (statement, _call) in zip(cell.checks, _check_calls(source)):
        if check.hidden:
            text = f"check({check.call}, hint={check.hint!r}, check_id={check.check_id!r})"
        else:
            tolerance = f", tolerance={check.tolerance!r}" if check.tolerance != TOLERANCE else ""
            text = (f"check({check.call}, {check.expected!r}, {check.hint!r}{tolerance}, "
                    f"check_id={check.check_id!r})")
        replacements[statement.lineno] = (statement.end_lineno, KEEP_GOING.format(check=text, check_id=check.check_id))
    out, number = [PRELUDE.format(path=str(Path(course_utils.lesson.checks.__file__).resolve()))], 1
    while number <= len(lines):
        if lines[number - 1].strip() == _IMPORT_CHECK:
            out.append("check = _course_checks.check")  # never the student's course_utils.lesson.checks
            number += 1
        elif number in replacements:
            end, text = replacements[number]
            out.append(text)  # check statements are top-level: no indentation
            number = end + 1
        else:
            out.append(lines[number - 1])
            number += 1
    return "\n".join(out + [KEEP_GOING_END])


def _exercise_titles(notebook) -> dict[str, str]:
    """{test grade_id: title of the nearest markdown heading above it that names an exercise}."""
    titles, current = {}, ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            if heading.startswith("#") and "Exercise" in heading:
                current = re.sub(r"\s*\(\d+(\.\d+)? points?\)", "", heading.lstrip("#").replace("\u270f\ufe0f", ""))
                current = " ".join(current.split())
        if nb.is_grade(cell) and not nb.is_solution(cell):
            titles[nb.nbgrader_info(cell)["grade_id"]] = current
    return titles


def parse_test_cells(source_notebook) -> dict[str, TestCell]:
    """{test grade_id: TestCell (its checks)} of an instructor's source notebook."""
    points = nb.points(source_notebook)
    titles = _exercise_titles(source_notebook)
    cells = {}
    for grade_id, cell in nb.test_cells(source_notebook).items():
        if _is_capstone(cell.source):  # its checks stand for the held-out run's records (capstone.attach)
            cells[grade_id] = TestCell(grade_id, points[grade_id], capstone={})
        else:
            cells[grade_id] = parse_test_cell(grade_id, cell.source, points[grade_id])
        cells[grade_id].title = titles.get(grade_id, "")
    return cells


#: What marks the capstone's held-out test cell in a source notebook (:mod:`course_utils.grading.capstone`).
CAPSTONE_CALL = "dev_check(build_pipeline)"


def _is_capstone(source: str) -> bool:
    return CAPSTONE_CALL in source


@dataclass
class Verdict:
    """The outcome of one test cell, decided outside the student's kernel (``details``: the capstone's
    measured numbers, for the leaderboard)."""

    test_id: str
    points: float
    score: float
    failures: list[str]
    details: dict = field(default_factory=dict)


class Raised(str):
    """A recorded error in place of a value: the check's call raised (the exception's type name)."""


def record_entry(record) -> tuple[str, object] | None:
    """(check id, value or :class:`Raised`) of one record published by a test cell, or None if malformed."""
    if not isinstance(record, dict) or not isinstance(record.get("check"), str):
        return None
    if "value" in record:
        return record["check"], record["value"]
    if isinstance(record.get("error"), str):
        return record["check"], Raised(record["error"][:100])
    return None


def difference(actual, expected, tolerance: float = TOLERANCE) -> str | None:
    """Why ``actual`` differs from ``expected`` (as :func:`course_utils.lesson.checks.compare` decides), in words
    that show the expected value and where they differ but nothing of ``actual`` beyond its kind and length.

    Never raises: a value that cannot be compared is a difference.

    >>> difference([1, 2, 3], [1, 5, 3])
    'expected [1, 5, 3], your answer differs at [1]'
    >>> difference("a long secret", 4)
    'expected 4, got a string'
    """
    try:
        problem = compare(actual, expected, tolerance)
    except Exception:  # noqa: BLE001 - anything the comparison meets is a wrong answer
        return f"expected {short_repr(expected)}, got a value the grader could not compare"
    if problem is None:
        return None
    where, part, words = _first_difference(actual, expected, tolerance)
    if words:
        return words
    if not where:
        return f"expected {short_repr(expected)}, your answer is different"
    if len(repr(expected)) <= 120:
        return f"expected {expected!r}, your answer differs at {where}"
    return f"expected {short_repr(part)} at {where}, your answer is different"


def _kind_of(value) -> str:
    return kind_of(value, show_objects=False)


def _first_difference(actual, expected, tolerance: float, where: str = "") -> tuple[str, object, str | None]:
    """(where they first differ, the expected value there, words for a difference of kind or length, or
    None when two values of the same kind differ)."""
    at = f" at {where}" if where else ""
    if isinstance(expected, list) and isinstance(actual, list):
        if len(actual) != len(expected):
            return where, expected, f"expected {len(expected)} items{at}, got {len(actual)}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            if compare(a, e, tolerance) is not None:
                return _first_difference(a, e, tolerance, f"{where}[{index}]")
    if isinstance(expected, dict) and isinstance(actual, dict) and "__repr__" not in actual:
        if set(actual) != set(expected):
            return where, expected, f"expected the keys {short_repr(sorted(expected))}{at}, got other keys"
        for key in expected:
            if compare(actual[key], expected[key], tolerance) is not None:
                return _first_difference(actual[key], expected[key], tolerance, f"{where}[{key!r}]")
    if _kind_of(actual).split(" of ")[0] == _kind_of(expected).split(" of ")[0]:
        return where, expected, None
    shown = _kind_of(expected) if where else short_repr(expected)
    return where, expected, f"expected {shown}{at}, got {_kind_of(actual)}"


def _error_words(raised: Raised) -> str:
    name = str(raised).split(":")[0].strip()
    return f"your code raised {name}" if name in _NAMED_ERRORS else "your code raised an exception of its own class"


def verdicts(cells: dict[str, TestCell], logged: dict[str, list]) -> dict[str, Verdict]:
    """Score every test cell from the recorded values: full points only if each of its checks ran and agreed.

    ``logged``: {check id: [values recorded, :class:`Raised` for errors]}. A check agrees when it
    recorded exactly one value and that value equals the expected value; a check that recorded
    nothing (its call raised, or the cell stopped before it) or more than once fails. Every check
    is reported. Failure texts give visible checks' expected values, never the student's values;
    hidden checks are described only by their hint. The capstone's held-out cell is left out: its verdict
    needs the records' arrival times (:func:`course_utils.grading.capstone.verdicts`).
    """
    result = {}
    for test_id, cell in cells.items():
        if cell.capstone is not None:
            continue
        failures = []
        counts = {True: sum(c.hidden for c in cell.checks), False: sum(not c.hidden for c in cell.checks)}
        numbers = {True: 0, False: 0}
        for check in cell.checks:
            numbers[check.hidden] += 1
            label = f"{'hidden' if check.hidden else 'visible'} check {numbers[check.hidden]} of {counts[check.hidden]}"
            entries = logged.get(check.check_id, [])
            values = [value for value in entries if not isinstance(value, Raised)]
            errors = [value for value in entries if isinstance(value, Raised)]
            problem = None
            if errors:
                problem = _error_words(errors[0])
            elif not values:
                problem = "not reached: the cell stopped before it"
            elif len(values) > 1:
                problem = ("its result was reported more than once: code in the notebook interfered with the "
                           "checking, so it cannot count")
            else:
                problem = difference(values[0], check.expected, check.tolerance)
                if problem and check.hidden:
                    problem = "returned a wrong answer"
            if problem:
                shown = hint_for(check.hint, problem) if check.hint else ""
                hint = f" Hint: {shown}" if shown and not problem.startswith("not reached") else ""
                failures.append(f"{label}: {problem}.{hint}")
        score = cell.points if cell.checks and not failures else 0.0
        if not cell.checks:
            failures.append("this test cell has no checks the grader can verify")
        result[test_id] = Verdict(test_id, cell.points, score, failures)
    return result
