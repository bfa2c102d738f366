"""The students' feedback pages, bundled the way each learning system takes feedback files in bulk.

- Canvas takes a zip of files named as its download named them (``<name>_[late_]<user id>_<attachment
  id>_<file>``) through the assignment's "Upload Submissions" (re-upload) link and attaches each file
  as a comment on that student's submission (canvas-lms ``app/models/assignment.rb``,
  ``generate_comments_from_files``: "The convention for file naming ... is
  last_name_first_name_user_id_attachment_id"): ``canvas-feedback.zip``.
- Moodle takes a zip of feedback files whose folders are named as its download names them
  (``<Full Name>_<participant id>_assignsubmission_file_/``), through "Upload multiple feedback files
  in a zip" (Assignment > View all submissions > Grading action, with "Feedback files" enabled;
  https://docs.moodle.org/en/Assignment_settings#Feedback_types): ``moodle-feedback.zip``.
- Blackboard Learn has no bulk upload of feedback files: ``blackboard-feedback/<username>/``, one folder
  per student to attach by hand (or by a script of the institution's).

Only graded students' pages are bundled; a student graded from a plain folder (no name the system
wrote) gets a folder of their own in every case: ``<system>-feedback/<student>/``.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

__all__ = ["write"]


def _page(course: Path, lesson: str, student: str) -> Path:
    return Path(course) / "feedback" / student / lesson / f"{lesson}.html"


def write(course: Path, lesson: str, system: str, results, record, folder: Path) -> Path:
    """Bundle the feedback pages of ``results`` (:class:`course_utils.grading.class_results.LessonResults`) for
    ``system`` into ``folder``; ``record`` (:class:`course_utils.grading.download_record.DownloadRecord`) gives
    the names the download used. Returns the zip file or folder written."""
    name = f"{lesson}-feedback.html"
    loose = Path(folder) / f"{system}-feedback"
    shutil.rmtree(loose, ignore_errors=True)
    entries: dict[str, Path] = {}
    for student in results.students:
        page = _page(course, lesson, student)
        if not page.is_file():
            continue
        prefix = record.students.get(student, {}).get("prefix", "") if record.system.lower() == system else ""
        if system == "blackboard" or not prefix:
            (loose / student).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, loose / student / name)
        elif system == "canvas":
            entries[f"{prefix}{name}"] = page
        else:  # moodle: a folder per student, named as the download's
            entries[f"{prefix.rstrip('/')}/{name}"] = page
    if system == "blackboard":
        return loose
    archive = Path(folder) / f"{system}-feedback.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for entry, page in sorted(entries.items()):
            bundle.write(page, entry)
    return archive
