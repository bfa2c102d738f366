"""Grading a real class's Blackboard download (issue 17), in one run shared by the tests below.

Two misattributions the old greedy parsing made: ``bob_smith`` and ``jane_smith`` became one
student ``smith``; Mallory's blank upload named ``x_alice_attempt_<later>_<lesson>.ipynb``
replaced Alice's newest attempt. (Jane's and Mallory's files here are cut short, so that only
two notebooks are graded: they are reported under their own names.) With a roster both land where
they belong, a student missing from the roster is reported, grades.csv equals the gradebook,
and the feedback page's header names each exercise.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from course_utils.grading import command
from course_utils.grading import notebooks as nb
from tests.grading import support as gs

LESSON, TIMEOUT, new_course = gs.ATTACK_LESSON, gs.TIMEOUT, gs.attack_course


def bb(user: str, stamp: str, file: str = f"{LESSON}.ipynb") -> str:
    return f"Lesson 1_{user}_attempt_{stamp}_{file}"


MALLORY = bb("mallory", "2026-01-05-12-00-00", f"x_alice_attempt_2026-12-31-23-59-59_{LESSON}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    course = new_course(tmp)
    solved = gs.solved_notebook(gs.ROOT, LESSON)  # committed notebooks: what nbgrader generates
    folder = tmp / "download"
    for name in (bb("alice", "2026-01-05-11-00-00"), bb("bob_smith", "2026-01-05-10-00-00"),
                 bb("eve", "2026-01-05-09-00-00")):
        nb.write(solved, folder / name)
    # two more students whose files are cut short: reported under their own names, no grading needed
    for name in (bb("jane_smith", "2026-01-05-10-30-00"), MALLORY):
        (folder / name).write_text('{"cells": [')
    (folder / "Lesson 1_alice_attempt_2026-01-05-11-00-00.txt").write_text(
        "Name: Alice Doe (alice)\nAssignment: Lesson 1\n\n"
        "Comments:\nThere are no student comments for this assignment.\n")
    roster = tmp / "roster.csv"
    roster.write_text("Last Name,First Name,Username\nDoe,Alice,alice\nSmith,Bob,bob_smith\nSmith,Jane,jane_smith\n"
                      "M,Mallory,mallory\n")
    outcome = command.grade(course, LESSON, folder, jobs=2, timeout=TIMEOUT, roster=roster, echo=lambda *a: None)
    return course, outcome


def test_two_usernames_ending_alike_are_two_students(graded):
    course, outcome = graded
    assert gs.gradebook_scores(course, LESSON)["bob_smith"] == 10.0
    assert "jane_smith" in dict(outcome.not_graded) and "smith" not in gs.gradebook_scores(course, LESSON)


def test_a_file_named_like_another_students_attempt_stays_with_its_uploader(graded):
    course, outcome = graded
    assert gs.gradebook_scores(course, LESSON) == {"alice": 10.0, "bob_smith": 10.0}
    assert MALLORY in dict(outcome.not_graded)["mallory"]
    assert not any("older attempt" in why for _, why in outcome.skipped)


def test_a_student_missing_from_the_roster_is_reported_not_graded(graded):
    course, outcome = graded
    reasons = dict(outcome.skipped)
    assert "matches no student on the roster" in reasons[bb("eve", "2026-01-05-09-00-00")]
    assert sorted(outcome.graded) == ["alice", "bob_smith"] and not outcome.failed


def test_grades_csv_is_the_gradebook_after_the_run(graded):
    course, outcome = graded
    assert outcome.csv == course / "grades.csv"
    assert gs.csv_table(course) == gs.gradebook_table(course) and len(gs.csv_table(course)) == 2
    rows = (course / "grades.csv").read_text().splitlines()
    assert sum(row.startswith(("jane_smith,", "mallory,")) and ",not graded: " in row for row in rows) == 2


def test_feedback_header_names_each_exercise_with_its_points(graded):
    course, _ = graded
    page = (course / "feedback" / "alice" / LESSON / f"{LESSON}.html").read_text()
    header = re.findall(r'<tr><td><a href="#([^"]+)">([^<]+)</a></td><td class="points">([^<]+)</td>', page)
    assert [grade_id for grade_id, _, _ in header] == ["ex1-test", "ex2-test", "ex3-test", "ex4-test"]
    assert all(label.startswith("Exercise ") for _, label, _ in header)
    assert [points for _, _, points in header] == ["3 / 3", "2 / 2", "3 / 3", "2 / 2"]
    assert '<p class="score">Score: 10 / 10</p>' in page


def test_command_line_reports_a_missing_roster_plainly(tmp_path):
    course = new_course(tmp_path)
    run = subprocess.run([sys.executable, "-m", "course_utils", "grade", LESSON, str(tmp_path), "--course", str(course),
                          "--roster", str(tmp_path / "class.csv")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "roster" in run.stdout and "does not exist" in run.stdout, run
