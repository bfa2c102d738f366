"""Lessons that were split or renamed: what an old Colab link or an old ``grade`` command meets.

Lesson 5 (``05-first-stages``) became two graded lessons after version 0.2.0 of the course. A student
may still hold a link to the old notebook and an instructor a command with the old name, so:

- ``python3 course.py generate`` writes :func:`pointer_notebook` to ``notebooks/05-first-stages/``: a
  short, ungraded notebook (no code) that links to the lessons that replace it;
- ``python -m course_utils grade 05-first-stages ...`` stops with :func:`moved_lesson_message`.
"""

from __future__ import annotations

import nbformat

from course_utils.lesson.colab import badge_markdown

__all__ = ["MOVED_LESSONS", "moved_lesson_message", "pointer_notebook"]

#: {old lesson name: (the lessons that replace it, in order)}.
MOVED_LESSONS = {"05-first-stages": ("05a-hybrid-first-stages", "05b-muvera-candidates")}

_WHAT = {"05a-hybrid-first-stages": "BM25 as sparse vectors, reciprocal rank fusion, the paired bootstrap "
                                    "and the hybrid Qdrant request",
         "05b-muvera-candidates": "token-level candidates, MUVERA, candidate recall and every pipeline "
                                  "side by side"}


def moved_lesson_message(old: str) -> str:
    """What ``grade`` says for an old lesson name. KeyError if ``old`` is not in :data:`MOVED_LESSONS`."""
    new = MOVED_LESSONS[old]
    return (f"lesson {old!r} was split into {len(new)} graded lessons: {', '.join(new)}. Each has its own "
            f"exercises and its own grades: grade them one at a time, for example "
            f"`python -m course_utils grade {new[0]} <submissions>`. A notebook submitted under the old name "
            "holds the old exercises and cannot be graded as either.")


def pointer_notebook(old: str, repository: str, branch: str):
    """The ungraded notebook left at ``notebooks/<old>/<old>.ipynb``: markdown only, a link to each new lesson.

    Raises:
        KeyError: ``old`` is not in :data:`MOVED_LESSONS`; ValueError: a bad repository or branch.
    """
    lines = [f"# This lesson ({old}) has moved", "",
             f"This lesson was split into {len(MOVED_LESSONS[old])} lessons, each with its own graded exercises. "
             "Open them here (on Google Colab) or, in JupyterLab, from their folders next to this one:", ""]
    for new in MOVED_LESSONS[old]:
        lines += [f"- **{new}**: {_WHAT.get(new, '')}  ", f"  `notebooks/{new}/{new}.ipynb` "
                  + badge_markdown(repository, branch, new)]
    lines += ["", "This page has no code and nothing to grade: there is nothing to run here."]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("\n".join(lines), id=f"{old}-moved")]
    notebook.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"}}
    return notebook
