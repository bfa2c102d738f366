"""Find the students' notebooks in a folder of submissions.

Two layouts are understood (a ``.zip`` of either is unpacked first):

- one folder per student: ``<submissions>/<student>/<any name>.ipynb``
  (or ``<submissions>/<student>/<lesson>/<any name>.ipynb``, nbgrader's own layout);
- one flat folder of files downloaded from a learning management system, named
  as nbgrader's ``zip_collect`` documentation describes:
  ``<anything>_<student>_attempt_<timestamp>_<file name>.ipynb``,
  for example ``ps1_bitdiddle_attempt_2016-01-30-15-00-00_problem1.ipynb``
  (nbgrader's example pattern allows letters, digits and ``_`` in a student id;
  ``-``, ``.`` and ``@`` are accepted here too).

When a student has several notebooks, the one named ``<lesson>.ipynb`` is graded,
else the newest; in the flat layout, the newest attempt. Every other file is
reported by name, never silently dropped.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

#: nbgrader's documented zip_collect file name pattern (FileNameCollectorPlugin.named_regexp).
LMS_NAME = re.compile(r".*_(?P<student_id>[\w.@-]+?)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)")
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


@dataclass
class Submission:
    student: str
    path: Path
    timestamp: datetime


@dataclass
class Collected:
    """The submissions found, the files passed over (name, why), and where a zip was unpacked."""

    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    folder: Path | None = None
    zip_name: str | None = None
    unpacked: Path | None = None

    def display(self, path: Path) -> str:
        """How to name ``path`` to a person: relative to the folder, or inside the zip file."""
        relative = str(Path(path).relative_to(self.folder)) if self.folder else str(path)
        return f"{self.zip_name}: {relative}" if self.zip_name else relative

    def cleanup(self) -> None:
        """Remove the folder a zip file was unpacked into (a copy of the class's work)."""
        if self.unpacked is not None:
            shutil.rmtree(self.unpacked, ignore_errors=True)


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


def collect(folder: Path, lesson: str = "") -> Collected:
    """Find one submission per student of ``lesson`` in ``folder`` (see the module docstring).

    Raises:
        ValueError: ``folder`` does not exist or is not a folder or zip file.
    """
    given = Path(folder)
    if not given.exists():
        raise ValueError(f"submissions folder {given} does not exist")
    folder = unpack_if_zip(given)
    result = Collected(folder=folder)
    if folder != given:
        result.zip_name, result.unpacked = given.name, folder
    if not folder.is_dir():
        raise ValueError(f"{folder} is neither a folder nor a zip file of submissions")
    found: dict[str, Submission] = {}

    def keep(student: str, path: Path, timestamp: datetime) -> None:
        if not _STUDENT_ID.match(student):
            result.skipped.append((result.display(path), f"{student!r} is not a usable student id"))
        elif student not in found or timestamp > found[student].timestamp:
            if student in found:
                result.skipped.append((result.display(found[student].path), "is an older attempt (the newest was graded)"))
            found[student] = Submission(student, path, timestamp)
        else:
            result.skipped.append((result.display(path), "is an older attempt (the newest was graded)"))

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_dir():
            notebooks = sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not notebooks:
                result.skipped.append((result.display(entry) + "/", "holds no .ipynb file"))
                continue
            named = [p for p in notebooks if p.name == f"{lesson}.ipynb"]
            chosen = max(named or notebooks, key=lambda p: p.stat().st_mtime)
            keep(entry.name, chosen, _timestamp(None, chosen))
            for other in notebooks:
                if other != chosen:
                    result.skipped.append((result.display(other), f"is another notebook of {entry.name} ("
                                           + (f"the one named {lesson}.ipynb" if named else "the newest")
                                           + " was graded)"))
            continue
        match = LMS_NAME.match(entry.name)
        if entry.suffix != ".ipynb":
            result.skipped.append((result.display(entry), "is not a .ipynb notebook"))
        elif not match:
            result.skipped.append((result.display(entry), "does not follow the <anything>_<student>_attempt_"
                                                          "<YYYY-MM-DD-HH-MM-SS>_<file>.ipynb naming"))
        else:
            keep(match["student_id"], entry, _timestamp(match["timestamp"], entry))
    result.submissions = sorted(found.values(), key=lambda s: s.student)
    return result
