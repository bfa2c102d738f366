"""The autograder under attack: submissions of lesson 1 that break the run or cheat on the whole notebook.

Each must get exactly the points its correct exercises earn, and what it did must be reported in the
student's feedback. Cheats on single exercises (edited, deleted or copied cells, patched checks, answers
equal to everything) attack every lesson: the tampered pair in test_grading_pipeline.py.
"""

from __future__ import annotations

import json

import pytest

from course_utils.grading import command
from tests.grading import support as gs
from tests.grading.attacks import lesson_one_attacks

LESSON, TIMEOUT, feedback_text, new_course = gs.ATTACK_LESSON, gs.TIMEOUT, gs.feedback_text, gs.attack_course


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attack")
    course = new_course(tmp)
    kinds = lesson_one_attacks(gs.ROOT)  # the committed student version: what nbgrader generates
    folder = gs.submissions_folder(tmp / "submissions", {k: v[0] for k, v in kinds.items()}, LESSON)
    outcome = command.grade(course, LESSON, folder, jobs=2, timeout=TIMEOUT, echo=lambda *a: None)
    return course, kinds, outcome


def test_every_kind_of_submission_is_graded(attacked):
    course, kinds, outcome = attacked
    assert not outcome.failed and not outcome.skipped
    assert sorted(outcome.graded) == sorted(kinds)


@pytest.mark.parametrize("kind", [
    "one-wrong", "syntax-error", "import-error", "infinite-loop", "50MB-output", "wrong-type", "kills-kernel",
    "ignores-interrupts", "writes-stderr", "input-transformer", "hides-errors"])
def test_each_kind_gets_exactly_the_points_of_its_correct_exercises(attacked, kind):
    course, kinds, _ = attacked
    scores = gs.gradebook_scores(course, LESSON)
    assert scores[kind] == pytest.approx(kinds[kind][1]), json.dumps(
        json.loads((course / "autograded" / kind / LESSON / command.GRADING_RECORD).read_text())["verdicts"],
        indent=1)


def test_feedback_reports_structural_edits_and_tampering(attacked):
    course, kinds, _ = attacked
    for kind, (_notebook, _score, expected_text) in kinds.items():
        if expected_text:
            assert expected_text in feedback_text(course, kind), kind


def test_feedback_never_shows_hidden_test_code(attacked):
    course, kinds, _ = attacked
    hidden_lines = gs.hidden_check_lines(LESSON)
    assert hidden_lines
    for kind in kinds:
        text = feedback_text(course, kind)
        assert "hidden check(s), not shown" in text
        for line in hidden_lines:
            assert line not in text, (kind, line)


def test_cheating_fools_nbgrader_alone_but_not_the_verified_score(attacked):
    course, _, _ = attacked
    report = json.loads((course / "autograded" / "input-transformer" / LESSON / command.GRADING_RECORD).read_text())
    assert sum(report["nbgrader_scores"].values()) == 10.0  # inside the kernel, every test "passed" ...
    assert sum(v["score"] for v in report["verdicts"].values()) == 0.0  # ... but every answer is wrong
    assert any("checking was altered" in line for line in report["report"])


def test_big_output_is_cut_in_the_stored_notebook(attacked):
    course, _, _ = attacked
    path = course / "autograded" / "50MB-output" / LESSON / f"{LESSON}.ipynb"
    assert path.stat().st_size < 2_000_000


