"""Does this machine have the memory for a page-image model? (lesson 7)

The numbers are estimates, stated as such in the lesson: a model's download size
(fastembed's own model description) and the free memory we think it needs to embed
pages: its weights in memory plus onnxruntime's working memory for one batch.
"""

from __future__ import annotations

import os

from course_utils import models

__all__ = ["NotEnoughMemoryError", "available_memory_gib", "check_memory"]

#: Free memory (GiB) each page-image model needs: our estimate for ColModernVBERT; for ColPali what Qdrant's
#: own ColPali notebooks ask for ("at least 16GB of RAM"). Not measured on every machine.
NEEDED_GIB = {models.VISUAL_MODEL: 3.0, models.COLPALI_MODEL: 16.0}
#: Download sizes (GB) from fastembed's model descriptions.
DOWNLOAD_GB = {models.VISUAL_MODEL: 1.0, models.COLPALI_MODEL: 6.5}


def available_memory_gib() -> float | None:
    """Memory the operating system can give this process now, in GiB (None if it cannot be read here).

    Linux (and Colab): ``MemAvailable`` of ``/proc/meminfo``; elsewhere the free physical pages.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (AttributeError, ValueError, OSError):
        return None


class NotEnoughMemoryError(RuntimeError):
    """The machine has clearly too little free memory for the chosen model."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def check_memory(model_name: str, available_gib: float | None = None) -> str:
    """Say whether ``model_name`` fits in the free memory; raise if it clearly does not.

    Args:
        available_gib: free memory to assume (default: :func:`available_memory_gib`).

    Returns:
        the one-line report that was printed.

    Raises:
        ValueError: ``model_name`` is not one of ``models.VISUAL_MODELS``.
        NotEnoughMemoryError: less free memory than the estimate (never for the offline stand-ins,
            which need almost none).
    """
    if model_name not in NEEDED_GIB:
        raise ValueError(f"model_name must be one of {list(NEEDED_GIB)}, got {model_name!r}")
    free = available_memory_gib() if available_gib is None else float(available_gib)
    needed = NEEDED_GIB[model_name]
    if models.is_standin(model_name):
        report = f"{model_name}: the offline stand-in (nothing to download, almost no memory needed)."
    else:
        report = (f"{model_name}: {DOWNLOAD_GB[model_name]} GB download, needs about {needed:.0f} GiB of free "
                  f"memory (our estimate); this machine has "
                  + ("an unknown amount free" if free is None else f"{free:.1f} GiB free") + ".")
    print(report)
    if free is not None and free < needed and not models.is_standin(model_name):
        raise NotEnoughMemoryError(
            f"{model_name} needs about {needed:.0f} GiB of free memory and this machine has {free:.1f} GiB. "
            "Use the smaller default model (set USE_COLPALI = False and run the cell again), close other "
            "notebooks, or use a runtime with more memory.")
    return report
