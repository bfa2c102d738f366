"""Where the course runs: Colab or a local Jupyter, and what is installed."""

from __future__ import annotations

import importlib.metadata
import importlib.util

#: Packages whose versions ``doctor`` reports, lesson packages first.
REPORTED_PACKAGES = ("course-utils", "fastembed", "onnxruntime", "numpy", "matplotlib", "qdrant-client",
                     "qdrant-edge-py", "tokenizers", "jupyterlab", "nbgrader", "ipykernel")


#: Environment variables that point the lessons at a Qdrant server instead of the embedded mode
#: (read by ``course_utils.qdrant``; tests and grading remove them).
QDRANT_SERVER_SETTINGS = ("QDRANT_URL", "QDRANT_API_KEY", "QDRANT_COLLECTION_PREFIX")

#: The module only Google Colab has; its presence is what "running on Colab" means here.
COLAB_MODULE = "google.colab"


def on_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package can be found).

    The set-up cell of every lesson makes the same test, written out from
    :data:`COLAB_MODULE` by :mod:`course_utils.colab`, because it runs before
    this package is installed.
    """
    return importlib.util.find_spec(COLAB_MODULE) is not None


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
