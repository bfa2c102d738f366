"""Grades back into the learning system: the file each system imports, matched to the ids its download gave.

``grade --export canvas|moodle|blackboard`` (or ``course.py export SYSTEM LESSON`` later) writes,
into ``exports/<lesson>/``, the grade file and the feedback pages in the form that system takes
them in bulk (:mod:`course_utils.grading.feedback_bundles`). The grade is the final score (after
a late penalty). Which students get a row:

- every student in the gradebook for the lesson, with their score;
- every student on the roster with no submission: an empty cell (the system leaves the grade
  as it is), or 0 with ``missing_as_zero``;
- a student who was in the download but is not in the gradebook (their file could not be
  graded): no row at all, never a zero.

Formats, from each system's documentation:

- Canvas, "How do I import grades in the Gradebook?"
  (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807)
  and the layout of its own gradebook export: the columns ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment named ``<assignment name>
  (<assignment id>)``; the second row is ``Points Possible``. Rows are matched on ``ID`` (Canvas's
  user id, the number its download puts in every file name). A column without ``(<id>)`` makes a
  new assignment on import.
- Blackboard Learn, "Uploading or Downloading Grade Center Items for Working Offline"
  (http://library.blackboard.com/ref/3ea64795-6ecc-4abd-b595-0a9a8dfdec94/Content/_instructor_grade_center/grade_center_upload_download.htm):
  students are matched on ``Username``, columns on the Column ID after ``|`` in the header
  (``<column name> |<column id>``); a column without an id becomes a new text column worth 0
  points; in a comma-delimited file every value is inside quotation marks.
- Moodle, the assignment's offline grading worksheet (Assignment settings, "Offline grading
  worksheet", https://docs.moodle.org/en/Assignment_settings#Feedback_types; the importer,
  ``mod/assign/feedback/offline/importgradeslib.php``, needs the columns ``Identifier``
  (``Participant <id>``, the id Moodle's download names), ``Grade`` and ``Last modified (grade)``,
  and reads ``Feedback comments``). The same file also carries ``Email address`` (from the
  worksheet given as roster), which the gradebook's CSV import (Grades > Import > CSV file,
  https://docs.moodle.org/en/Import_grades) can map as the identifier.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from course_utils.grading import class_results, download_record, feedback_bundles
from course_utils.grading import notebooks as nb

__all__ = ["NAMES", "SYSTEMS", "export"]

SYSTEMS = ("canvas", "moodle", "blackboard")
#: The systems' names as messages write them.
NAMES = {"canvas": "Canvas", "moodle": "Moodle", "blackboard": "Blackboard"}
#: Assignment columns of a Canvas gradebook export, and of a Blackboard Grade Centre download.
_CANVAS_COLUMN = re.compile(r"^(?P<name>.+) \((?P<id>\d+)\)$")
_BLACKBOARD_COLUMN = re.compile(r"^(?P<name>.+?)\s*\|(?P<id>\d+)$")


def _number(value: float) -> str:
    return f"{value:g}"


def _plain(text: str) -> str:
    """A name or email as a cell a spreadsheet shows as text: one starting with ``= + - @`` (a formula, when
    the file is opened in a spreadsheet; names come from students' profiles) gets a leading ``'``."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rows(results: class_results.LessonResults, record: download_record.DownloadRecord,
          missing_as_zero: bool) -> list[tuple[str, str]]:
    """[(student id, grade text)]: roster order first, then the other graded students (see the module docstring)."""
    order = list(record.roster) + sorted(s for s in results.students if s not in record.roster)
    rows = []
    for student in order:
        if student in results.students:
            rows.append((student, _number(results.students[student].final)))
        elif student in record.students:
            continue  # in the download, not in the gradebook: leave the system's grade alone
        else:
            rows.append((student, "0" if missing_as_zero else ""))
    return rows


