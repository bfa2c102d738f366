"""Late work (issue 24): the policy's settings, and the time each learning system recorded (never a file's name)."""

from __future__ import annotations

import argparse
from datetime import datetime

import pytest

from course_utils.grading import collect, late_work, lms_roster, round_trip_cli
from course_utils.grading.collect import Submission
from course_utils.grading import notebooks as nb
from tests.grading import round_trip_support as rs
from tests.grading import support as gs

LESSON = rs.LESSON
POLICY = late_work.LatePolicy(datetime(2026, 2, 1, 23, 59, 59), 0.10, 0.25, {"amy": datetime(2026, 2, 4, 23, 59, 59)})


def submission(student="bob", **given) -> Submission:
    return Submission(student, None, datetime(2026, 1, 1), b"", **given)


def test_started_days_after_the_deadline_and_the_cap():
    just_late = late_work.decide(POLICY, submission(recorded=datetime(2026, 2, 2, 0, 0, 30), system="Blackboard"))
    assert (just_late.days, just_late.share, just_late.penalty(8)) == (1, 0.10, 0.8)
    capped = late_work.decide(POLICY, submission(recorded=datetime(2026, 2, 9, 12, 0), system="Blackboard"))
    assert (capped.days, capped.share) == (8, 0.25) and "at most 25%" in capped.how
    on_time = late_work.decide(POLICY, submission(recorded=datetime(2026, 2, 1, 23, 59, 50), system="Blackboard"))
    assert on_time.days == 0 and on_time.share == 0.0
    extended = late_work.decide(POLICY, submission("amy", recorded=datetime(2026, 2, 4, 10, 0), system="Moodle"))
    assert extended.share == 0.0 and "your extended deadline" in extended.how


def test_a_date_in_a_students_file_name_is_never_the_submission_time(tmp_path):
    """A Canvas file whose student-chosen part names a late date, without Canvas's late_ mark, is on time; a
    Blackboard file whose chosen name imitates an attempt stamp keeps the system's own (the first) stamp."""
    notebook = gs.student_notebook(gs.ROOT, LESSON)
    nb.write(notebook, tmp_path / "canvas" / f"leebob_1002_9002_handed-in-2026-03-01-late_{LESSON}.ipynb")
    chosen = "attempt_2026-03-01-10-00-00_x.ipynb"  # the student's own file name, imitating a later attempt
    nb.write(notebook, tmp_path / "bb" / f"Lesson 1_bob_attempt_2026-01-30-10-00-00_{chosen}")
    canvas = collect.collect(tmp_path / "canvas", LESSON).submissions[0]
    blackboard = collect.collect(tmp_path / "bb", LESSON).submissions[0]
    assert (canvas.system, canvas.late_mark, canvas.recorded) == ("Canvas", False, None)
    assert late_work.decide(POLICY, canvas).share == 0.0
    assert blackboard.recorded.replace(tzinfo=None) == datetime(2026, 1, 30, 10, 0)
    assert late_work.decide(POLICY, blackboard).share == 0.0


def test_canvas_late_mark_counts_one_day_and_a_plain_folder_none(tmp_path):
    marked = late_work.decide(POLICY, submission(system="Canvas", late_mark=True))
    assert (marked.days, marked.share) == (1, 0.10) and "does not say by how much" in marked.how
    assert late_work.decide(POLICY, submission()).share == 0.0  # a folder per student: no recorded time


def test_moodle_worksheet_times_are_read(tmp_path):
    rs.moodle(tmp_path)
    times = late_work.recorded_times(lms_roster.read_rows(tmp_path / "moodle-roster.csv"))
    assert times == {"201": datetime(2026, 2, 1, 10, 0), "202": datetime(2026, 2, 3, 9, 0),
                     "203": datetime(2026, 2, 1, 20, 0), "204": datetime(2026, 2, 1, 11, 0)}  # eve: "-"


def test_settings_from_pyproject_and_the_command_line_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.course]\nlate-penalty = "5%/day"\nlate-cap = "20%"\n[tool.course.deadlines]\n'
        f'"{LESSON}" = "2026-02-01"\n[tool.course.extensions."{LESSON}"]\nann = "2026-02-05 12:00"\n')
    policy = late_work.policy_for(tmp_path, LESSON)
    assert (policy.deadline, policy.per_day, policy.cap) == (datetime(2026, 2, 1, 23, 59, 59), 0.05, 0.20)
    assert policy.extensions == {"ann": datetime(2026, 2, 5, 12, 0, 59)}
    given = late_work.policy_for(tmp_path, LESSON, penalty="10%/day", extensions=["bob=2026-02-03"])
    assert given.per_day == 0.10 and set(given.extensions) == {"ann", "bob"}
    assert late_work.policy_for(tmp_path, "another-lesson") is None


@pytest.mark.parametrize("options, words", [
    ({"deadline": "1 Feb", "penalty": "10%/day"}, "--deadline: '1 Feb' is not a date"),
    ({"deadline": "2026-02-01", "penalty": "ten"}, "--late-penalty: 'ten' is not a percentage"),
    ({"deadline": "2026-02-01", "penalty": "10%/day", "cap": "150%"}, "--late-cap"),
    ({"deadline": "2026-02-01", "penalty": "10%/day", "extensions": ["alice"]}, "STUDENT=DATE"),
    ({"penalty": "10%/day"}, "need a deadline"),
    ({"deadline": "2026-02-01"}, "--deadline needs a penalty"),
])
def test_bad_settings_name_the_option(tmp_path, options, words):
    with pytest.raises(ValueError, match=words):
        late_work.policy_for(tmp_path, LESSON, **options)


def test_grade_command_line_options_reach_the_round_trip(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument("--roster", default=None)
    round_trip_cli.add_grade_options(parser)
    args = parser.parse_args(["--deadline", "2026-02-01 23:59", "--late-penalty", "10%/day", "--late-cap", "50%",
                              "--extension", "alice=2026-02-03", "--export", "canvas", "--export", "moodle",
                              "--missing-as-zero"])
    trip = round_trip_cli.trip_from_args(args, tmp_path, LESSON)
    assert trip.late == late_work.LatePolicy(datetime(2026, 2, 1, 23, 59, 59), 0.10, 0.50,
                                             {"alice": datetime(2026, 2, 3, 23, 59, 59)})
    assert trip.export_to == ["canvas", "moodle"] and trip.missing_as_zero and trip.report
