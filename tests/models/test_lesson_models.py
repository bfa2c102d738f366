"""Each lesson's set-up cell checks exactly the models its cells load (course_utils.models.lessons)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils import models
from course_utils.lesson.colab import SETUP_CELL_ID
from course_utils.models.lessons import LESSON_MODELS, lesson_models, lessons_loading, prefetched_models

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.name for path in (ROOT / "solutions").iterdir() if (path / f"{path.name}.ipynb").exists())
#: Every course model by the name a lesson's code can use for it: its constant in course_utils.models.
MODEL_CONSTANTS = {name: getattr(models, name) for name in models.__all__ if name.endswith("_MODEL")}


def models_in_code(source: str) -> set[str]:
    """The course models ``source`` names, by their constant (``DENSE_MODEL``) or by their id (``"BAAI/..."``)."""
    found = {model for constant, model in MODEL_CONSTANTS.items() if re.search(rf"\b{constant}\b", source)}
    return found | {model for model in MODEL_CONSTANTS.values() if model in source}


def lesson_code(lesson: str) -> str:
    """The code of a lesson's cells, its set-up cell left out (that one reads the table)."""
    notebook = json.loads((ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"]
                     if cell["cell_type"] == "code" and cell.get("id") != SETUP_CELL_ID)


def test_lessons_were_found():
    assert "02-maxsim" in LESSONS and len(LESSONS) >= 7


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_row(lesson):
    assert lesson in LESSON_MODELS, (
        f"lesson {lesson} has no row in course_utils/models/lessons.py (LESSON_MODELS): add "
        f"LessonModels(loads=<the models its cells load>), here: {sorted(models_in_code(lesson_code(lesson)))}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_row_names_exactly_the_models_the_lessons_cells_use(lesson):
    if lesson not in LESSON_MODELS:
        pytest.fail(f"lesson {lesson} has no row in course_utils/models/lessons.py (LESSON_MODELS)")
    row = LESSON_MODELS[lesson]
    used = models_in_code(lesson_code(lesson))
    assert set(row.loads) | set(row.optional) == used, (
        f"{lesson}: its cells use {sorted(used)}, its row in LESSON_MODELS names {sorted(row.loads + row.optional)}")
    assert not set(row.loads) & set(row.optional)


def test_the_scan_sees_model_names_however_written():
    assert models_in_code("TextEmbedding(DENSE_MODEL)") == {models.DENSE_MODEL}
    assert models_in_code("m = models.LATE_INTERACTION_MODEL") == {models.LATE_INTERACTION_MODEL}
    assert models_in_code("TextEmbedding('BAAI/bge-small-en-v1.5')") == {models.DENSE_MODEL}
    assert models_in_code("ALL_DENSE_MODELS = 1") == set()
    assert models_in_code("COLPALI_MODEL if USE_COLPALI else VISUAL_MODEL") == {models.COLPALI_MODEL,
                                                                               models.VISUAL_MODEL}


def test_lesson_7_checks_only_the_page_image_model_and_lesson_2_only_colbert():
    assert lesson_models("07-visual-documents") == (models.VISUAL_MODEL,)
    assert lesson_models("02-maxsim") == (models.LATE_INTERACTION_MODEL,)
    assert models.BM25_MODEL in lesson_models("05a-hybrid-first-stages")


def test_an_unknown_lesson_is_named_with_the_table_to_edit():
    with pytest.raises(ValueError, match=r"'10-no-such-lesson' has no row in course_utils/models/lessons.py"):
        lesson_models("10-no-such-lesson")


def test_prefetch_fetches_each_lessons_models_once_never_colpali():
    everything = prefetched_models()
    assert len(everything) == len(set(everything)) and models.COLPALI_MODEL not in everything
    assert set(everything) == {name for row in LESSON_MODELS.values() for name in row.loads}
    assert prefetched_models(["07-visual-documents"]) == (models.VISUAL_MODEL,)
    assert lessons_loading(models.COLPALI_MODEL) == ["07-visual-documents"]
    assert lessons_loading(models.DENSE_MODEL)[0] == "01-late-interaction-basics"
