"""The rows of a roster file: a learning system's own export, read whole (names, sections, columns).

:func:`course_utils.grading.matching.read_roster` reads only the ids, to match files; the
exports and late work need the other columns too: Canvas's ``Student``, ``SIS User ID``,
``SIS Login ID``, ``Section`` and its assignment columns ``<name> (<id>)``; Blackboard's
``Last Name``, ``First Name`` and columns ``<name> |<id>``; Moodle's grading worksheet's
``Full name``, ``Email address`` and ``Last modified (submission)``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from course_utils.grading.matching import ROSTER_COLUMNS

__all__ = ["Roster", "read_rows"]


class Roster:
    """A roster file's ``header`` and ``rows`` ({student id: {column: value}}, in file order)."""

    def __init__(self, header: list[str], rows: dict[str, dict[str, str]], points: dict[str, str] | None = None):
        self.header = header
        self.rows = rows
        self.points = points or {}  # Canvas's "Points Possible" row: {column: value}

    def column(self, name: str) -> str | None:
        """The header cell named ``name`` (any case, spaces trimmed), or None."""
        return next((cell for cell in self.header if cell.strip().lower() == name.lower()), None)

    def value(self, student: str, name: str) -> str:
        column = self.column(name)
        return self.rows.get(student, {}).get(column, "") if column else ""


def _text(raw: bytes) -> str:
    return raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig", "replace")


def read_rows(path: str | Path) -> Roster:
    """Every row of the roster at ``path`` with a usable id (the same file :func:`matching.read_roster` reads).

    Canvas's second header row ("Points Possible") and rows without an id are left out.

    Raises:
        ValueError: no such file or no id column.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"roster {path} does not exist")
    text = _text(path.read_bytes())
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [cell.strip() for cell in rows[0]] if rows else []
    lowered = [cell.lower() for cell in header]
    index = next((lowered.index(name) for name in ROSTER_COLUMNS if name in lowered), None)
    if index is None:
        raise ValueError(f"roster {path} needs a header row with a column named one of: {', '.join(ROSTER_COLUMNS)}")
    found: dict[str, dict[str, str]] = {}
    points: dict[str, str] = {}
    for row in rows[1:]:
        if row and row[0].strip().lower().endswith("points possible"):
            points = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
        value = row[index].strip() if index < len(row) else ""
        value = re.sub(r"^participant\s+(\d+)$", r"\1", value, flags=re.I)
        if value and value.lower() != "points possible" and not row[0].strip().lower().endswith("points possible"):
            found[value] = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
    return Roster(header, found, points)
