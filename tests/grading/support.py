"""Building a temporary nbgrader course and submissions of known scores: for the grading tests and the
grading benchmark (``benchmarks/grading_throughput.py``)."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from course import lessons  # the launcher's list of lessons: one definition for both
from course_utils.grading import notebooks as nb

ROOT = Path(__file__).resolve().parents[2]
#: The capstone lesson (graded on held-out queries: tests/grading/test_capstone_grading.py).
CAPSTONE = "09-capstone"
BIN = Path(sys.executable).parent


def nbgrader(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the nbgrader command line in ``course``, with this environment's bin first on PATH (alembic)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def new_course(destination: Path, lesson_names: list[str] | None = None) -> Path:
    """A fresh course directory (as an instructor has it): nbgrader_config.py and the lessons' sources.

    ``lesson_names`` None: every lesson; ``[]``: none (add them to ``solutions/`` later).
    """
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", destination)
    for name in lessons() if lesson_names is None else lesson_names:
        shutil.copytree(ROOT / "solutions" / name, destination / "solutions" / name)
    return destination


def make_course(destination: Path, lesson_names: list[str] | None = None) -> Path:
    """A temporary course directory: nbgrader_config.py and the given lessons' sources, released by
    ``nbgrader generate_assignment`` (its API, in this process: one start-up for every lesson).

    Tests that only need the student versions read the committed ones from :data:`ROOT` instead:
    ``test_grading_pipeline`` proves they are what nbgrader generates.
    """
    from course_utils.grading.nbgrader_course import nbgrader_api, run_quietly

    new_course(destination, lesson_names)
    for name in lessons() if lesson_names is None else lesson_names:
        result = run_quietly(nbgrader_api(destination).generate_assignment, name, force=True, create=True)
        assert result["success"], f"nbgrader generate_assignment {name} failed:\n{result.get('error')}"
    return destination


def student_notebook(course: Path, lesson: str):
    return nb.read(course / "notebooks" / lesson / f"{lesson}.ipynb")


def solved_notebook(course: Path, lesson: str, wrong: set[str] = frozenset(), returning: str = "None"):
    """The student notebook with every answer cell filled in from the solution, except those in ``wrong``.

    An answer in ``wrong`` keeps the student's definitions but its function returns ``returning``
    (Python source; None by default), a plausible mistake that no check accepts.
    """
    notebook = student_notebook(course, lesson)
    solutions = nb.answer_cells(nb.read(course / "solutions" / lesson / f"{lesson}.ipynb"))
    for grade_id, cell in nb.answer_cells(notebook).items():
        code = nb.solution_code(solutions[grade_id].source)
        if grade_id in wrong:
            code = re.sub(r"(\n    \"\"\".*?\"\"\"\n).*", rf"\1    return {returning}\n", code, count=1, flags=re.S)
        cell.source = code
    return notebook


def hidden_check_lines(lesson: str) -> list[str]:
    """The lines of ``lesson``'s hidden checks that no visible check shows too (stripped)."""
    source = nb.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    cells = nb.test_cells(source).values()
    visible = "".join(nb.without_hidden_tests(cell.source) for cell in cells)
    lines = []
    for cell in cells:
        text = cell.source.splitlines()
        lines += [text[number - 1].strip() for number, marker in nb.hidden_test_lines(cell.source).items()
                  if not marker]
    return [line for line in lines if line and line not in visible]


def submit(course: Path, lesson: str, student: str, notebook) -> None:
    nb.write(notebook, course / "submitted" / student / lesson / f"{lesson}.ipynb")


def gradebook_scores(course: Path, lesson: str) -> dict[str, float]:
    """{student: score} of ``lesson`` as stored in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(lesson)}


def exercise_points(course: Path, lesson: str) -> dict[str, float]:
    """{answer grade_id: points of the test cell that follows it} (exercise -> points)."""
    notebook = nb.read(course / "solutions" / lesson / f"{lesson}.ipynb")
    result, current = {}, None
    for cell in notebook.cells:
        info = nb.nbgrader_info(cell)
        if info.get("solution"):
            current = info["grade_id"]
        elif info.get("grade") and current:
            result[current] = result.get(current, 0.0) + float(info.get("points", 0))
    return result


# ----- the course the attack and grade-command tests grade (lesson 1: the quickest to run) ----------

ATTACK_LESSON = "01-late-interaction-basics"
#: Seconds a cell may run in the grading tests; the looping submissions cost about three of these.
TIMEOUT = 10


def attack_course(tmp_path: Path, name: str = "course") -> Path:
    """A fresh course directory ``tmp_path / name`` with the attack lesson's sources."""
    return new_course(tmp_path / name, [ATTACK_LESSON])


def feedback_text(course: Path, student: str, lesson: str = ATTACK_LESSON) -> str:
    """The text of ``student``'s feedback page (tags, styles and scripts removed)."""
    page = (course / "feedback" / student / lesson / f"{lesson}.html").read_text()
    page = re.sub(r"<(style|script).*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def submissions_folder(folder: Path, notebooks: dict[str, object], lesson: str) -> Path:
    """A folder with one sub-folder per student holding their notebook."""
    for student, notebook in notebooks.items():
        nb.write(notebook, folder / student / f"{lesson}.ipynb")
    return folder


# ----- grades.csv against the gradebook -----------------------------------------------------------

def csv_table(course: Path) -> dict:
    """{(student, lesson): {column: number}} of the graded rows of ``grades.csv``."""
    import csv

    with open(course / "grades.csv", newline="") as table:
        return {(row["student"], row["lesson"]): {k: float(v) for k, v in row.items()
                                                  if k not in ("student", "lesson", "status") and v}
                for row in csv.DictReader(table) if row["status"].startswith("graded")}


def gradebook_table(course: Path) -> dict:
    """The same table read from the gradebook: score, max score and each test cell's points."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {(s.student.id, a.name): {"score": s.score, "max_score": s.max_score,
                                         **{f"{a.name}/{g.name}": g.score for n in s.notebooks for g in n.grades}}
                for a in gradebook.assignments for s in gradebook.assignment_submissions(a.name)}
