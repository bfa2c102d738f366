"""What a learning system's download said about each student, kept for the exports and the report.

``grade`` writes ``reports/<lesson>/download.json`` beside the report: the system the download
came from, for each student seen in it the part of the file name the system wrote (feedback sent
back in bulk is named with it) and whether it was graded, and the roster's rows when a roster was
given (Canvas's sections and SIS ids, Moodle's emails). ``course.py export`` and ``course.py
report`` read it back without the download. A later run adds its students to the earlier ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import notebooks as nb

__all__ = ["DownloadRecord", "load", "path", "save"]


@dataclass
class DownloadRecord:
    """``system`` (Canvas, Blackboard, Moodle, or "" for folders), ``students`` {id: {"prefix", "graded"}},
    ``roster_header`` and ``roster`` ({id: {column: value}}) of the last roster given, ``not_graded`` the
    files of the last run that were not graded ([name, why]: untrusted names, escape them)."""

    system: str = ""
    students: dict[str, dict] = field(default_factory=dict)
    roster_header: list[str] = field(default_factory=list)
    roster: dict[str, dict[str, str]] = field(default_factory=dict)
    not_graded: list[list[str]] = field(default_factory=list)
    roster_points: dict[str, str] = field(default_factory=dict)

    def roster_value(self, student: str, column: str) -> str:
        name = next((cell for cell in self.roster_header if cell.strip().lower() == column.lower()), None)
        return self.roster.get(student, {}).get(name, "") if name else ""


def path(course: Path, lesson: str) -> Path:
    return Path(course) / "reports" / lesson / "download.json"


def load(course: Path, lesson: str) -> DownloadRecord:
    """The record of ``lesson`` (empty when it was never graded from a download)."""
    file = path(course, lesson)
    if not file.is_file():
        return DownloadRecord()
    data = json.loads(file.read_text())
    return DownloadRecord(data.get("system", ""), data.get("students", {}), data.get("roster_header", []),
                          data.get("roster", {}), data.get("not_graded", []), data.get("roster_points", {}))


def save(course: Path, lesson: str, found, graded: set[str], roster=None,
         not_graded: list[tuple[str, str]] = ()) -> DownloadRecord:
    """Add this run's students (``found``: :class:`course_utils.grading.collect.Collected`) to the record.

    ``graded``: the students whose submission is in the gradebook after this run; ``roster``: a
    :class:`course_utils.grading.lms_roster.Roster` or None (an earlier roster is kept); ``not_graded``
    the run's files not graded, (name, why).
    """
    record = load(course, lesson)
    systems = {submission.system for submission in found.submissions if submission.system}
    if len(systems) == 1:
        record.system = next(iter(systems))
    for submission in found.submissions:
        record.students[submission.student] = {"prefix": submission.lms_prefix,
                                               "graded": submission.student in graded}
    for student, _why in found.unreadable:
        record.students.setdefault(student, {"prefix": "", "graded": False})
    if roster is not None:
        record.roster_header, record.roster = list(roster.header), dict(roster.rows)
        record.roster_points = dict(roster.points)
    record.not_graded = [[name, why] for name, why in not_graded]
    file = path(course, lesson)
    file.parent.mkdir(parents=True, exist_ok=True)
    nb.write_text_atomically(file, json.dumps({"system": record.system, "students": record.students,
                                               "roster_header": record.roster_header, "roster": record.roster,
                                               "not_graded": record.not_graded,
                                               "roster_points": record.roster_points},
                                              indent=1, sort_keys=True))
    return record
