"""Find the students' notebooks in a folder of submissions.

Two layouts are understood (a ``.zip`` of either is unpacked first):

- one folder per student: ``<submissions>/<student>/<any name>.ipynb``
  (or ``<submissions>/<student>/<lesson>/<any name>.ipynb``, nbgrader's own layout);
- one flat folder of files downloaded from a learning management system, named
  as nbgrader's ``zip_collect`` documentation describes:
  ``<anything>_<student>_attempt_<timestamp>_<file name>.ipynb``,
  for example ``ps1_bitdiddle_attempt_2016-01-30-15-00-00_problem1.ipynb``.

Every other file is reported by name, never silently dropped.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

#: nbgrader's documented zip_collect file name pattern (FileNameCollectorPlugin.named_regexp).
LMS_NAME = re.compile(r".*_(?P<student_id>\w+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)")
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


@dataclass
class Submission:
    student: str
    path: Path
    timestamp: datetime


@dataclass
class Collected:
    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)


def _timestamp(text: str | None, path: Path) -> datetime:
    if text:
        try:
            return datetime.strptime(text, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def unpack_if_zip(path: Path) -> Path:
    """``path`` itself, or a temporary folder holding the contents of the zip file at ``path``."""
    if path.is_file() and zipfile.is_zipfile(path):
        target = Path(tempfile.mkdtemp(prefix="course-submissions-"))
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                name = Path(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    continue  # never write outside the folder
                archive.extract(member, target)
        return target
    return path


def collect(folder: Path) -> Collected:
    """Find one submission per student in ``folder`` (the newest if a student has several).

    Raises:
        ValueError: ``folder`` does not exist or is not a folder or zip file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ValueError(f"submissions folder {folder} does not exist")
    folder = unpack_if_zip(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is neither a folder nor a zip file of submissions")
    result = Collected()
    found: dict[str, Submission] = {}

    def keep(student: str, path: Path, timestamp: datetime) -> None:
        if not _STUDENT_ID.match(student):
            result.skipped.append((str(path.relative_to(folder)), f"{student!r} is not a usable student id"))
        elif student not in found or timestamp > found[student].timestamp:
            found[student] = Submission(student, path, timestamp)

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_dir():
            notebooks = sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not notebooks:
                result.skipped.append((entry.name + "/", "holds no .ipynb file"))
                continue
            newest = max(notebooks, key=lambda p: p.stat().st_mtime)
            keep(entry.name, newest, _timestamp(None, newest))
            for other in notebooks:
                if other != newest:
                    result.skipped.append((str(other.relative_to(folder)), "another notebook of the same student "
                                                                            "(the newest one was graded)"))
            continue
        match = LMS_NAME.match(entry.name)
        if entry.suffix != ".ipynb":
            result.skipped.append((entry.name, "is not a .ipynb notebook"))
        elif not match:
            result.skipped.append((entry.name, "does not follow the <anything>_<student>_attempt_<timestamp>_"
                                               "<file>.ipynb naming"))
        else:
            keep(match["student_id"], entry, _timestamp(match["timestamp"], entry))
    result.submissions = sorted(found.values(), key=lambda s: s.student)
    return result
