"""Every lesson graded for real, each lesson's class graded once and shared by the tests below.

1. ``grade`` (the command an instructor runs: sandbox, nbgrader autograde, checks verified outside
   the student's kernel, nbgrader's gradebook) grades the solution and the tampered pair of
   ``attacks.py`` of every lesson (wrong answers with a cheat on one half of the exercises and right
   answers with a harmless edit on the other half; between them every exercise is right once and wrong
   once, so an exercise whose score depends on another one's answer is caught), and lesson 1's untouched
   student notebook. The other lessons' untouched notebooks run top to bottom in nbval (their unsolved
   exercises raising, every other cell not); grading an unsolved exercise is the same code in every
   lesson, tested on lesson 1 here and in the attack and red-team tests (and on the capstone).
2. Plain ``nbgrader generate_assignment`` of every lesson gives the committed student notebooks, and
   plain ``nbgrader autograde`` (an instructor using nbgrader alone) scores lesson 1's honest
   submissions rightly: the solution, the blank one and one with every other exercise wrong.
"""

from __future__ import annotations

import json

import pytest

from course_utils.grading import command
from course_utils.grading import notebooks as nb
from course_utils.grading.gradebook import read_record
from tests.grading import support as gs
from tests.grading.attacks import tampered_pair

#: The capstone is graded by ``test_capstone_grading.py`` (a held-out run with partial credit, not checks with
#: hidden expected values; its own submissions): the lessons here are every other one.
LESSONS = [lesson for lesson in gs.lessons() if lesson != gs.CAPSTONE]
#: The honest submissions graded for every lesson, and for lesson 1 (its odd-wrong one too, by plain nbgrader).
GRADED_HONEST = ("solution",)
GRADED_HONEST_LESSON_1 = ("solution", "blank")
#: Seconds a cell may run: generous, as on two busy cores a corpus cell can take 20 s (nothing here hangs).
CELL_TIMEOUT = 120


def honest_submissions(lesson: str) -> dict[str, tuple[object, float]]:
    """{student: (notebook, the score it must get)}: the solution, the blank notebook, every other exercise wrong."""
    points = gs.exercise_points(gs.ROOT, lesson)
    total, wrong = sum(points.values()), list(points)[0::2]
    # the committed student versions are what nbgrader generates (test below)
    return {"solution": (nb.read(gs.ROOT / "solutions" / lesson / f"{lesson}.ipynb"), total),
            "blank": (gs.student_notebook(gs.ROOT, lesson), 0.0),
            "odd-wrong": (gs.solved_notebook(gs.ROOT, lesson, wrong=set(wrong)),
                          total - sum(points[a] for a in wrong))}


def honest_graded(lesson: str) -> tuple[str, ...]:
    """The honest submissions ``grade`` gets for ``lesson`` in this module."""
    return GRADED_HONEST_LESSON_1 if lesson == gs.ATTACK_LESSON else GRADED_HONEST


def lesson_submissions(lesson: str) -> dict[str, tuple[object, float]]:
    """{student: (notebook, the score it must get)} graded for ``lesson``: the solution, the tampered pair
    (whose wrong answers on one half stand in for the honest odd-wrong notebook) and, for lesson 1, the blank
    notebook (see the module docstring: three notebooks a lesson keep the suite under ten minutes)."""
    honest = honest_submissions(lesson)
    submissions = {name: honest[name] for name in honest_graded(lesson)}
    for name, (notebook, score, _texts, _done) in tampered_pair(gs.ROOT, lesson).items():
        submissions[name] = (notebook, score)
    return submissions


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course after ``grade`` ran once per lesson; {lesson: Outcome}; {(lesson, student): score wanted}."""
    tmp = tmp_path_factory.mktemp("class")
    course = gs.new_course(tmp / "course")
    outcomes, expected = {}, {}
    for lesson in LESSONS:
        submissions = lesson_submissions(lesson)
        folder = gs.submissions_folder(tmp / f"submissions-{lesson}",
                                       {student: notebook for student, (notebook, _) in submissions.items()}, lesson)
        outcomes[lesson] = command.grade(course, lesson, folder, jobs=2, timeout=CELL_TIMEOUT, echo=lambda *a: None)
        expected.update({(lesson, student): score for student, (_, score) in submissions.items()})
    return course, outcomes, expected


@pytest.mark.parametrize("lesson", LESSONS)
def test_scores_in_gradebook_are_exactly_what_the_answers_earn(graded, lesson):
    course, outcomes, expected = graded
    assert not outcomes[lesson].failed and not outcomes[lesson].skipped, outcomes[lesson]
    scores = gs.gradebook_scores(course, lesson)
    wanted = {student: score for (name, student), score in expected.items() if name == lesson}
    verdicts = {student: read_record(course, lesson, student).get("verdicts") for student in scores
                if scores[student] != wanted.get(student)}
    assert scores == pytest.approx(wanted), json.dumps({"got": scores, "expected": wanted, "wrong ones": verdicts},
                                                        indent=1)


@pytest.mark.parametrize("lesson", LESSONS)
def test_nbgrader_alone_gives_honest_students_the_same_scores(graded, lesson):
    """What nbgrader's own autograde found inside the kernel equals the verified score, for honest notebooks."""
    course, _, expected = graded
    for student in honest_graded(lesson):
        record = read_record(course, lesson, student)
        assert sum(record["nbgrader_scores"].values()) == pytest.approx(expected[(lesson, student)]), (
            lesson, student, record["nbgrader_scores"])
        if student != "solution":  # (a solution's test cells hold the hidden checks: reported as edited)
            assert not record["report"], (lesson, student, record["report"])


