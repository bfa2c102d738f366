"""Helper library of the late-interaction search course, one package per thing it serves.

Lessons import the few names they need, e.g.
``from course_utils.scoring.maxsim import maxsim`` or ``from course_utils.lesson.checks import check``.

- ``scoring``: MaxSim, retrieval metrics and token labels: the math, numpy only (lessons 1-3, 5-7);
- ``first_stages``: BM25, fusion, token-level candidates, candidate recall, every pipeline and the hybrid
  collection (lessons 5a and 5b);
- ``compression``: binary, int8, token pooling and quantization in Qdrant Edge (lesson 6);
- ``pages``: the course pages, their vectors, plots and search (lesson 7);
- ``centroid_index``: a PLAID-style centroid index with ColBERTv2's residual compression (lesson 8);
- ``qdrant``: connecting to Qdrant, the course's collection layout, Qdrant Edge (lessons 3-7);
- ``models``: model names and checks, the model folder and guard, where the course runs, stand-ins;
- ``lesson``: what notebooks use around the exercises: checks, set-up, Colab stamp, plots, doctor;
- ``grading``: the grade command for instructors (``python -m course_utils grade``);
- ``data``: the running example, the corpus, queries, judgements and page images.

Lower packages never import higher ones (``scoring`` imports nothing of the course; only
``__main__`` imports ``grading``); ``tests/test_code_habits.py`` checks it. The command line is
``python -m course_utils --help``.

``__version__`` below is the course's only version number: ``pyproject.toml`` reads it, ``python3
course.py generate`` stamps it into every lesson's set-up cell, which checks it against the installed
package, and ``python3 course.py release`` bumps it (see CHANGELOG.md).
"""

import importlib.abc
import sys

__version__ = "0.2.0"

__all__ = ["MOVED_MODULES", "moved_message"]

#: Modules of the flat layout (up to 0.1.0) and where they live now. Only for the message below:
#: there are no copies at the old paths.
MOVED_MODULES = {
    "maxsim": "scoring.maxsim", "metrics": "scoring.metrics", "tokens": "scoring.tokens",
    "fusion": "first_stages.fusion", "hybrid": "first_stages.hybrid",
    "binary": "compression.binary", "scalar_quantization": "compression.scalar", "pooling": "compression.pooling",
    "edge_quantization": "compression.edge", "tradeoff": "compression.tradeoff",
    "page_documents": "pages.documents", "page_drawings": "pages.drawings", "page_images": "pages.build",
    "page_plots": "pages.plots", "page_vectors": "pages.vectors", "visual_search": "pages.search",
    "memory": "pages.memory",
    "model_cache": "models.cache", "model_guard": "models.guard", "environment": "models.environment",
    "standins": "models.standins", "bm25_standin": "models.standins.bm25",
    "multimodal_standins": "models.standins.multimodal",
    "checks": "lesson.checks", "check_summary": "lesson.check_summary", "lesson_setup": "lesson.setup",
    "colab": "lesson.colab", "plots": "lesson.plots", "diagrams": "lesson.diagrams",
    "lab_contents": "lesson.lab_contents", "doctor": "lesson.doctor",
}


def moved_message(old: str) -> str:
    """What a student reads when a notebook imports ``course_utils.<old>``, a module of the old layout."""
    new = f"{__name__}.{MOVED_MODULES[old]}"
    return (f"No module named '{__name__}.{old}': since version 0.2.0 of the course it is '{new}'. "
            f"This notebook was made for an older version of the course (this is {__version__}): download "
            "the lesson again (its first cell then installs and checks the version it was made with).")


class _MovedModules(importlib.abc.MetaPathFinder):
    """Asked last, after the normal finders found nothing: a plain error for the old module paths."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.partition(".")
        if package == __name__ and old in MOVED_MODULES:
            raise ModuleNotFoundError(moved_message(old), name=fullname)
        return None


def __getattr__(name: str):
    # ``from course_utils import maxsim`` asks for an attribute first: the same plain error.
    if name in MOVED_MODULES:
        raise ModuleNotFoundError(moved_message(name), name=f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
