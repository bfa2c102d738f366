"""Whose file is it? Student ids from learning systems' download names, and the class roster.

Each learning system names the files of its "download all submissions" archive
after the student; the student chooses only the last part, the name of the file
they uploaded. Only the part the system writes is read here, and a name that
could belong to more than one student is reported, never guessed.

Formats, as their own code writes them:

- **Canvas** (canvas-lms ``lib/content_zipper.rb``, ``get_filename``):
  ``<sortable name>_[late_]<user id>_<attachment id>_<uploaded file>``, lower case,
  non-word characters removed; ``_<digits>_`` is removed from the name, so the first
  ``_[late_]<digits>_<digits>_`` after it is the system's. Student id: the numeric user id.
- **Blackboard** (Grade Centre "Assignment File Download"; the pattern nbgrader's
  ``zip_collect`` documentation shows, and BBGradebookOrganiser's ``organiser.py``):
  ``<assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<uploaded file>`` and one receipt
  ``<assignment>_<username>_attempt_<timestamp>.txt`` per attempt, whose first line is
  ``Name: <full name> (<username>)``. The first ``_attempt_<timestamp>`` is the system's; the
  username is what follows the assignment name, which is the same for every file of a download.
  Student id: the username.
- **Moodle** (``mod/assign/locallib.php``, ``download_submissions``):
  ``<Full Name>_<participant id>_assignsubmission_file_/<uploaded file>`` folders (the default
  since Moodle 3.1) or flat ``<Full Name>_<participant id>_assignsubmission_file_<uploaded file>``;
  ``_`` in the full name becomes a space, so the first ``_<digits>_assignsubmission_`` is the
  system's. Student id: the participant id.

A roster (CSV with a header row; see :func:`read_roster`) makes matching exact:
a candidate id counts only if it is on the roster.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "Parsed",
    "assignment_name",
    "blackboard",
    "canvas",
    "decide",
    "moodle",
    "read_roster",
    "receipt_username",
]

#: A usable nbgrader student id (a folder name and a gradebook key).
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
_CANVAS_TAIL = re.compile(r"_(?P<late>late_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)$", re.I)
_NAME_DIGITS = re.compile(r"_\d+_")
_BLACKBOARD = re.compile(r"^(?P<prefix>.+?)_attempt_(?P<stamp>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)"
                         r"(?:_(?P<file>.+)|(?P<receipt>\.txt))$", re.S)
_MOODLE = re.compile(r"^(?P<name>[^_]*)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$", re.S)
#: Roster columns that hold the student id, in order of preference (Canvas's gradebook export
#: has "ID", Blackboard's Grade Centre download "Username", Moodle's grading worksheet "Identifier").
ROSTER_COLUMNS = ("id", "username", "identifier", "student id", "student_id")


@dataclass(frozen=True)
class Parsed:
    """What one learning system's naming says about a file: candidate ids, the attempt, the file's own name."""

    system: str
    ids: tuple[str, ...]
    file: str
    attempt: datetime | None = None
    order: int = 0
    receipt: bool = False
    prefix: str = ""
    late: bool = False


def canvas(name: str) -> Parsed | None:
    """Canvas: every split whose name part holds no ``_<digits>_`` (Canvas removes those)."""
    ids, file, order, late = [], "", 0, False
    for position in (i for i, char in enumerate(name) if char == "_"):
        head, match = name[:position], _CANVAS_TAIL.match(name, position)
        if match and head and not _NAME_DIGITS.search(head):
            if match["user"] not in ids:
                ids.append(match["user"])
            file, order, late = match["file"], int(match["attachment"]), late or bool(match["late"])
    return Parsed("Canvas", tuple(ids), file, order=order, late=late) if ids else None


def blackboard(name: str) -> Parsed | None:
    """Blackboard: ``<assignment>_<username>`` before the first ``_attempt_<timestamp>``."""
    match = _BLACKBOARD.match(name)
    if not match:
        return None
    prefix = match["prefix"]
    ids = tuple(prefix[i + 1:] for i, char in enumerate(prefix) if char == "_" and 0 < i < len(prefix) - 1)
    stamp = datetime.strptime(match["stamp"], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone.utc)
    return Parsed("Blackboard", ids, match["file"] or "", attempt=stamp, receipt=bool(match["receipt"]),
                  prefix=prefix) if ids else None


def moodle(name: str) -> Parsed | None:
    """Moodle: ``<Full Name>_<participant id>_assignsubmission_<plugin>_`` then the file (or folder)."""
    match = _MOODLE.match(name)
    return Parsed("Moodle", (match["id"],), match["file"], prefix=match["name"]) \
        if match and match["plugin"] == "file" else None


FORMATS = (canvas, blackboard, moodle)


def receipt_username(path: Path) -> str | None:
    """The username in a Blackboard receipt's first line, ``Name: <full name> (<username>)``."""
    try:
        first = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    match = re.match(r"^Name:.*\(([^()\s]+)\)\s*$", first)
    return match[1] if match else None


