"""An autograded notebook made safe to open: nothing of the student's can run in the viewer's browser.

The instructor opens autograded notebooks in nbgrader's formgrader (and the course keeps
them). A student's notebook can hold HTML, JavaScript or SVG outputs and raw HTML in its
markdown cells, which a browser would run. :func:`make_safe` keeps only outputs that are
plain text or raster images, and shows the HTML of markdown cells a student could edit as
text (every ``<`` written as ``&lt;``, so no tag is ever made; markdown itself still renders).
"""

from __future__ import annotations

from course_utils.grading import notebooks as nb

__all__ = ["SAFE_MIME_TYPES", "make_safe"]

#: Output data kept: text and raster images (nothing a browser runs or that loads anything).
SAFE_MIME_TYPES = ("text/plain", "image/png", "image/jpeg")
_REMOVED = "[an output of type {kinds} was removed by the grader: it could run code in the viewer's browser]"


def _safe_output(output) -> None:
    data = output.get("data")
    if not isinstance(data, dict):
        return
    dropped = sorted(kind for kind in data if kind not in SAFE_MIME_TYPES)
    for kind in dropped:
        del data[kind]
    if dropped and "text/plain" not in data:
        data["text/plain"] = _REMOVED.format(kinds=", ".join(dropped)[:200])
    output["metadata"] = {}


def make_safe(notebook) -> None:
    """Change ``notebook`` in place as the module docstring says."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                _safe_output(output)
        elif cell.cell_type in ("markdown", "raw") and not nb.is_locked(cell):
            cell.source = cell.source.replace("<", "&lt;")
            cell.pop("attachments", None)