@pytest.mark.parametrize("lesson", LESSONS)
def test_feedback_reports_every_edit_of_the_tampered_pair(graded, lesson):
    course, _, _ = graded
    for student, (_notebook, _score, texts, done) in tampered_pair(gs.ROOT, lesson).items():
        feedback = gs.feedback_text(course, student, lesson)
        for text in texts:
            assert text in feedback, (lesson, student, text, done)


def test_grades_csv_flags_the_tampered_and_not_the_honest(graded):
    """An instructor reading only grades.csv sees which notebooks the grading report has findings on."""
    import csv

    course, _, _ = graded
    with open(command.write_csv(course), newline="") as table:
        status = {(row["student"], row["lesson"]): row["status"] for row in csv.DictReader(table)}
    assert status[("blank", gs.ATTACK_LESSON)] == "graded"
    for lesson in LESSONS:
        for student in ("tampered-odd", "tampered-even"):
            assert "finding(s) in the grading report (see the feedback)" in status[(student, lesson)], lesson


@pytest.mark.parametrize("lesson", LESSONS)
def test_feedback_never_shows_hidden_test_code(graded, lesson):
    course, _, expected = graded
    hidden_lines = gs.hidden_check_lines(lesson)
    assert len(hidden_lines) >= 10
    for student in (s for (name, s) in expected if name == lesson):
        text = gs.feedback_text(course, student, lesson)
        assert "hidden check(s), not shown" in text
        for line in hidden_lines:
            assert line not in text, (lesson, student, line)


@pytest.fixture(scope="module")
def plain_nbgrader(tmp_path_factory):
    """Every lesson released by nbgrader; lesson 1's honest submissions autograded by the nbgrader command."""
    course = gs.make_course(tmp_path_factory.mktemp("course"))
    lesson = gs.ATTACK_LESSON
    submissions = honest_submissions(lesson)
    for student, (notebook, _) in submissions.items():
        gs.submit(course, lesson, student, notebook)
    gs.nbgrader(course, "autograde", lesson, "--log-level=WARN")
    return course, {student: score for student, (_, score) in submissions.items()}


def test_plain_nbgrader_autograde_scores_exactly_what_the_answers_earn(plain_nbgrader):
    course, wanted = plain_nbgrader
    assert gs.gradebook_scores(course, gs.ATTACK_LESSON) == pytest.approx(wanted)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_is_worth_at_least_ten_points_over_four_exercises(lesson):
    points = gs.exercise_points(gs.ROOT, lesson)
    assert len(points) >= 4 and sum(points.values()) >= 10


def test_committed_student_notebooks_are_what_nbgrader_generates(plain_nbgrader):
    course, _ = plain_nbgrader
    for lesson in gs.lessons():
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
                rest = grading.split(check.call, 1)[1].split("\n", 1)[0].split(", check_id=", 1)[0]
                assert repr(check.expected) not in rest, \
                    f"{lesson} {grade_id}: a hidden expected value would reach the kernel"
