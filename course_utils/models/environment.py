"""Where the course runs: Colab or a local Jupyter, what is installed, and temporary settings.

>>> package_version("no-such-package-of-the-course") is None
True
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Iterator

__all__ = ["COLAB_MODULE", "OFFLINE_PREVIEW_VARIABLE", "QDRANT_SERVER_SETTINGS", "REPORTED_PACKAGES",
           "environment_variables", "in_offline_preview", "on_colab", "package_version"]

#: Packages whose versions ``doctor`` reports, lesson packages first.
REPORTED_PACKAGES = ("course-utils", "fastembed", "onnxruntime", "numpy", "matplotlib", "qdrant-client",
                     "qdrant-edge-py", "tokenizers", "jupyterlab", "nbgrader", "ipykernel")


#: Environment variables that point the lessons at a Qdrant server instead of the embedded mode
#: (read by ``course_utils.qdrant``; tests and grading remove them).
QDRANT_SERVER_SETTINGS = ("QDRANT_URL", "QDRANT_API_KEY", "QDRANT_COLLECTION_PREFIX")

#: Set to 1 by ``python3 course.py start --offline-preview`` for JupyterLab and its kernels (see course.py).
OFFLINE_PREVIEW_VARIABLE = "COURSE_OFFLINE_PREVIEW"

#: The module only Google Colab has; its presence is what "running on Colab" means here.
COLAB_MODULE = "google.colab"


def on_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package can be found).

    The set-up cell of every lesson makes the same test, written out from
    :data:`COLAB_MODULE` by :mod:`course_utils.lesson.colab`, because it runs before
    this package is installed.
    """
    try:
        return importlib.util.find_spec(COLAB_MODULE) is not None
    except ModuleNotFoundError:  # not even its parent package (google) is installed
        return False


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def environment_variables(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of a ``with`` block (for this process and the ones it starts).

    On exit each named variable gets back its previous value, or is removed if it had
    none; other variables the block changes are left as they are.

    >>> with environment_variables(COURSE_EXAMPLE_SETTING="1"):
    ...     os.environ["COURSE_EXAMPLE_SETTING"]
    '1'
    >>> "COURSE_EXAMPLE_SETTING" in os.environ
    False

    Raises:
        TypeError: a value is not a string.
    """
    for name, value in values.items():
        if not isinstance(value, str):
            raise TypeError(f"the value of {name} must be a string, got {type(value).__name__}")
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def in_offline_preview() -> bool:
    """True in a JupyterLab started with ``python3 course.py start --offline-preview`` (and its kernels)."""
    return os.environ.get(OFFLINE_PREVIEW_VARIABLE, "") == "1"
