"""The instructor's round trip (issue 24): class report, exports into Canvas / Moodle / Blackboard, late work.

One class is graded for real, from a Blackboard download (``round_trip_support``: a late submission, a
student with two attempts, a file that cannot be graded, a student on the roster who handed nothing in).
The Canvas and Moodle classes reuse its grading results (``round_trip_support.replay``: their downloads are
collected and stored as ``grade`` does, without running the notebooks again), so each system's export,
naming and time source is checked without grading three times.
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import statistics
import zipfile

import pytest

from course_utils.__main__ import main
from course_utils.grading import class_results, command, exports, late_work, lms_roster, report, round_trip
from course_utils.grading.check_results import NOT_ATTEMPTED
from tests.grading import round_trip_support as rs
from tests.grading import support as gs

LESSON = rs.LESSON


def _trip(folder, system, extensions=(), export_to=()):
    policy = late_work.policy_for(folder, LESSON, deadline=rs.DEADLINE, penalty=rs.PENALTY, cap=rs.CAP,
                                  extensions=list(extensions))
    return round_trip.RoundTrip(late=policy, roster=lms_roster.read_rows(folder / f"{system}-roster.csv"),
                                export_to=list(export_to))


@pytest.fixture(scope="module")
def blackboard_class(tmp_path_factory):
    """(course, outcome): the Blackboard class graded by ``grade``, bob with an extension to 2026-02-02."""
    folder = tmp_path_factory.mktemp("round-trip")
    course = gs.new_course(folder / "course", [LESSON])
    download = rs.blackboard(folder)
    trip = _trip(folder, "blackboard", ["bob=2026-02-02"], ["blackboard"])
    outcome = command.grade(course, LESSON, download, jobs=2, timeout=gs.TIMEOUT, echo=lambda *a: None,
                            roster=folder / "blackboard-roster.csv", trip=trip)
    assert sorted(outcome.graded) == ["ann", "bob", "cat"] and not outcome.failed and not outcome.problems
    return course, outcome


@pytest.fixture(scope="module")
def canvas_class(blackboard_class, tmp_path_factory):
    folder = tmp_path_factory.mktemp("canvas")
    return rs.replay(blackboard_class[0], "canvas", folder, lambda: _trip(folder, "canvas"))


@pytest.fixture(scope="module")
def moodle_class(blackboard_class, tmp_path_factory):
    folder = tmp_path_factory.mktemp("moodle")
    return rs.replay(blackboard_class[0], "moodle", folder, lambda: _trip(folder, "moodle"))


def _csv(path, **options) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text()), **options))


def _record(course, student) -> dict:
    return json.loads((course / "autograded" / student / LESSON / "course_grading.json").read_text())


# ----- per-check results and the class report ------------------------------------------------------------------

def test_each_checks_result_and_wrong_value_is_stored_outside_the_notebook(blackboard_class):
    course, _ = blackboard_class
    bob, cat, ann = (_record(course, name)["checks"] for name in ("bob", "cat", "ann"))
    assert all(result["passed"] for result in ann.values()) and len(ann) == 22
    assert bob["ex1-test/0"] == {"passed": False, "answer": "[0, 1, 2]"}
    assert {bob[f"ex4-test/{n}"]["answer"] for n in range(3)} == {NOT_ATTEMPTED}
    assert cat["ex2-test/0"] == {"passed": False, "answer": repr(rs.HOSTILE)}
    assert bob["ex2-test/0"] == {"passed": True, "answer": None}


def test_report_numbers_are_the_gradebooks(blackboard_class):
    course, outcome = blackboard_class
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((course / "grades.csv").read_text()))
            if row["status"].startswith("graded")}
    finals = [float(row["final_score"]) for row in rows.values()]
    table = gs.gradebook_table(course)
    results = class_results.lesson_results(course, LESSON)
    assert {s: r.final for s, r in results.students.items()} == {s: float(r["final_score"]) for s, r in rows.items()}
    page = (course / "reports" / LESSON / "report.html").read_text()
    assert f"3 graded; mean {statistics.mean(finals):.1f}, median {statistics.median(finals):g}" in page
    assert "1 on the roster handed nothing in" in page  # eve
    ex4 = [table[(s, LESSON)][f"{LESSON}/ex4-test"] for s in rows]
    assert f"<td class=n>{statistics.mean(ex4):.2f}</td><td class=n>67%</td><td class=n>0%</td>" \
           "<td class=n>33%</td><td class=n>33%</td>" in page  # ex4: bob left it unsolved
    first = page.index("<table class=checks>")
    # the most failed checks come first: ex1 (bob) and ex2 (cat) are each failed by 1 of 3; never ex3
    assert page.index("ex1-test, visible check 1", first) < page.index("ex4-test, visible check 1", first)
    assert "ex3-test" not in page[first:page.index("</table>", first)]
    assert "<li><code>[0, 1, 2]</code> &times; 1</li>" in page
    assert "Lesson 1_dan_attempt_2026-02-01-11-00-00" in page  # the file not graded
    assert (course / "reports" / LESSON / "report-figures.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_shows_what_submissions_returned_only_as_escaped_text(blackboard_class):
    course, _ = blackboard_class
    page = (course / "reports" / LESSON / "report.html").read_text()
    assert html.escape(repr(rs.HOSTILE), quote=True) in page
    assert "<script" not in page.lower() and rs.HOSTILE not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def _store_second_lesson(course, lesson: str, scores: dict[str, bool]) -> None:
    """Put ``lesson`` into the gradebook with a result per student ({student: all right?}), as grade stores one."""
    from datetime import datetime, timezone

    from course_utils.grading import nbgrader_course
    from course_utils.grading.collect import Submission
    from course_utils.grading.gradebook import store_result
    from course_utils.grading.jobs import GradingResult
    from course_utils.grading.trusted import Verdict, parse_test_cells

    shutil.copytree(gs.ROOT / "solutions" / lesson, course / "solutions" / lesson)
    nbgrader_course.register_and_release(course, lesson, course.parent / "release")
    cells = parse_test_cells(gs.nb.read(course / "solutions" / lesson / f"{lesson}.ipynb"))
    for student, right in scores.items():
        verdicts = {test_id: Verdict(test_id, cell.points, cell.points if right else 0.0, [])
                    for test_id, cell in cells.items()}
        result = GradingResult(student, verdicts, {}, [], True, [], "{}", "<html></html>")
        store_result(course, lesson, Submission(student, course / "x", datetime.now(timezone.utc), b"{}"), result, "-")


def test_cross_lesson_view_has_a_row_per_student_and_each_lessons_mean(blackboard_class, tmp_path):
    course = shutil.copytree(blackboard_class[0], tmp_path / "course")
    _store_second_lesson(course, "02-maxsim", {"ann": True, "bob": False})
    second = class_results.lesson_results(course, "02-maxsim")
    page = report.write_index(course).read_text()
    assert page.count("<tr><td>") == 6  # ann, bob, cat, dan and eve (on the roster), and the mean row
    assert f'<a href="{LESSON}/report.html">' in page and '<a href="02-maxsim/report.html">' in page
    full = f"{second.max_score:g}"
    assert f"<tr><td>ann</td><td>Ann Student</td><td class=n>10</td><td class=n>{full}</td></tr>" in page
    assert "<tr><td>cat</td><td>Cat Student</td><td class=n>8</td><td class=n>&ndash;</td></tr>" in page
    assert "<tr><td>eve</td><td>Eve Student</td><td class=n>&ndash;</td><td class=n>&ndash;</td></tr>" in page
    assert f"<td class=n><b>7.5</b></td><td class=n><b>{second.max_score / 2:.1f}</b></td>" in page


# ----- late work ------------------------------------------------------------------------------------------------

def test_late_penalty_from_blackboards_attempt_time_with_an_extension(blackboard_class):
    course, _ = blackboard_class
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((course / "grades.csv").read_text()))}
    assert (rows["bob"]["score"], rows["bob"]["days_late"], rows["bob"]["late_penalty"], rows["bob"]["final_score"]) \
        == ("5.0", "1", "0.5", "4.5")  # 2026-02-03 09:00, extended to 2026-02-02: one started day, 10%
    assert (rows["cat"]["days_late"], rows["cat"]["final_score"]) == ("0", "8.0")
    text = gs.feedback_text(course, "bob")
    assert "Score: 4.5 / 10" in text and "Handed in 2026-02-03 09:00 (as Blackboard recorded it)" in text
    assert "your extended deadline" in text and "Score before the penalty 5, penalty 0.5 points, score 4.5." in text


def test_canvas_late_mark_and_moodle_worksheet_time_decide_lateness(canvas_class, moodle_class):
    canvas, moodle = (class_results.lesson_results(c, LESSON).students for c in (canvas_class, moodle_class))
    assert (canvas["1002"].days_late, canvas["1002"].final) == (1, 4.5)  # late_ mark: one day, the least
    assert (moodle["202"].days_late, moodle["202"].final) == (2, 4.0)  # worksheet: 2026-02-03 09:00 AM
    assert canvas["1001"].days_late == moodle["201"].days_late == 0 and canvas["1003"].final == 8.0


# ----- exports --------------------------------------------------------------------------------------------------

def test_blackboard_export_columns_values_and_feedback_folders(blackboard_class):
    course, outcome = blackboard_class
    folder = course / "exports" / LESSON
    assert folder / "blackboard-grades.csv" in outcome.written
    text = (folder / "blackboard-grades.csv").read_text()
    assert text.splitlines()[0] == f'"Last Name","First Name","Username","{rs.BLACKBOARD_COLUMN}"'
    assert _csv(folder / "blackboard-grades.csv")[1:] == [
        ["Student", "Ann", "ann", "10"], ["Student", "Bob", "bob", "4.5"], ["Student", "Cat", "cat", "8"],
        ["Student", "Eve", "eve", ""]]  # dan's file could not be graded: no row
    assert sorted(p.name for p in (folder / "blackboard-feedback").iterdir()) == ["ann", "bob", "cat"]
    assert (folder / "blackboard-feedback" / "bob" / f"{LESSON}-feedback.html").read_text() == \
        (course / "feedback" / "bob" / LESSON / f"{LESSON}.html").read_text()


def test_canvas_export_follows_its_gradebook_import_format(canvas_class):
    notes = []
    grades, bundle = exports.export(canvas_class, LESSON, "canvas", notes=notes)
    assert notes == []  # the roster's Points Possible (10) is the lesson's
    assert json.loads((canvas_class / "reports" / LESSON / "download.json").read_text())["roster_points"][
        rs.CANVAS_COLUMN] == "10"
    rows = _csv(grades)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", rs.CANVAS_COLUMN]
    assert rows[1] == ["    Points Possible", "", "", "", "", "10"]
    assert rows[2:] == [["Ann, Student", "1001", "S1001", "ann@uni.example", "A", "10"],
                        ["Bob, Student", "1002", "S1002", "bob@uni.example", "A", "4.5"],
                        ["Cat, Student", "1003", "S1003", "cat@uni.example", "B", "8"],
                        ["Eve, Student", "1005", "S1005", "eve@uni.example", "B", ""]]
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == [f"doeann_1001_9001_{LESSON}-feedback.html",
                                              f"kimcat_1003_9010_{LESSON}-feedback.html",
                                              f"leebob_late_1002_9002_{LESSON}-feedback.html"]


def test_moodle_export_follows_its_grading_worksheet(moodle_class):
    grades, bundle = exports.export(moodle_class, LESSON, "moodle", missing_as_zero=True)
    rows = [dict(zip(_csv(grades)[0], row)) for row in _csv(grades)[1:]]
    assert _csv(grades)[0][:4] == ["Identifier", "Full name", "Email address", "Grade"]
    assert [(r["Identifier"], r["Email address"], r["Grade"]) for r in rows] == [
        ("Participant 201", "ann@uni.example", "10"), ("Participant 202", "bob@uni.example", "4"),
        ("Participant 203", "cat@uni.example", "8"), ("Participant 205", "eve@uni.example", "0")]
    assert all(r["Last modified (grade)"] for r in rows) and "late penalty of 1" in rows[1]["Feedback comments"]
    with zipfile.ZipFile(bundle) as archive:
        assert f"Bob Student_202_assignsubmission_file_/{LESSON}-feedback.html" in archive.namelist()
        assert len(archive.namelist()) == 3


def test_an_ambiguous_grade_column_is_refused_naming_the_option(canvas_class, tmp_path):
    course = shutil.copytree(canvas_class, tmp_path / "course")
    record = json.loads((course / "reports" / LESSON / "download.json").read_text())
    record["roster_header"].append("Lesson 2 (5552)")
    record["roster"]["1001"]["Student"] = '=HYPERLINK("http://x.example")'  # a name from a student's profile
    record["roster_points"]["Lesson 2 (5552)"] = "12"
    (course / "reports" / LESSON / "download.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="--lms-column"):
        exports.export(course, LESSON, "canvas")
    with pytest.raises(ValueError, match="graded from a Canvas download") as refused:
        exports.export(course, LESSON, "moodle")  # Canvas's ids mean nothing to Moodle
    assert "not Moodle's" in str(refused.value) and "moodle's" not in str(refused.value)
    notes = []
    grades, _ = exports.export(course, LESSON, "canvas", column="Lesson 2 (5552)", notes=notes)
    assert len(notes) == 1 and "worth 12 points in the learning system, the lesson 10" in notes[0]
    assert _csv(grades)[0][-1] == "Lesson 2 (5552)"
    assert _csv(grades)[2][:2] == ["'=HYPERLINK(\"http://x.example\")", "1001"]  # shown as text, not run


def test_report_and_export_are_rebuilt_from_the_gradebook_alone(blackboard_class, tmp_path):
    course = shutil.copytree(blackboard_class[0], tmp_path / "course")
    before = (course / "exports" / LESSON / "blackboard-grades.csv").read_text()
    shutil.rmtree(course / "exports")
    (course / "reports" / LESSON / "report.html").unlink()
    for args in (["report", LESSON], ["export", "blackboard", LESSON]):  # the command lines, in this process
        assert main([*args, "--course", str(course)]) == 0
    assert (course / "exports" / LESSON / "blackboard-grades.csv").read_text() == before
    assert "Per check, most failed first" in (course / "reports" / LESSON / "report.html").read_text()


def test_a_lesson_graded_from_one_system_refuses_another_systems_download(moodle_class, tmp_path, capsys):
    """The trial's finding: Moodle, then Blackboard, mixed two systems' ids in one gradebook and export."""
    from course_utils.grading import collect

    course = shutil.copytree(moodle_class, tmp_path / "course")
    stored = (course / "gradebook.db", course / "grades.csv", course / "reports" / LESSON / "download.json")
    before = {path.name: path.read_bytes() if path.exists() else None for path in stored}
    download = rs.blackboard(tmp_path / "downloads")
    with pytest.raises(ValueError, match="already graded from a Moodle download, and this is a Blackboard") as refused:
        command.grade(course, LESSON, download, jobs=1, timeout=gs.TIMEOUT, echo=lambda *a: None,
                      sandbox_limits=None)
    assert f"grade {LESSON}'s Moodle download again" in str(refused.value) and "--course FOLDER" in str(refused.value)
    assert main(["grade", LESSON, str(download), "--course", str(course), "--no-sandbox"]) == 2
    assert "Cannot grade: " in capsys.readouterr().out
    after = {path.name: path.read_bytes() if path.exists() else None for path in stored}
    assert after == before  # nothing of the Blackboard download was stored
    # the same system's download again is fine (not graded here: only the check)
    command.check_same_system(course, LESSON, collect.collect(rs.moodle(tmp_path / "again"), LESSON))


def test_summary_lists_every_missed_exercise_and_the_report_gives_the_penalty_in_points(blackboard_class, tmp_path):
    from course_utils.grading.gradebook import summary
    from course_utils.grading.trusted import parse_test_cells

    course = shutil.copytree(blackboard_class[0], tmp_path / "course")
    _store_second_lesson(course, "02-maxsim", {"ann": True, "bob": False})
    tests = parse_test_cells(gs.nb.read(course / "solutions" / "02-maxsim" / "02-maxsim.ipynb"))
    assert len(tests) > 3  # more than the 3 the summary once showed
    text = summary(course, "02-maxsim")
    assert all(f"  {test_id}: 1 of 2 students" in text for test_id in tests), text
    page = (blackboard_class[0] / "reports" / LESSON / "report.html").read_text()
    assert "started day(s): penalty " in page
    line = page.split("started day(s): penalty ", 1)[1].split("<", 1)[0]
    assert line.endswith((" point", " points")), line
