"""The feedback page's header names each exercise, as its body does.

nbgrader's feedback template (``formgrader/templates/feedback/index.html.j2``) lists every
graded cell in the header as ``<a href="#<grade id>">Test cell</a> (Score: ...)``; the
link text is replaced here with the exercise's title and the test cell's id.
"""

from __future__ import annotations

import html
import re

__all__ = ["name_exercises"]


def name_exercises(page: str, test_cells: dict) -> str:
    """``page`` (feedback HTML text) with each "Test cell" header link named after its exercise.

    ``test_cells``: {grade id: :class:`course_utils.grading.trusted.TestCell`} (their ``name``).
    """
    def named(match: re.Match) -> str:
        cell = test_cells.get(html.unescape(match["id"]))
        label = html.escape(cell.name) if cell is not None else match["label"]
        return f'<a href="#{match["id"]}">{label}</a>'

    return re.sub(r'<a href="#(?P<id>[^"]+)">(?P<label>Test cell)</a>', named, page)
