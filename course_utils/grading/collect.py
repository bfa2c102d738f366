"""Find the students' notebooks in a folder of submissions, each matched to exactly one student.

Layouts understood (a ``.zip`` of any of them, or a folder holding only such zips, as in
nbgrader's ``zip_collect`` default ``downloaded/<lesson>/archive/``, is unpacked first):

- one folder per student: ``<submissions>/<student>/<any name>.ipynb``, or nbgrader's own
  ``submitted/<student>/<lesson>/<any name>.ipynb``;
- a download from Canvas, Blackboard or Moodle, as those systems name the files
  (see :mod:`course_utils.grading.matching`), including Moodle's per-student folders.

The student is read only from what the learning system wrote, never from the part of a
name the student chose; with a roster (``--roster``) an id counts only if it is on it.
A file that matches no student, or could be more than one, is reported and not graded.
When a student has several notebooks: the newest attempt, then the one named
``<lesson>.ipynb``, then the newest file. Every other file is reported by name.

Symbolic links and anything that is not a regular file (a FIFO, a device) are reported and
never followed or read: a link in a submissions folder could point at the instructor's
solution or gradebook. The chosen notebooks are read once, here (:func:`read_regular_file`),
and graded, hashed and stored from those bytes.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from course_utils.grading import matching


#: The largest notebook file graded (a lesson's notebook with its outputs is under 5 MB).
MAX_NOTEBOOK_BYTES = 100 * 2**20
_NOT_REGULAR = "is not a regular file (a device, a pipe or a socket): only notebook files are graded"
_LINK = "is a symbolic link: links are never followed, submit the notebook file itself"


@dataclass
class Submission:
    """One student's chosen notebook: ``content`` is its file's bytes, read once when it was collected.

    What the learning system wrote about it (empty for a folder per student): ``system`` (Canvas,
    Blackboard or Moodle), ``recorded`` the submission time the system wrote into the download
    (Blackboard's attempt time), ``late_mark`` Canvas's ``late_``, ``lms_prefix`` the part of the
    download's name the system wrote (feedback files sent back in bulk are named with it)."""

    student: str
    path: Path
    timestamp: datetime
    content: bytes = b""
    system: str = ""
    recorded: datetime | None = None
    late_mark: bool = False
    lms_prefix: str = ""


class NotARegularFile(ValueError):
    """A submission that is a link, not a regular file, too large or unreadable (the message says which)."""


def read_regular_file(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, opened without following a link.

    Raises:
        NotARegularFile: ``path`` is a symbolic link, not a regular file, larger than ``limit`` or unreadable.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFile(_LINK) from None
        raise NotARegularFile(f"cannot be read: {error.strerror}") from None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(_NOT_REGULAR)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise NotARegularFile(f"is larger than {limit // 2**20} MB: not a lesson notebook")
    return data


@dataclass
class Collected:
    """The submissions found, the files passed over (name, why), the students whose chosen file could
    not be read (student, why), and where a zip was unpacked."""

    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
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


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def _extract(archive_path: Path, target: Path) -> list[tuple[str, str]]:
    """Unpack ``archive_path`` into ``target``; the entries left out: [(name, why)]."""
    left_out = []
    with zipfile.ZipFile(archive_path) as archive:
        for member in archive.infolist():
            name = Path(member.filename)
            if name.is_absolute() or ".." in name.parts:
                left_out.append((f"{archive_path.name}: {member.filename}", "points outside the zip file's "
                                 "folder (an absolute path or ..); it was not unpacked"))
                continue  # never write outside the folder
            archive.extract(member, target)
    return left_out


def unpack_if_zip(path: Path, left_out: list | None = None) -> Path:
    """``path`` itself, or a temporary folder holding the contents of the zip file at ``path`` (or of
    every zip file in the folder ``path``, when it holds nothing else). Entries not unpacked are
    appended to ``left_out`` as (name, why)."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        archives = [path]
    elif path.is_dir():
        entries = [e for e in path.iterdir() if not e.name.startswith(".")]
        archives = entries if entries and all(e.is_file() and zipfile.is_zipfile(e) for e in entries) else []
    else:
        archives = []
    if not archives:
        return path
    target = Path(tempfile.mkdtemp(prefix="course-submissions-"))
    for archive in sorted(archives):
        skipped = _extract(archive, target)
        if left_out is not None:
            left_out += skipped
    return target


@dataclass
class _Candidate:
    student: str
    path: Path
    attempt: datetime | None
    order: int = 0
    system: str = ""
    late: bool = False
    prefix: str = ""


def collect(folder: Path, lesson: str = "", roster: frozenset[str] | None = None) -> Collected:
    """Find one submission per student of ``lesson`` in ``folder`` (see the module docstring).

    ``roster``: the class's student ids (:func:`matching.read_roster`); None matches without one.

    Raises:
        ValueError: ``folder`` does not exist or is not a folder or zip file.
    """
    given = Path(folder)
    if not given.exists():
        raise ValueError(f"submissions folder {given} does not exist")
    left_out: list[tuple[str, str]] = []
    folder = unpack_if_zip(given, left_out)
    result = Collected(folder=folder, skipped=left_out)
    if folder != given:
        result.zip_name = given.name if given.is_file() else f"{given.name} (zip files)"
        result.unpacked = folder
    if not folder.is_dir():
        raise ValueError(f"{folder} is neither a folder nor a zip file of submissions")
    entries = _regular([e for e in sorted(folder.iterdir()) if not e.name.startswith(".") and e.name != "__MACOSX"],
                       result)
    candidates = _from_folders(result, [e for e in entries if e.is_dir()], roster)
    candidates += _from_files(result, [e for e in entries if not e.is_dir()], roster)
    _choose(result, candidates, lesson)
    return result


def _regular(entries: list[Path], result: Collected) -> list[Path]:
    """The folders and regular files of ``entries``; links and other kinds of file are reported."""
    kept = []
    for entry in entries:
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            result.skipped.append((result.display(entry), _LINK))
        elif stat.S_ISDIR(mode) or stat.S_ISREG(mode):
            kept.append(entry)
        else:
            result.skipped.append((result.display(entry), _NOT_REGULAR))
    return kept


def _notebooks_in(result: Collected, folder: Path) -> list[Path]:
    """The regular ``.ipynb`` files under ``folder`` (links reported, never followed; checkpoints left out)."""
    found = []
    for parent, folders, files in os.walk(folder):  # does not enter linked folders
        here = Path(parent)
        folders[:] = sorted(name for name in folders if name != ".ipynb_checkpoints" and
                            (here / name) in _regular([here / name], result))
        found += [path for path in _regular([here / name for name in sorted(files) if name.endswith(".ipynb")],
                                            result)]
    return sorted(found)


def _from_folders(result: Collected, folders: list[Path], roster) -> list[_Candidate]:
    """One folder per student: the folder's name is the id (Moodle's folders: the participant id)."""
    candidates = []
    for entry in folders:
        parsed = matching.moodle(entry.name)
        if parsed is None and "_assignsubmission_" in entry.name:
            result.skipped.append((result.display(entry) + "/", "is not a file submission (only notebooks are graded)"))
            continue
        student, why = matching.decide(set(parsed.ids) if parsed else {entry.name}, roster)
        if student is None:
            result.skipped.append((result.display(entry) + "/", f"{why}" if parsed or roster is not None
                                   else f"{entry.name!r} is not a usable student id"))
            continue
        notebooks = _notebooks_in(result, entry)
        if not notebooks:
            result.skipped.append((result.display(entry) + "/", "holds no .ipynb file"))
        candidates += [_Candidate(student, path, None, system="Moodle" if parsed else "",
                                  prefix=entry.name if parsed else "") for path in notebooks]
    return candidates


def _flat_formats(notebooks: list[Path]) -> list:
    """The naming formats that read every notebook of a flat download (a download comes from one system)."""
    return [parse for parse in matching.FORMATS if notebooks and all(parse(p.name) for p in notebooks)]


def _from_files(result: Collected, files: list[Path], roster) -> list[_Candidate]:
    """A flat download: each notebook's student from the naming of the system it came from."""
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    receipts = {}
    for path in files:
        parsed = matching.blackboard(path.name)
        if parsed and parsed.receipt:
            receipts[path.name[: -len(".txt")]] = matching.receipt_username(path)
        elif path.suffix != ".ipynb":
            result.skipped.append((result.display(path), "is not a .ipynb notebook"))
    formats = _flat_formats(notebooks) or list(matching.FORMATS)
    blackboard_names = [matching.blackboard(p.name) for p in notebooks] if matching.blackboard in formats else []
    assignment = matching.assignment_name([b for b in blackboard_names if b])
    candidates = []
    for path in notebooks:
        ids: set[str] = set()
        attempt, order, systems, late, prefix = None, 0, set(), False, ""
        for parse in formats:
            parsed = parse(path.name)
            if parsed is None:
                continue
            found = set(parsed.ids)
            if parsed.system == "Blackboard":
                found = _blackboard_ids(parsed, path.name, assignment, receipts)
                attempt = parsed.attempt
            order, late = parsed.order, late or parsed.late
            prefix = path.name[: len(path.name) - len(parsed.file)] if parsed.file else path.name
            systems.add(parsed.system)
            ids |= found
        if not ids:
            result.skipped.append((result.display(path), "does not follow the naming of a Canvas, Blackboard or "
                                   "Moodle download (nor is it in a student's folder)"))
            continue
        student, why = matching.decide(ids, roster)
        if student is None:
            result.skipped.append((result.display(path), why))
        else:
            system = next(iter(systems)) if len(systems) == 1 else ""
            candidates.append(_Candidate(student, path, attempt, order, system, late, prefix if system else ""))
    return candidates


def _blackboard_ids(parsed, name: str, assignment: str | None, receipts: dict) -> set[str]:
    """The usernames a Blackboard name allows, narrowed by the download's assignment name and receipt."""
    ids = set(parsed.ids)
    receipt = receipts.get(name[: name.index("_attempt_") + len("_attempt_") + 19])
    if receipt in ids:
        return {receipt}
    if assignment is not None:
        ids = {i for i in ids if parsed.prefix == f"{assignment}_{i}"}
    return ids


def _choose(result: Collected, candidates: list[_Candidate], lesson: str) -> None:
    """One notebook per student: newest attempt, then named ``<lesson>.ipynb``, then newest; report the rest."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    by_student: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_student.setdefault(candidate.student, []).append(candidate)

    def key(c: _Candidate):
        named = c.path.name == f"{lesson}.ipynb" or c.path.name.endswith(f"_{lesson}.ipynb")
        in_lesson_folder = c.path.parent.name == lesson  # nbgrader's <student>/<lesson>/
        return (c.attempt or oldest, in_lesson_folder, named, c.order, c.path.stat().st_mtime)

    for student, options in sorted(by_student.items()):
        chosen = max(options, key=key)
        try:
            content = read_regular_file(chosen.path)
        except NotARegularFile as problem:
            result.skipped.append((result.display(chosen.path), str(problem)))
            result.unreadable.append((student, f"{result.display(chosen.path)} {problem}"))
            continue
        result.submissions.append(Submission(student, chosen.path, chosen.attempt or _mtime(chosen.path), content,
                                             system=chosen.system, recorded=chosen.attempt,
                                             late_mark=chosen.late, lms_prefix=chosen.prefix))
        named = key(chosen)[2]
        for other in options:
            if other is chosen:
                continue
            older = (other.attempt or oldest) < (chosen.attempt or oldest)
            graded = f"the one named {lesson}.ipynb" if named else "the newest"
            why = ("is an older attempt (the newest was graded)" if older
                   else f"is another notebook of {student} ({graded} was graded)")
            result.skipped.append((result.display(other.path), why))
