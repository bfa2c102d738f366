"""Fixture downloads of one small class from Canvas, Blackboard and Moodle, for the round-trip tests.

The same four students in each system (ids differ per system, as they do in reality):

- ``ann`` hands in a full solution on time;
- ``bob`` hands in late (Canvas: its ``late_`` mark; Blackboard: an attempt two days after the deadline;
  Moodle: the worksheet's submission time); exercise 1 returns ``[0, 1, 2]`` and exercise 4 is left
  unsolved (NotImplementedError);
- ``cat`` made two attempts: the older is blank, the newer returns an HTML string from exercise 2;
- ``dan``'s file is cut short (in the download, cannot be graded: no export row, never a zero);
- ``eve`` is on the roster and handed nothing in (an empty cell, or 0 with --missing-as-zero).

Each roster follows the system's own export: Canvas's gradebook export (two header rows, assignment
column ``<name> (<id>)``), Blackboard's Grade Centre download (``<name> |<id>``), Moodle's offline grading
worksheet (``Participant <id>``, ``Last modified (submission)``).
"""

from __future__ import annotations

from pathlib import Path

from course_utils.grading import notebooks as nb
from tests.grading import support as gs

LESSON = gs.ATTACK_LESSON
FILE = f"{LESSON}.ipynb"
#: The deadline the tests grade with, and the penalty.
DEADLINE, PENALTY, CAP = "2026-02-01 23:59", "10%/day", "50%"
#: What exercise 2 of cat's newer attempt returns: markup that the report must show as text.
HOSTILE = "<script>alert('cat')</script>"
#: {system: {student: the id the system gives them}}.
IDS = {"canvas": {"ann": "1001", "bob": "1002", "cat": "1003", "dan": "1004", "eve": "1005"},
       "blackboard": {name: name for name in ("ann", "bob", "cat", "dan", "eve")},
       "moodle": {"ann": "201", "bob": "202", "cat": "203", "dan": "204", "eve": "205"}}
CANVAS_COLUMN = "Lesson 1 (5551)"
BLACKBOARD_COLUMN = "Lesson 1 [Total Pts: 10 Score] |777001"


def _unsolved(notebook, grade_id: str):
    """``notebook`` with answer ``grade_id`` put back as students get it (raising NotImplementedError)."""
    blank = nb.answer_cells(gs.student_notebook(gs.ROOT, LESSON))[grade_id].source
    nb.answer_cells(notebook)[grade_id].source = blank
    return notebook


def notebooks() -> dict[str, object]:
    """{name: notebook}: ann, bob, cat's two attempts (``cat-old``, ``cat``)."""
    bob = _unsolved(gs.solved_notebook(gs.ROOT, LESSON, wrong={"ex1-answer"}, returning="[0, 1, 2]"), "ex4-answer")
    return {"ann": gs.solved_notebook(gs.ROOT, LESSON), "bob": bob,
            "cat-old": gs.student_notebook(gs.ROOT, LESSON),
            "cat": gs.solved_notebook(gs.ROOT, LESSON, wrong={"ex2-answer"}, returning=repr(HOSTILE))}


def canvas(folder: Path) -> Path:
    """A Canvas download and its gradebook export (``folder / "roster.csv"``); returns the download folder."""
    ids, made = IDS["canvas"], notebooks()
    download = folder / "canvas"
    nb.write(made["ann"], download / f"doeann_{ids['ann']}_9001_{FILE}")
    nb.write(made["bob"], download / f"leebob_late_{ids['bob']}_9002_{FILE}")
    nb.write(made["cat-old"], download / f"kimcat_{ids['cat']}_9003_{FILE}")
    nb.write(made["cat"], download / f"kimcat_{ids['cat']}_9010_{FILE}")
    (download / f"ngdan_{ids['dan']}_9004_{FILE}").write_text('{"cells": [')
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CANVAS_COLUMN, "Current Score"],
            ["    Points Possible", "", "", "", "", "10", "(read only)"]]
    for name, section in (("ann", "A"), ("bob", "A"), ("cat", "B"), ("dan", "B"), ("eve", "B")):
        rows.append([f"{name.title()}, Student", ids[name], f"S{ids[name]}", f"{name}@uni.example", section, "", ""])
    _write_csv(folder / "canvas-roster.csv", rows)
    return download