def assignment_name(parsed: list[Parsed]) -> str | None:
    """The one assignment name that every Blackboard name allows (None if not exactly one)."""
    common: set[str] | None = None
    for item in parsed:
        heads = {item.prefix[: len(item.prefix) - len(candidate) - 1] for candidate in item.ids}
        common = heads if common is None else common & heads
    return next(iter(common)) if common and len(common) == 1 else None


def read_roster(path: str | Path) -> frozenset[str]:
    """The student ids of a roster file.

    A CSV (comma, semicolon or tab separated; UTF-8 or UTF-16) with a header row. The id is taken
    from the first column named (any case) ``id``, ``username``, ``identifier``, ``student id``;
    an LMS's own export works as it is. Moodle's ``Participant 1234`` gives
    ``1234``; empty ids (Canvas's "Points Possible" row) are skipped.

    Raises:
        ValueError: no such file, no id column, an unusable or repeated id, or no ids at all.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"roster {path} does not exist")
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig", "replace")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count)  # the separator the header row uses most (comma if none)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    column = next((header.index(name) for name in ROSTER_COLUMNS if name in header), None)
    if column is None:
        raise ValueError(f"roster {path} needs a header row with a column named one of: {', '.join(ROSTER_COLUMNS)}")
    ids: list[str] = []
    for number, row in enumerate(rows[1:], 2):
        value = row[column].strip() if column < len(row) else ""
        value = re.sub(r"^participant\s+(\d+)$", r"\1", value, flags=re.I)
        if not value or value.lower() == "points possible":
            continue
        if not STUDENT_ID.match(value):
            raise ValueError(f"roster {path}, line {number}: {value!r} is not a usable student id")
        if value in ids:
            raise ValueError(f"roster {path}, line {number}: {value!r} appears twice")
        ids.append(value)
    if not ids:
        raise ValueError(f"roster {path} lists no students")
    return frozenset(ids)


def decide(ids: set[str], roster: frozenset[str] | None) -> tuple[str | None, str]:
    """(student, "") when exactly one candidate remains, else (None, why)."""
    if roster is not None:
        on_roster = ids & roster
        if len(on_roster) == 1:
            return next(iter(on_roster)), ""
        if not on_roster:
            return None, "matches no student on the roster" + (f" (read as {', '.join(sorted(ids))})" if ids else "")
        return None, f"matches several students on the roster ({', '.join(sorted(on_roster))}): not graded"
    usable = {i for i in ids if STUDENT_ID.match(i)}
    if len(usable) == 1:
        return next(iter(usable)), ""
    if not usable:
        return None, "names no usable student id"
    return None, (f"could belong to any of {', '.join(sorted(usable))}: give a roster (--roster) "
                  "so that the name can be matched exactly")
