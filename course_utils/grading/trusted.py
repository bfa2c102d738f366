"""The instructor's checks, read from the source notebook, and their verdicts outside the student's kernel.

A test cell of a lesson is made of ``check(<call>, <expected literal>, "<hint>")``
lines (see ``course_utils.checks``). For grading, each test cell is rewritten so
that every check carries an id and hidden checks lose their expected value::

    check(rank(q, docs), [1, 0], "hint")                        # visible, as the student sees it
    check(rank(q, docs), [1, 0], 'hint', check_id='ex1-test/0')  # visible, grading version
    check(rank(q2, d2), hint='hint', check_id='ex1-test/1')      # hidden, grading version

The kernel then writes what each ``<call>`` returned to the grading log, and
:func:`verdicts` compares those values with the expected values kept here. The
grading version also loads ``check`` afresh from its file in every test cell
(:data:`FRESH_CHECK`), so a student who replaces ``course_utils.checks.check`` or
``compare`` only breaks the exercises they tried to fake, not the others.

Every check of a test cell runs, even after one fails (:data:`KEEP_GOING`): a
call that raises is written to the log as an error, the next check runs, and
the cell ends by raising the first failure (so nbgrader, too, sees it fail).
The feedback can then say something about each check.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import course_utils.checks
from course_utils.checks import TOLERANCE, explain, plain
from course_utils.grading import notebooks as nb

#: Replaces ``from course_utils.checks import check`` in grading versions of test cells.
FRESH_CHECK = (
    "import importlib.util as _course_loader\n"
    "_course_spec = _course_loader.spec_from_file_location('course_checks_for_grading', {path!r})\n"
    "_course_checks = _course_loader.module_from_spec(_course_spec)\n"
    "_course_spec.loader.exec_module(_course_checks)\n"
    "check = _course_checks.check")
_IMPORT_CHECK = "from course_utils.checks import check"

#: Put at the top of grading versions of test cells: the failures met so far, and how to log an error.
KEEP_GOING_PRELUDE = (
    "_course_failures = []\n"
    "def _course_failed(check_id, error):\n"
    "    import json, os\n"
    "    _course_failures.append(error)\n"
    "    log = os.environ.get({variable!r})\n"
    "    if log and type(error).__name__ != 'CheckFailed':\n"
    "        with open(log, 'a', encoding='utf-8') as file:\n"
    "            text = f'{{type(error).__name__}}: {{error}}'[:300]\n"
    "            file.write(json.dumps({{'check': check_id, 'error': text}}) + '\\n')")
#: Replaces one check statement: it runs, and a failure is kept for the end of the cell.
KEEP_GOING = "try:\n    {check}\nexcept Exception as _course_error:\n    _course_failed({check_id!r}, _course_error)"
#: Ends grading versions of test cells: the first failure, raised again.
KEEP_GOING_END = "if _course_failures:\n    raise _course_failures[0]"



@dataclass(frozen=True)
class Check:
    """One ``check(...)`` line of a test cell."""

    test_id: str
    index: int
    call: str
    expected: object
    hint: str
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
                                 str(hint), float(tolerance), statement.lineno in hidden))
    return cell


def grading_source(cell: TestCell, source: str) -> str:
    """The test cell as the grader runs it: ids on every check, hidden expected values removed."""
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
    out, number = [KEEP_GOING_PRELUDE.format(variable=course_utils.checks.LOG_VARIABLE)], 1
    fresh = FRESH_CHECK.format(path=str(Path(course_utils.checks.__file__).resolve()))
    while number <= len(lines):
        if lines[number - 1].strip() == _IMPORT_CHECK:
            out.append(fresh)
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
        cells[grade_id] = parse_test_cell(grade_id, cell.source, points[grade_id])
        cells[grade_id].title = titles.get(grade_id, "")
    return cells


@dataclass
class Verdict:
    """The outcome of one test cell, decided outside the student's kernel."""

    test_id: str
    points: float
    score: float
    failures: list[str]


class Raised(str):
    """A logged error in place of a value: the check's call raised (``"ValueError: ..."``)."""


def read_log(path: Path) -> dict[str, list]:
    """{check id: [values written]} from a grading log; unreadable lines are ignored.

    An error logged for a check (its call raised) is listed as a :class:`Raised`.
    """
    found: dict[str, list] = {}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            value = Raised(str(entry["error"])) if "error" in entry and "value" not in entry else entry["value"]
            found.setdefault(str(entry["check"]), []).append(value)
        except (ValueError, KeyError, TypeError):
            continue
    return found


def verdicts(cells: dict[str, TestCell], logged: dict[str, list]) -> dict[str, Verdict]:
    """Score every test cell from the logged values: full points only if each of its checks ran and agreed.

    A check agrees when every value logged under its id equals the expected value;
    a check that never logged a value (its call raised, or the cell stopped before
    it) fails. Every check is reported. Failure texts give visible checks' expected
    values; hidden checks are described only by their hint.
    """
    result = {}
    for test_id, cell in cells.items():
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
                problem = f"your code raised {errors[0]}"
            elif not values:
                problem = "not reached: the cell stopped before it"
            else:
                for value in values:
                    problem = explain(value, check.expected, check.tolerance)
                    if problem:
                        problem = "returned a wrong answer" if check.hidden else problem
                        break
            if problem:
                hint = f" Hint: {check.hint}" if check.hint and not problem.startswith("not reached") else ""
                failures.append(f"{label}: {problem}.{hint}")
        score = cell.points if cell.checks and not failures else 0.0
        if not cell.checks:
            failures.append("this test cell has no checks the grader can verify")
        result[test_id] = Verdict(test_id, cell.points, score, failures)
    return result
