"""Fail at once, not after ~40 s, when the set-up check has found a model missing.

When a lesson's set-up cell finds models that can be neither loaded from the
cache nor downloaded, every later cell that loads one of them would wait through
fastembed's retries and end with its generic "Could not load model" error.
:func:`block` wraps the constructors of the fastembed classes of those models
(``TextEmbedding``, ``LateInteractionTextEmbedding``, ... : whatever
:mod:`course_utils.models` loads each course model with) so that loading a
blocked model raises the set-up check's own message straight away. A model that
has since appeared in the cache loads normally, and :func:`unblock` (called when
the set-up check passes again) restores the classes.

Only this kernel is affected: the wrapper lives in memory and nothing is written.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable

from course_utils import models

__all__ = ["block", "blocked", "unblock"]

#: {fastembed class: the ``__init__`` it defined itself (None: it inherited one)} for every class wrapped here.
_ORIGINALS: dict[type, object] = {}
#: {model name: the message to raise when it is loaded}.
_BLOCKED: dict[str, str] = {}


def block(model_names: Iterable[str], message: str) -> None:
    """Make loading any of ``model_names`` raise ``ModelsUnavailableError(message)`` at once.

    Args:
        model_names: course model names (see :data:`course_utils.models.ALL_MODELS`).
        message: what to say; the set-up check's message.

    Raises:
        TypeError: ``message`` is not a str.
        ValueError: a name is not a course model.
    """
    if not isinstance(message, str):
        raise TypeError(f"message must be a str, not {type(message).__name__}")
    names = list(model_names)
    classes = {name: models._model_class(name) for name in names}  # ValueError for unknown names, before any change
    for name, cls in classes.items():
        _BLOCKED[name] = message
        if cls not in _ORIGINALS:
            _ORIGINALS[cls] = cls.__dict__.get("__init__")
            cls.__init__ = _guarded(cls.__init__)


def unblock() -> None:
    """Undo :func:`block`: every model loads through fastembed's own code again."""
    for cls, original in _ORIGINALS.items():
        if original is None:
            del cls.__init__
        else:
            cls.__init__ = original
    _ORIGINALS.clear()
    _BLOCKED.clear()


def blocked() -> dict[str, str]:
    """{model name: message} of the models that are blocked now."""
    return dict(_BLOCKED)


def _requested_model(original, args: tuple, kwargs: dict) -> str | None:
    """The ``model_name`` a constructor call asks for (its default when left out), or None."""
    try:
        signature = inspect.signature(original)
        bound = signature.bind_partial(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None  # let fastembed itself report a bad call
    if "model_name" in bound.arguments:
        return bound.arguments["model_name"]
    parameter = signature.parameters.get("model_name")
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def _guarded(original):
    """``original`` (a fastembed ``__init__``) behind the check of :data:`_BLOCKED`."""

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        name = _requested_model(original, args, kwargs)
        message = _BLOCKED.get(name) if isinstance(name, str) else None
        if message is not None and not kwargs.get("specific_model_path") \
                and models.cached_snapshot(name, kwargs.get("cache_dir")) is None:
            raise models.ModelsUnavailableError(message)
        original(self, *args, **kwargs)

    return __init__
