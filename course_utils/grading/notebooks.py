"""Reading and writing the graded cells of lesson notebooks (nbgrader metadata)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution

__all__ = ["HIDDEN_BEGIN", "HIDDEN_END", "answer_cells", "hidden_test_lines", "is_grade", "is_locked",
           "is_solution", "nbgrader_info", "points", "read", "solution_code", "test_cells", "without_hidden_tests",
           "write", "write_bytes_atomically", "write_string", "write_text_atomically"]

_SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.M | re.S)
#: The lines around the hidden checks of a test cell (nbgrader's markers).
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def read(path: str | Path):
    """The notebook at ``path`` (nbformat v4 node)."""
    return nbformat.read(str(path), as_version=4)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomically(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader never sees half a file (folders made as needed).

    The temporary file is new (``mkstemp``: a random name, created exclusively, never through a
    link) and then renamed over ``path``, which replaces a link there instead of following it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".writing", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file would be
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as :func:`write_bytes_atomically` does."""
    write_bytes_atomically(path, text.encode("utf-8"))


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


def manual_cells(notebook) -> dict[str, tuple[str, float]]:
    """{grade_id: (its exercise's heading, points)} of the manually graded answer cells (nbgrader ``grade``
    and ``solution`` both set: a written answer the instructor scores in formgrader). The heading is the
    last markdown heading above the cell (``"Written answer"`` when there is none)."""
    found, heading = {}, "Written answer"
    for cell in notebook.cells:
        info = nbgrader_info(cell)
        if info.get("grade") and info.get("solution") and info.get("grade_id"):
            found[info["grade_id"]] = (heading, float(info.get("points") or 0))
        elif cell.cell_type == "markdown":
            titles = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("#")]
            if titles:  # "✏️ Exercise 2 (3 points, graded by ...): explain" -> "Exercise 2: explain"
                heading = re.sub(r"\s*\([^)]*\)", "", titles[-1].replace("\u270f\ufe0f", ""), count=1).strip()
    return found


def answer_cells(notebook) -> dict[str, object]:
    """{grade_id: cell} of the cells a student writes code in (nbgrader "solution" code cells)."""
    return {nbgrader_info(c)["grade_id"]: c for c in notebook.cells if c.cell_type == "code" and is_solution(c)}


def test_cells(notebook) -> dict[str, object]:
    """{grade_id: cell} of the autograder test cells (notebook cells), in notebook order."""
    return {nbgrader_info(c)["grade_id"]: c for c in notebook.cells
            if c.cell_type == "code" and is_grade(c) and not is_solution(c)}


def points(notebook) -> dict[str, float]:
    """{test grade_id: points} of a notebook."""
    return {grade_id: float(nbgrader_info(c).get("points", 0)) for grade_id, c in test_cells(notebook).items()}


def solution_code(source: str) -> str:
    """An instructor's answer cell as a student would write it: solution markers removed, code kept."""
    return _SOLUTION.sub(lambda m: m.group(1), source)


def hidden_test_lines(source: str) -> dict[int, bool]:
    """{1-based line number: True for a marker line, False for a hidden check} of each hidden block of a test cell.

    A block runs from a ``### BEGIN HIDDEN TESTS`` line to its ``### END HIDDEN TESTS`` line
    (or to the end of the cell when the end marker is missing).

    >>> hidden_test_lines("a\\n### BEGIN HIDDEN TESTS\\nb\\n### END HIDDEN TESTS\\nc")
    {2: True, 3: False, 4: True}
    """
    hidden, inside = {}, False
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip() == HIDDEN_BEGIN:
            inside, hidden[number] = True, True
        elif line.strip() == HIDDEN_END and inside:
            inside, hidden[number] = False, True
        elif inside:
            hidden[number] = False
    return hidden


def without_hidden_tests(source: str) -> str:
    """A test cell as students see it: the hidden blocks removed, their marker lines too."""
    hidden = hidden_test_lines(source)
    return "".join(line for number, line in enumerate(source.splitlines(keepends=True), 1) if number not in hidden)
