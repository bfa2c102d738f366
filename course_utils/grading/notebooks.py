"""Reading and writing the graded cells of lesson notebooks (nbgrader metadata)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

_SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.M | re.S)
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)


def read(path: str | Path):
    """The notebook at ``path`` (nbformat v4 node)."""
    return nbformat.read(str(path), as_version=4)


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader never sees half a file (folders made as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.writing")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def write(notebook, path: str | Path) -> None:
    """Write ``notebook`` to ``path`` atomically."""
    text = nbformat.writes(notebook)
    write_text_atomically(path, text if text.endswith("\n") else text + "\n")


def write_string(notebook) -> str:
    """``notebook`` as JSON text."""
    return nbformat.writes(notebook)


def nbgrader_info(cell) -> dict:
    """The cell's nbgrader metadata ({} for an ordinary cell)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(notebook) -> dict[str, object]:
    """{grade_id: cell} of the cells a student writes code in (nbgrader "solution" code cells)."""
    return {nbgrader_info(c)["grade_id"]: c for c in notebook.cells
            if c.cell_type == "code" and nbgrader_info(c).get("solution")}


def test_cells(notebook) -> dict[str, object]:
    """{grade_id: cell} of the autograder test cells, in notebook order."""
    return {nbgrader_info(c)["grade_id"]: c for c in notebook.cells
            if c.cell_type == "code" and nbgrader_info(c).get("grade") and not nbgrader_info(c).get("solution")}


def points(notebook) -> dict[str, float]:
    """{test grade_id: points} of a notebook."""
    return {grade_id: float(nbgrader_info(c).get("points", 0)) for grade_id, c in test_cells(notebook).items()}


def solution_code(source: str) -> str:
    """An instructor's answer cell as a student would write it: solution markers removed, code kept."""
    return _SOLUTION.sub(lambda m: m.group(1), source)


def without_hidden_tests(source: str) -> str:
    """A test cell as students see it: the hidden block removed."""
    return _HIDDEN.sub("", source)