def _column(system: str, given: str | None, record: download_record.DownloadRecord, lesson: str) -> str:
    """The header of the grade column: ``given``, else the one assignment column of the roster, else the lesson.

    Raises:
        ValueError: the roster has several assignment columns and none was chosen with --lms-column.
    """
    if given:
        return given
    pattern = _CANVAS_COLUMN if system == "canvas" else _BLACKBOARD_COLUMN
    found = [cell for cell in record.roster_header if pattern.match(cell)
             and not re.match(r"^(weighted )?total\b", cell, re.I)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ValueError(f"the roster has {len(found)} assignment columns ({'; '.join(found)}): choose the one to "
                         "import into with --lms-column")
    return lesson


def _canvas(results, record, rows, column: str) -> str:
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
    writer.writerow(["    Points Possible", "", "", "", "", _number(results.max_score)])
    for student, grade in rows:
        name = record.roster_value(student, "Student") or record.students.get(student, {}).get("prefix", "")
        name = name.split("_")[0] if name and not record.roster_value(student, "Student") else name
        writer.writerow([_plain(name), student, _plain(record.roster_value(student, "SIS User ID")),
                         _plain(record.roster_value(student, "SIS Login ID")),
                         _plain(record.roster_value(student, "Section")), grade])
    return table.getvalue()


def _blackboard(record, rows, column: str) -> str:
    table = io.StringIO(newline="")
    writer = csv.writer(table, quoting=csv.QUOTE_ALL)
    writer.writerow(["Last Name", "First Name", "Username", column])
    for student, grade in rows:
        writer.writerow([_plain(record.roster_value(student, "Last Name")),
                         _plain(record.roster_value(student, "First Name")), student, grade])
    return table.getvalue()


def _moodle(results, record, rows, lesson: str) -> str:
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["Identifier", "Full name", "Email address", "Grade", "Maximum Grade", "Last modified (grade)",
                     "Feedback comments"])
    now = datetime.now().strftime("%Y-%m-%d %H:%M")
    for student, grade in rows:
        result = results.students.get(student)
        comment = ""
        if result is not None:
            comment = f"{lesson}: {_number(result.final)} of {_number(result.max_score)} points"
            if result.penalty:
                comment += f" ({_number(result.score)} before a late penalty of {_number(result.penalty)})"
            comment += "; the feedback file explains each exercise."
        name = record.roster_value(student, "Full name") or record.students.get(student, {}).get("prefix", "")
        name = name.split("_")[0] if name and not record.roster_value(student, "Full name") else name
        writer.writerow([f"Participant {student}", _plain(name), _plain(record.roster_value(student, "Email address")),
                         grade,
                         _number(results.max_score), now if grade else "", comment])
    return table.getvalue()


def _points_note(record, column: str, maximum: float) -> str | None:
    """A warning when the roster says the grade column is worth other points than the lesson (Canvas's row)."""
    given = record.roster_points.get(column, "")
    try:
        points = float(given)
    except ValueError:
        return None
    if abs(points - maximum) < 1e-9:
        return None
    return (f"the column {column!r} is worth {points:g} points in the learning system, the lesson {maximum:g}: "
            "the grades are written out of the lesson's points; change the assignment's points (or scale them) "
            "before importing")


def export(course: Path, lesson: str, system: str, *, missing_as_zero: bool = False,
           column: str | None = None, notes: list[str] | None = None) -> list[Path]:
    """Write ``system``'s grade file and feedback bundle of ``lesson`` into ``exports/<lesson>/``.

    ``column``: the grade column's header (Canvas ``<name> (<id>)``, Blackboard ``<name> |<id>``); by
    default the roster's one assignment column, else the lesson's name (the system then makes a new one).
    ``notes``: warnings are appended to it (a grade column worth other points than the lesson).

    Returns:
        the files and folders written.

    Raises:
        ValueError: an unknown system, a lesson never graded, a lesson graded from another system's
            download, or an ambiguous column.
    """
    system = system.lower()
    if system not in SYSTEMS:
        raise ValueError(f"--export: unknown learning system {system!r}; choose one of {', '.join(SYSTEMS)}")
    results = class_results.lesson_results(course, lesson)
    record = download_record.load(course, lesson)
    if record.system and record.system.lower() != system:
        raise ValueError(f"{lesson} was graded from a {record.system} download, so its student ids are "
                         f"{record.system}'s, not {NAMES[system]}'s: export to {record.system.lower()}, or grade "
                         f"the {NAMES[system]} download in a separate course folder (--course FOLDER)")
    rows = _rows(results, record, missing_as_zero)
    folder = Path(course) / "exports" / lesson
    folder.mkdir(parents=True, exist_ok=True)
    chosen = _column(system, column, record, lesson) if system != "moodle" else "Grade"
    note = _points_note(record, chosen, results.max_score)
    if note and notes is not None:
        notes.append(f"{NAMES[system]} export: {note}")
    if system == "canvas":
        text = _canvas(results, record, rows, chosen)
    elif system == "blackboard":
        text = _blackboard(record, rows, chosen)
    else:
        text = _moodle(results, record, rows, lesson)
    grades = folder / f"{system}-grades.csv"
    nb.write_text_atomically(grades, text)
    return [grades, feedback_bundles.write(course, lesson, system, results, record, folder)]