def blackboard(folder: Path) -> Path:
    """A Blackboard download (attempt times in the names) and its Grade Centre download as roster."""
    made = notebooks()
    download = folder / "blackboard"
    for name, stamp, key in (("ann", "2026-02-01-10-00-00", "ann"), ("bob", "2026-02-03-09-00-00", "bob"),
                             ("cat", "2026-01-30-08-00-00", "cat-old"), ("cat", "2026-02-01-20-00-00", "cat")):
        nb.write(made[key], download / f"Lesson 1_{name}_attempt_{stamp}_{FILE}")
        (download / f"Lesson 1_{name}_attempt_{stamp}.txt").write_text(
            f"Name: {name.title()} Student ({name})\nAssignment: Lesson 1\n")
    (download / f"Lesson 1_dan_attempt_2026-02-01-11-00-00_{FILE}").write_text('{"cells": [')
    rows = [["Last Name", "First Name", "Username", "Student ID", "Last Access", "Availability", BLACKBOARD_COLUMN]]
    rows += [["Student", name.title(), name, f"S{index}", "", "Available", ""]
             for index, name in enumerate(("ann", "bob", "cat", "dan", "eve"))]
    _write_csv(folder / "blackboard-roster.csv", rows)
    return download


def moodle(folder: Path) -> Path:
    """A Moodle download (one folder per participant) and its offline grading worksheet as roster."""
    ids, made = IDS["moodle"], notebooks()
    download = folder / "moodle"
    for name, key, file in (("ann", "ann", FILE), ("bob", "bob", FILE), ("cat", "cat-old", "attempt1.ipynb"),
                            ("cat", "cat", FILE)):
        nb.write(made[key], download / f"{name.title()} Student_{ids[name]}_assignsubmission_file_" / file)
    dan = download / f"Dan Student_{ids['dan']}_assignsubmission_file_"
    dan.mkdir(parents=True)
    (dan / FILE).write_text('{"cells": [')
    times = {"ann": "Sunday, 1 February 2026, 10:00 AM", "bob": "Tuesday, 3 February 2026, 9:00 AM",
             "cat": "Sunday, 1 February 2026, 8:00 PM", "dan": "Sunday, 1 February 2026, 11:00 AM", "eve": "-"}
    rows = [["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
             "Last modified (submission)", "Last modified (grade)", "Feedback comments"]]
    rows += [[f"Participant {ids[name]}", f"{name.title()} Student", f"{name}@uni.example", "Submitted", "", "10.00",
              "Yes", times[name], "-", ""] for name in ("ann", "bob", "cat", "dan", "eve")]
    _write_csv(folder / "moodle-roster.csv", rows)
    return download


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows)


def replay(graded: Path, system: str, folder: Path, make_trip) -> Path:
    """A course holding ``system``'s class, made without running a notebook: each submission of that system's
    fixture download is collected as ``grade`` collects it, and stored (:func:`store_result`, as ``grade`` stores
    a result) with the grading result the same notebook got in the ``graded`` course (the Blackboard class,
    graded for real), under the id ``system`` gives the student and with the late-work decision of
    ``make_trip()`` (called once the download and its roster exist).
    Then the download record is kept as ``grade`` keeps it. Returns the course."""
    from course_utils.grading import collect, matching, nbgrader_course, round_trip
    from course_utils.grading.command import Outcome
    from course_utils.grading.gradebook import read_record, store_result
    from course_utils.grading.jobs import GradingResult
    from course_utils.grading.trusted import Verdict

    course = gs.new_course(folder / f"{system}-course", [LESSON])
    nbgrader_course.register_and_release(course, LESSON, folder / f"{system}-release")
    download = {"canvas": canvas, "moodle": moodle}[system](folder)
    found = collect.collect(download, LESSON, matching.read_roster(folder / f"{system}-roster.csv"))
    trip = make_trip()
    names = {given: name for name, given in IDS[system].items()}
    outcome = Outcome(skipped=list(found.skipped), not_graded=list(found.unreadable))
    for submission in found.submissions:
        name = names[submission.student]
        record = read_record(graded, LESSON, name)
        if not record:  # dan: his file could not be graded there either, as grade reports it
            outcome.skipped.append((found.display(submission.path), "is not a notebook (not valid JSON text)"))
            continue
        result = GradingResult(
            student=submission.student, verdicts={k: Verdict(**v) for k, v in record["verdicts"].items()},
            nbgrader_scores=record["nbgrader_scores"], stopped_cells=[], sandbox=True, report=record["report"],
            autograded=(graded / "autograded" / name / LESSON / FILE).read_text(),
            feedback=(graded / "feedback" / name / LESSON / f"{LESSON}.html").read_text(),
            checks=record["checks"], late=trip.lateness(submission))
        store_result(course, LESSON, submission, result, f"replayed from {name}")
        outcome.graded.append(submission.student)
    round_trip.remember_download(course, LESSON, found, outcome, trip)
    found.cleanup()
    return course
