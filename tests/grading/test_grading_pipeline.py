"""The real nbgrader pipeline, headless, in a temporary copy of the course.

For every lesson: generate the student version, submit the solutions, the untouched
student notebook, and notebooks with exactly one exercise wrong; autograde; read the
scores from nbgrader's gradebook.
"""

from __future__ import annotations

import json

import pytest

from course_utils.grading import notebooks as nb
from tests.grading import support as gs

LESSONS = gs.lessons()


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = gs.make_course(tmp_path_factory.mktemp("course"))
    expected = {}
    for lesson in LESSONS:
        points = gs.exercise_points(course, lesson)
        total = sum(points.values())
        exercises = list(points)
        gs.submit(course, lesson, "solution", nb.read(course / "solutions" / lesson / f"{lesson}.ipynb"))
        gs.submit(course, lesson, "blank", gs.student_notebook(course, lesson))
        expected[(lesson, "solution")] = total
        expected[(lesson, "blank")] = 0.0
        for wrong in {exercises[0], exercises[-1]}:
            student = f"wrong-{wrong}"
            gs.submit(course, lesson, student, gs.solved_notebook(course, lesson, wrong={wrong}))
            expected[(lesson, student)] = total - points[wrong]
        gs.nbgrader(course, "autograde", lesson, "--log-level=WARN")
    return course, expected


@pytest.mark.parametrize("lesson", LESSONS)
def test_scores_in_gradebook_are_exactly_what_the_answers_earn(graded_course, lesson):
    course, expected = graded_course
    scores = gs.gradebook_scores(course, lesson)
    wanted = {student: score for (name, student), score in expected.items() if name == lesson}
    assert scores == pytest.approx(wanted), json.dumps({"got": scores, "expected": wanted}, indent=1)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_is_worth_at_least_ten_points_over_four_exercises(lesson):
    points = gs.exercise_points(gs.ROOT, lesson)
    assert len(points) >= 4 and sum(points.values()) >= 10


def test_committed_student_notebooks_are_what_nbgrader_generates(graded_course):
    course, _ = graded_course
    for lesson in LESSONS:
        generated = (course / "notebooks" / lesson / f"{lesson}.ipynb").read_text()
        committed = (gs.ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_text()
        assert json.loads(committed) == json.loads(generated), (
            f"notebooks/{lesson} is out of date: run `python3 course.py generate` and commit it")


def test_notebooks_are_committed_without_outputs():
    for path in sorted(gs.ROOT.glob("solutions/*/*.ipynb")) + sorted(gs.ROOT.glob("notebooks/*/*.ipynb")):
        for cell in nb.read(path).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path} has outputs"


def test_every_recorded_output_belongs_to_a_tagged_cell():
    from tests.notebook_items import CHECK_TAG, load_expected, source_key

    used = {source_key(cell.source) for path in gs.ROOT.glob("solutions/*/*.ipynb") for cell in nb.read(path).cells
            if cell.cell_type == "code" and CHECK_TAG in cell.metadata.get("tags", [])}
    stale = set(load_expected()) - used
    assert not stale, f"{len(stale)} recorded outputs belong to no cell: run `python -m tests.record_outputs`"


@pytest.mark.parametrize("lesson", LESSONS)
def test_test_cells_follow_the_rules_the_grader_relies_on(lesson):
    """Only imports, literal inputs and check(...) lines; at least one visible and one hidden check each."""
    import ast

    from course_utils.grading import trusted

    source = nb.read(gs.ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    for grade_id, cell in trusted.parse_test_cells(source).items():
        assert any(not c.hidden for c in cell.checks), f"{lesson} {grade_id}: no visible check"
        assert any(c.hidden for c in cell.checks), f"{lesson} {grade_id}: no hidden check"
        for statement in ast.parse(nb.test_cells(source)[grade_id].source).body:
            allowed = isinstance(statement, (ast.Import, ast.ImportFrom, ast.Assign)) or (
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
                and getattr(statement.value.func, "id", None) == "check")
            assert allowed, f"{lesson} {grade_id}: line {statement.lineno} is not an import, assignment or check"
        grading = trusted.grading_source(cell, nb.test_cells(source)[grade_id].source)
        for check in cell.checks:
            if check.hidden:
                assert repr(check.expected) not in grading.split(check.call, 1)[1].split("\n", 1)[0], \
                    f"{lesson} {grade_id}: a hidden expected value would reach the kernel"
