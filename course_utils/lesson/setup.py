"""What the set-up cell at the top of every lesson does after installing the course (on Colab).

:func:`prepare`:

1. points fastembed at the course's model folder, which survives a reboot
   (locally; an explicit ``FASTEMBED_CACHE_PATH`` wins; see :mod:`course_utils.models.cache`);
2. checks that the lesson's models (its row of :mod:`course_utils.models.lessons`)
   can be loaded, names them, and says in one line where they are (and warns when they
   are the offline stand-ins of a preview, whose text models are built from wordllama's
   static token vectors: real signal, far weaker than the real models);
3. when models are missing, raises the check's plain message, and makes every
   later load of a missing model in this kernel fail at once with the same
   message, instead of after fastembed's ~40 s of retries
   (:mod:`course_utils.models.guard`). Running the cell again after fixing the
   problem lifts that;
4. also then, makes every later cell stop at once pointing at the set-up cell
   (:mod:`course_utils.lesson.halt`), so Run All never shows a later cell's own
   failure far from the cause.
"""

from __future__ import annotations

from course_utils.models import cache as model_cache, guard as model_guard
from course_utils import models
from course_utils.models.lessons import lesson_models
from course_utils.lesson import halt

__all__ = ["prepare"]


def prepare(lesson: str, timeout: float = 1.5) -> None:
    """Set up this kernel for a lesson: model folder, model check, fast failure.

    Args:
        lesson: the lesson's folder name, e.g. ``"02-maxsim"``: its models are its row of
            :data:`course_utils.models.lessons.LESSON_MODELS`.
        timeout: seconds to wait for the model hub when a model is not cached.

    Raises:
        ValueError: ``lesson`` has no row in the table.
        ModelsUnavailableError: some models can be neither loaded from the cache
            nor downloaded; the message says what to do.
    """
    model_names = lesson_models(lesson)
    model_cache.use_course_cache()
    model_guard.unblock()
    halt.resume()
    try:
        models.check_models(model_names, timeout, verbose=True, prefetch_hint=f" --lesson {lesson}")
    except models.ModelsUnavailableError as error:
        uncached = [name for name in model_names if models.cached_snapshot(name) is None]
        model_guard.block(uncached, str(error))
        halt.halt(str(error))
        raise
