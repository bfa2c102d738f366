"""Building a temporary nbgrader course and submissions of known scores, for the grading tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from course_utils.grading import notebooks as nb

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def lessons() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def nbgrader(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the nbgrader command line in ``course``, with this environment's bin first on PATH (alembic)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def make_course(destination: Path, lesson_names: list[str] | None = None) -> Path:
    """A temporary course directory: nbgrader_config.py and the given lessons' sources, released."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", destination)
    for name in lesson_names or lessons():
        shutil.copytree(ROOT / "solutions" / name, destination / "solutions" / name)
        nbgrader(destination, "generate_assignment", name, "--force", "--log-level=WARN")
    return destination


def student_notebook(course: Path, lesson: str):
    return nb.read(course / "notebooks" / lesson / f"{lesson}.ipynb")


def solved_notebook(course: Path, lesson: str, wrong: set[str] = frozenset()):
    """The student notebook with every answer cell filled in from the solution, except those in ``wrong``.

    An answer in ``wrong`` keeps the student's definitions but returns None from its function,
    a plausible mistake that no check accepts.
    """
    notebook = student_notebook(course, lesson)
    solutions = nb.answer_cells(nb.read(course / "solutions" / lesson / f"{lesson}.ipynb"))
    for grade_id, cell in nb.answer_cells(notebook).items():
        code = nb.solution_code(solutions[grade_id].source)
        if grade_id in wrong:
            code = re.sub(r"(\n    \"\"\".*?\"\"\"\n).*", r"\1    return None\n", code, count=1, flags=re.S)
        cell.source = code
    return notebook


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
