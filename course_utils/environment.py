"""Where the course runs: Colab or a local Jupyter, and what is installed."""

from __future__ import annotations

import importlib.metadata
import importlib.util

#: Packages whose versions ``doctor`` reports, lesson packages first.
REPORTED_PACKAGES = ("course-utils", "fastembed", "onnxruntime", "numpy", "matplotlib", "qdrant-client",
                     "qdrant-edge-py", "tokenizers", "jupyterlab", "nbgrader", "ipykernel")


def on_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package can be imported).

    The set-up cell of every lesson uses the same test, written out inline,
    because it runs before this package is installed.
    """
    return importlib.util.find_spec("google.colab") is not None


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
