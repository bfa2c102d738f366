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
  a cell, re-record with ``python -m tests.record_outputs``;
- in the solutions, every figure a cell draws is at most
  ``course_utils.lesson.plots.MAX_FIGURE_WIDTH_PX`` pixels wide as JupyterLab shows it
  inline (the suite runs with the Agg backend, so the kernel renders each new
  figure as the inline backend would and reports its width; see :class:`CourseCell`).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import nbformat
from nbval.plugin import IPyNbCell, IPyNbFile, find_comment_markers, find_metadata_tags

from course_utils.lesson.plots import MAX_FIGURE_WIDTH_PX

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
            item = CourseCell if self.check_figures else IPyNbCell
            yield item.from_parent(self, name=f"Cell {number}", cell_num=number, cell=cell, options=options)

    @property
    def check_figures(self) -> bool:
        """Figures are measured in the solutions only (the student notebooks draw the same ones)."""
        return Path(str(self.fspath)).parent.parent.name == "solutions"


#: Run silently in the kernel after each cell: the shown width of each figure not measured before.
NEW_FIGURE_WIDTHS = """\
import matplotlib.pyplot as _course_plt
from course_utils.lesson.plots import shown_width as _course_shown_width
_course_figure_widths = []
for _course_number in _course_plt.get_fignums():
    _course_figure = _course_plt.figure(_course_number)
    if not getattr(_course_figure, "_course_width_measured", False):
        _course_figure._course_width_measured = True
        _course_figure_widths.append((_course_number, _course_shown_width(_course_figure),
                                      (_course_figure._suptitle.get_text() if _course_figure._suptitle else "")
                                      or next((a.get_title() for a in _course_figure.axes if a.get_title()), "")))
"""


class CourseCell(IPyNbCell):
    """nbval's cell item, which then fails when a figure the cell drew is wider than the course allows."""

    def runtest(self):
        super().runtest()
        too_wide = [(number, width, title) for number, width, title in self.new_figure_widths()
                    if width > MAX_FIGURE_WIDTH_PX]
        if too_wide:
            self.raise_cell_error("Figure too wide", "\n".join(
                f"figure {number} ({title!r}) is {width} px wide as shown inline, more than "
                f"{MAX_FIGURE_WIDTH_PX} px (course_utils.lesson.plots.MAX_FIGURE_WIDTH_PX): narrow its figsize"
                for number, width, title in too_wide))

    def new_figure_widths(self) -> list[tuple[int, int, str]]:
        """(figure number, width in px, title) of each figure drawn since the last cell, measured in the kernel."""
        import ast

        kernel = self.parent.kernel
        msg_id = kernel.kc.execute(NEW_FIGURE_WIDTHS, silent=True, store_history=False,
                                   user_expressions={"widths": "_course_figure_widths"})
        reply = kernel.get_message(stream="shell", timeout=self.config.option.nbval_cell_timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kernel.get_message(stream="shell", timeout=self.config.option.nbval_cell_timeout)
        found = reply["content"].get("user_expressions", {}).get("widths", {})
        if reply["content"]["status"] != "ok" or found.get("status") != "ok":
            self.raise_cell_error("Measuring the cell's figures failed", str(reply["content"]))
        return ast.literal_eval(found["data"]["text/plain"])
