"""The per-cell output limits of :class:`course_utils.grading.execution.GradingExecute`.

A lesson's own figures must never be cut (their PNG's base64 once counted as text, so every
lesson-2 submission was reported as "cut by the grader"); a flood of text or of images still is,
and the grading report names which one was cut. The notebooks run in a plain kernel (no sandbox):
the limits are the grader's, not the sandbox's.
"""

from __future__ import annotations

import nbformat

from course_utils.grading import execution, worker
from course_utils.grading.jobs import GradingJob

#: An honest cell: a 9.5 x 6 inch figure of noise (incompressible) at 100 dpi, the lessons' inline size.
FIGURE = (
    "import matplotlib\n"
    "matplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\n"
    "import numpy as np\n"
    "fig, ax = plt.subplots(figsize=(9.5, 6), dpi=100)\n"
    "ax.imshow(np.random.default_rng(0).random((120, 200)), cmap='viridis')\n"
    "ax.set_title('a large but normal figure')\n"
    "plt.show()\n")
TEXT_FLOOD = "for _ in range(40):\n    print('x' * 100_000)\n"
IMAGE_FLOOD = (
    "import base64, os\n"
    "from IPython.display import publish_display_data\n"
    "piece = base64.b64encode(os.urandom(750_000)).decode()  # 1,000,000 characters\n"
    f"for _ in range({execution.MAX_CELL_IMAGE_CHARS // 1_000_000 + 5}):\n"
    "    publish_display_data({'image/png': piece, 'text/plain': '<Figure>'})\n")


def _run(sources: list[str], tmp_path) -> tuple[execution.RunRecord, nbformat.NotebookNode]:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    run = execution.RunRecord({}, timeout=120, budget=240)
    execution.CURRENT = run
    try:
        execution.GradingExecute(timeout=120, kernel_name="python3").preprocess(
            notebook, {"metadata": {"path": str(tmp_path)}})
    finally:
        execution.CURRENT = None
    return run, notebook


def _report(run: execution.RunRecord) -> list[str]:
    job = GradingJob(lesson="x", student="s", notebook="", timestamp="", test_cells={}, timeout=120,
                     notebook_timeout=240, visible_sources={}, manual_scores={}, findings=[], tampering=[],
                     late=None)
    return worker.report_lines(job, run, {}, {})


def _image_chars(cell) -> int:
    return sum(len(value) for output in cell.outputs for mime, value in output.get("data", {}).items()
               if mime.startswith("image/"))


def test_a_large_but_normal_figure_is_kept_whole_and_reported_nowhere(tmp_path):
    run, notebook = _run([FIGURE], tmp_path)
    figure = _image_chars(notebook.cells[0])
    # larger than the text limit (the figure lesson 2 lost), far under the image limit
    assert execution.MAX_CELL_OUTPUT_CHARS < figure < execution.MAX_CELL_IMAGE_CHARS // 4, figure
    assert run.cut == {}
    assert not any("cut by the grader" in line for line in _report(run)), _report(run)


def test_floods_of_text_or_images_are_still_cut_and_the_report_names_which(tmp_path):
    run, notebook = _run([FIGURE, TEXT_FLOOD, IMAGE_FLOOD], tmp_path)
    assert run.cut == {"text": [1], "images": [2]}, run.cut
    text = "".join(output.get("text", "") for output in notebook.cells[1].outputs)
    assert len(text) < execution.MAX_CELL_OUTPUT_CHARS + 1_000
    assert _image_chars(notebook.cells[2]) <= execution.MAX_CELL_IMAGE_CHARS
    assert _image_chars(notebook.cells[0]) > execution.MAX_CELL_OUTPUT_CHARS  # the honest figure beside them
    lines = [line for line in _report(run) if "cut by the grader" in line]
    assert lines == [
        f"The output of cell 2 was cut by the grader: more than {execution.MAX_CELL_OUTPUT_CHARS:,} characters "
        "of text.",
        f"The images shown by cell 3 were cut by the grader: more than {execution.MAX_CELL_IMAGE_CHARS:,} "
        "characters of images (base64 or SVG) in one cell."], lines
