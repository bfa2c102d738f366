"""Shared fixtures: the course models, loaded once per test worker (stand-ins unless --real-models)."""

from __future__ import annotations

import functools

from course_utils import models


@functools.cache
def load(model_name: str):
    """The fastembed model ``model_name``, loaded the way a lesson loads it."""
    return models._model_class(model_name)(model_name)
