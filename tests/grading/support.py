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
    """A temporary course directory: nbgrader_config.py and the given lessons' sources, released."""
    new_course(destination, lesson_names)
    for name in lessons() if lesson_names is None else lesson_names:
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


# ----- submissions of every kind the autograder must survive (lesson 1) --------------------------

ATTACK_LESSON = "01-late-interaction-basics"
#: Seconds a cell may run in the grading tests; the looping submissions cost about three of these.
TIMEOUT = 15


def attack_course(tmp_path: Path, name: str = "course") -> Path:
    """A fresh course directory ``tmp_path / name`` with the attack lesson's sources."""
    return new_course(tmp_path / name, [ATTACK_LESSON])


def feedback_text(course: Path, student: str, lesson: str = ATTACK_LESSON) -> str:
    """The text of ``student``'s feedback page (tags, styles and scripts removed)."""
    page = (course / "feedback" / student / lesson / f"{lesson}.html").read_text()
    page = re.sub(r"<(style|script).*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if nb.nbgrader_info(c).get("grade_id") == grade_id)


def _index(notebook, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if nb.nbgrader_info(c).get("grade_id") == grade_id)


def _code_cell(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source)


def attack_submissions(course: Path) -> dict[str, tuple[object, float, str | None]]:
    """{kind: (notebook, expected score, text the feedback must contain or None)} for lesson 1.

    Lesson 1 has four exercises: ex1 3 points, ex2 2, ex3 3, ex4 2 (10 in all).
    """
    import copy

    lesson = ATTACK_LESSON

    def solved(wrong=frozenset()):
        return solved_notebook(course, lesson, wrong=set(wrong))

    kinds = {}
    kinds["solution"] = (nb.read(course / "solutions" / lesson / f"{lesson}.ipynb"), 10.0, None)
    kinds["blank"] = (student_notebook(course, lesson), 0.0, None)
    # every check of a test cell runs even after one fails, and the feedback reports each
    kinds["one-wrong"] = (solved({"ex3-answer"}), 7.0, "hidden check 2 of 2: returned a wrong answer")

    notebook = solved()
    _cell(notebook, "ex2-answer").source += "\ndef broken(:\n    pass\n"
    kinds["syntax-error"] = (notebook, 8.0, None)

    notebook = solved()
    notebook.cells.insert(1, _code_cell("import a_module_that_does_not_exist"))
    kinds["import-error"] = (notebook, 10.0, None)

    notebook = solved()
    _cell(notebook, "ex2-answer").source = (
        "def colbert_labels(tokens, kind):\n    while True:\n        pass\n")
    kinds["infinite-loop"] = (notebook, 8.0, "ran longer than")

    notebook = solved()
    _cell(notebook, "ex1-answer").source += "\nprint('x' * 50_000_000)\n"
    kinds["50MB-output"] = (notebook, 10.0, "output cut by the grader")

    notebook = solved({"ex1-answer"})
    _cell(notebook, "ex1-test").source = "pass  # I made the test pass"
    kinds["edited-locked-test"] = (notebook, 7.0, "was edited: the original was used")

    notebook = solved()
    notebook.cells.pop(_index(notebook, "ex2-answer"))
    kinds["deleted-answer-cell"] = (notebook, 8.0, "was deleted")

    notebook = solved({"ex1-answer"})
    _cell(notebook, "ex1-answer").source += (
        "\nimport numpy, course_utils.checks as checks\n"
        "checks.check = lambda *args, **kwargs: None\n"
        "checks.compare = lambda *args, **kwargs: None\n"
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n")
    kinds["patched-helpers"] = (notebook, 7.0, "touches the course's checking code")

    notebook = solved()
    _cell(notebook, "ex3-answer").source = (
        "def storage_bytes(token_counts, dense_dim=384, token_dim=128, bytes_per_value=4):\n"
        "    return (len(token_counts) * dense_dim * bytes_per_value,\n"
        "            sum(token_counts) * token_dim * bytes_per_value)\n")
    kinds["wrong-type"] = (notebook, 7.0, None)

    notebook = solved()
    _cell(notebook, "ex3-answer").source += "\nimport os\nos._exit(1)\n"
    kinds["kills-kernel"] = (notebook, 7.0, "stopped the Python kernel")

    notebook = solved()
    _cell(notebook, "ex4-answer").source += (
        "\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n")
    kinds["ignores-interrupts"] = (notebook, 8.0, "ran longer than")

    notebook = solved()
    position = _index(notebook, "ex1-answer")
    duplicate = copy.deepcopy(notebook.cells[position])
    duplicate.id = "copied-cell"
    notebook.cells.insert(position + 1, duplicate)
    kinds["copied-graded-cell"] = (notebook, 10.0, "a copy of")

    notebook = solved()
    test = _cell(notebook, "ex2-test")
    test.cell_type = "markdown"
    test.pop("outputs", None)
    test.pop("execution_count", None)
    kinds["test-cell-to-markdown"] = (notebook, 10.0, "was changed from code to markdown")

    notebook = solved()
    _cell(notebook, "ex1-answer").source = _cell(notebook, "ex1-answer").source.replace(
        '"""\n', '"""\n    import sys\n    print("debugging...", file=sys.stderr)\n', 1)
    kinds["writes-stderr"] = (notebook, 10.0, None)

    notebook = solved({"ex1-answer", "ex2-answer", "ex3-answer", "ex4-answer"})
    _cell(notebook, "ex1-answer").source += (
        "\ndef _pass_everything(lines):\n"
        "    return ['pass\\n'] if any('check(' in line for line in lines) else lines\n"
        "get_ipython().input_transformers_cleanup.append(_pass_everything)\n")
    kinds["input-transformer"] = (notebook, 0.0, "rewrites cells before they run")

    notebook = solved({"ex1-answer", "ex2-answer", "ex3-answer", "ex4-answer"})
    _cell(notebook, "ex1-answer").source += (
        "\nget_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)\n")
    kinds["hides-errors"] = (notebook, 0.0, "replaces how errors are reported")

    notebook = solved()
    notebook.cells.pop(_index(notebook, "ex2-test"))
    kinds["deleted-solved-test"] = (notebook, 10.0, "was deleted: it was put back")
    return kinds


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
                for row in csv.DictReader(table) if row["status"] == "graded"}


def gradebook_table(course: Path) -> dict:
    """The same table read from the gradebook: score, max score and each test cell's points."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {(s.student.id, a.name): {"score": s.score, "max_score": s.max_score,
                                         **{f"{a.name}/{g.name}": g.score for n in s.notebooks for g in n.grades}}
                for a in gradebook.assignments for s in gradebook.assignment_submissions(a.name)}
