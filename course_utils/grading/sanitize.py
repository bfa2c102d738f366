"""Read a submitted notebook, repair its structure, and say what the student changed.

nbgrader already restores edited read-only cells and changed cell types, and puts
back deleted graded cells (``OverwriteCells.add_missing_cells``). What it cannot
survive, a graded cell that appears twice, is repaired here; everything the student
changed is listed so that the feedback can say it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import nbformat

from course_utils.grading import notebooks as nb

#: Code that changes how the kernel runs or reports cells: reported, never trusted.
TAMPERING = {
    r"input_transformers": "rewrites cells before they run (IPython input transformers)",
    r"set_custom_exc": "replaces how errors are reported (set_custom_exc)",
    r"\bos\._exit\b": "can stop the kernel (os._exit)",
    r"signal\.signal": "changes how the kernel reacts to interrupts (signal.signal)",
    r"sys\.settrace|sys\.setprofile": "traces the code that runs (sys.settrace)",
    r"course_utils\.lesson\.checks|_course_checks|publish_record|vnd\.course-check":
        "touches the course's checking code",
    r"\bbuiltins\b": "changes Python's built-in functions",
    r"course_utils(?:\.\w+){2,}\s*=(?!=)|setattr\(\s*course_utils": "replaces the course's helper code",
    r"register_magic_function|events\.register": "hooks into IPython's events",
}


class UnreadableSubmission(ValueError):
    """The file is not a notebook of this lesson; the message says why."""


@dataclass
class Sanitized:
    """A submission ready for nbgrader, and what was found in it."""

    notebook: object
    findings: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)


def read_submission(raw: bytes):
    """Parse ``raw`` (a submitted file's bytes) as a notebook, or raise UnreadableSubmission saying why."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UnreadableSubmission("is not a notebook (not valid JSON text)") from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise UnreadableSubmission("is JSON but not a Jupyter notebook (no cells)")
    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        raise UnreadableSubmission(f"is not a valid Jupyter notebook ({type(error).__name__})") from None
    return notebook


def _graded_ids(notebook) -> list[str]:
    return [nb.nbgrader_info(c)["grade_id"] for c in notebook.cells if nb.nbgrader_info(c).get("grade_id")]


def _kind(info: dict) -> str:
    if info.get("solution"):
        return "answer cell"
    if info.get("grade"):
        return "test cell"
    return "read-only cell"


def sanitize(notebook, release, lesson: str) -> Sanitized:
    """Compare a submission with the lesson's student version and repair what nbgrader cannot.

    Args:
        notebook: the submitted notebook (read with :func:`read_submission`).
        release: the lesson's student version (what students were given).
        lesson: the lesson's name, for messages.

    Raises:
        UnreadableSubmission: none of the lesson's graded cells is in the notebook.
    """
    expected = {nb.nbgrader_info(c)["grade_id"]: c for c in release.cells if nb.nbgrader_info(c).get("grade_id")}
    read_only = {c.source for c in release.cells if nb.is_locked(c)}
    if not set(_graded_ids(notebook)) & set(expected) or not any(c.source in read_only for c in notebook.cells):
        raise UnreadableSubmission(f"has none of the exercises of {lesson} (is it another lesson's notebook?)")
    result = Sanitized(notebook)
    seen = set()
    for cell in notebook.cells:
        info = nb.nbgrader_info(cell)
        grade_id = info.get("grade_id")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if not grade_id:
            continue
        if grade_id not in expected or grade_id in seen:
            why = "a copy of" if grade_id in seen else "an unknown graded cell"
            result.findings.append(f"The notebook had {why} {grade_id!r}: it was graded as an ordinary cell.")
            cell.metadata.pop("nbgrader")
            continue
        seen.add(grade_id)
        original = expected[grade_id]
        kind = _kind(nb.nbgrader_info(original))
        if cell.cell_type != original.cell_type:
            result.findings.append(f"The {kind} {grade_id!r} was changed from {original.cell_type} to "
                                   f"{cell.cell_type}: it was changed back.")
            cell.cell_type = original.cell_type
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            else:
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        if nb.is_locked(original) and cell.source != original.source:
            result.findings.append(f"The read-only {kind} {grade_id!r} was edited: the original was used.")
    for grade_id, original in expected.items():
        if grade_id not in seen:
            result.findings.append(f"The {_kind(nb.nbgrader_info(original))} {grade_id!r} was deleted: "
                                   "it was put back" + (" (empty, so its exercise scores 0)."
                                                        if nb.is_solution(original) else "."))
    student_code = "\n".join(c.source for c in notebook.cells
                             if c.cell_type == "code" and not nb.nbgrader_info(c).get("locked"))
    result.tampering = [why for pattern, why in TAMPERING.items() if re.search(pattern, student_code)]
    return result
