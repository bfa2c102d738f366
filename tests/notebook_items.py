"""How the suite runs the course notebooks with nbval.

Every code cell of every notebook in ``solutions/`` and ``notebooks/`` is a test
item, run in order in one kernel:

- a cell must not raise, except, in student notebooks only, the cells tagged
  ``raises-exception`` (unsolved exercises and the tests that call them). The
  tag is stripped from the solutions, so an error in a solution always fails;
- a cell tagged ``nbval-check-output`` must print exactly its recorded output.
  Notebooks are committed without outputs, so the recorded outputs live in
  ``tests/expected_outputs.json``, keyed by a hash of the cell's source (the
  same cell in a solution and its student version shares one record). Only
  cells whose output does not depend on a model are tagged. After changing such
  a cell, re-record with ``python -m tests.record_outputs``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import nbformat
from nbval.plugin import IPyNbCell, IPyNbFile, find_comment_markers, find_metadata_tags

EXPECTED_OUTPUTS = Path(__file__).with_name("expected_outputs.json")
CHECK_TAG = "nbval-check-output"
RAISES_TAG = "raises-exception"


def source_key(source: str) -> str:
    """Key of a cell's recorded output: sha1 of its source, trailing white space ignored."""
    return hashlib.sha1(source.rstrip().encode()).hexdigest()


def load_expected() -> dict[str, list]:
    return json.loads(EXPECTED_OUTPUTS.read_text()) if EXPECTED_OUTPUTS.exists() else {}


def prepared_notebook(path: Path, expected: dict[str, list] | None = None):
    """Read ``path`` and prepare it for nbval as described in this module's docstring."""
    nb = nbformat.read(str(path), as_version=4)
    expected = load_expected() if expected is None else expected
    is_solution = path.parent.parent.name == "solutions"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if is_solution and RAISES_TAG in tags:
            cell.metadata["tags"] = tags = [t for t in tags if t != RAISES_TAG]
        if CHECK_TAG in tags:
            key = source_key(cell.source)
            if key not in expected:
                raise LookupError(f"{path}: a cell tagged {CHECK_TAG} has no recorded output "
                                  f"(source starts {cell.source[:60]!r}); run `python -m tests.record_outputs`")
            cell.outputs = [nbformat.from_dict(output) for output in expected[key]]
            cell.execution_count = 1  # nbval compares only cells that were run
    return nb


class CourseNotebook(IPyNbFile):
    """nbval's notebook collector, reading the notebook through :func:`prepared_notebook`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False  # only the tagged cells are compared

    def collect(self):
        """One nbval cell item per code cell, as nbval's own ``collect`` makes them."""
        self.nb = prepared_notebook(Path(str(self.fspath)))
        code_cells = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code_cells):
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", self.compare_outputs)
            yield IPyNbCell.from_parent(self, name=f"Cell {number}", cell_num=number, cell=cell, options=options)
