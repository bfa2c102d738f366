"""Which course models each lesson loads: the one table the set-up cells, ``prefetch`` and ``doctor`` read.

Each lesson's set-up cell checks exactly the models of its row (and names them),
``python -m course_utils prefetch --lesson <lesson>`` downloads them, and ``doctor``
lists every model under the lessons that load it. A test
(``tests/models/test_lesson_models.py``) scans each lesson's code cells for the model
names they use and fails when the table and the lesson disagree, or when a lesson
folder has no row.

To add a lesson: add a row keyed by its folder name (``solutions/<lesson>/``), with
the models its cells load in ``loads`` and the ones only a setting of the lesson
loads (checked by the cell that reads the setting, never by the set-up cell) in
``optional``.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.models import (BM25_MODEL, COLPALI_MODEL, CROSS_ENCODER_MODEL, DENSE_MODEL, LATE_INTERACTION_MODEL,
                                 VISUAL_MODEL)

__all__ = ["LESSON_MODELS", "LessonModels", "lesson_models", "lessons_loading", "prefetched_models"]


@dataclass(frozen=True)
class LessonModels:
    """The models of one lesson.

    Attributes:
        loads: models the lesson's cells load; its set-up cell checks them.
        optional: models only a setting in the lesson loads (for example lesson 7's
            ``USE_COLPALI``); the cell reading the setting checks them.
    """

    loads: tuple[str, ...]
    optional: tuple[str, ...] = ()


#: lesson folder name -> its models (in the order the lesson introduces them).
LESSON_MODELS: dict[str, LessonModels] = {
    "01-late-interaction-basics": LessonModels((DENSE_MODEL, CROSS_ENCODER_MODEL, LATE_INTERACTION_MODEL)),
    "02-maxsim": LessonModels((LATE_INTERACTION_MODEL,)),
    "03-corpus-search": LessonModels((DENSE_MODEL, CROSS_ENCODER_MODEL, LATE_INTERACTION_MODEL)),
    "04-qdrant": LessonModels((DENSE_MODEL, LATE_INTERACTION_MODEL)),
    "05a-hybrid-first-stages": LessonModels((BM25_MODEL, DENSE_MODEL, LATE_INTERACTION_MODEL)),
    "05b-muvera-candidates": LessonModels((BM25_MODEL, DENSE_MODEL, LATE_INTERACTION_MODEL, CROSS_ENCODER_MODEL)),
    "06-compression": LessonModels((LATE_INTERACTION_MODEL,)),
    "07-visual-documents": LessonModels((VISUAL_MODEL,), optional=(COLPALI_MODEL,)),
    "08-at-scale": LessonModels((LATE_INTERACTION_MODEL, BM25_MODEL)),
    "09-capstone": LessonModels((BM25_MODEL, DENSE_MODEL, LATE_INTERACTION_MODEL)),
}


def lesson_models(lesson: str) -> tuple[str, ...]:
    """The models lesson ``lesson`` (its folder name, e.g. ``"02-maxsim"``) loads.

    Raises:
        ValueError: ``lesson`` has no row in :data:`LESSON_MODELS`; the message names the known lessons.
    """
    if lesson not in LESSON_MODELS:
        raise ValueError(f"lesson {lesson!r} has no row in course_utils/models/lessons.py (LESSON_MODELS); "
                         f"use one of {sorted(LESSON_MODELS)}, or add its row there")
    return LESSON_MODELS[lesson].loads


def lessons_loading(model_name: str) -> list[str]:
    """The lessons whose cells load ``model_name`` (``optional`` rows included), in lesson order."""
    return [lesson for lesson, row in sorted(LESSON_MODELS.items()) if model_name in (*row.loads, *row.optional)]


def prefetched_models(lessons=None) -> tuple[str, ...]:
    """The models ``prefetch`` downloads for ``lessons`` (default: every lesson), each once, in lesson order.

    Never the ``optional`` ones (ColPali's 6.5 GB are fetched only when named).
    """
    chosen = sorted(LESSON_MODELS) if lessons is None else list(lessons)
    names: list[str] = []
    for lesson in chosen:
        names += [name for name in lesson_models(lesson) if name not in names]
    return tuple(names)
