"""Offline stand-ins for every course model, for the tests and for grading (never for students).

The machines that test and grade the course cannot reach the model hub, so tiny ONNX models with the
real shapes stand in for the real ones (``python3 course.py start --offline-preview`` uses them too):

- :mod:`~course_utils.models.standins.text`: the dense, ColBERT and cross-encoder models (lessons 1-6), whose
  token vectors come from wordllama's trained static vectors
  (:mod:`~course_utils.models.standins.static_vectors`);
- :mod:`~course_utils.models.standins.bm25`: the BM25 of lessons 5a and 5b (the real parameter files);
- :mod:`~course_utils.models.standins.multimodal`: lesson 7's page-image models (ColModernVBERT, ColPali);
- :mod:`~course_utils.models.standins.snapshot`: the Hugging Face cache layout all three write in.

Entry points: :func:`build_standin_cache` (into a folder) and :func:`standin_models` (a ``with`` block
that points fastembed at them). They are only ever built into a temporary folder, never into a
user's model cache.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from course_utils import models
from course_utils.models.environment import environment_variables
from course_utils.models.standins.bm25 import write_bm25_snapshot
from course_utils.models.standins.multimodal import build_multimodal_standins
from course_utils.models.standins.snapshot import MARKER_FILE, REVISION
from course_utils.models.standins.text import build_vocabulary, write_text_standins

__all__ = ["MARKER_FILE", "REVISION", "build_standin_cache", "build_vocabulary", "standin_models"]


def build_standin_cache(cache_dir: str | os.PathLike, extra_words: Iterable[str] = ()) -> Path:
    """Build the three stand-in models into ``cache_dir`` (a fastembed cache folder).

    Args:
        cache_dir: an empty or new folder; never a user's real model cache.
        extra_words: more words for the vocabulary (others are spelled out in
            single-character pieces, which is fine but makes longer sequences).

    Returns:
        the cache folder, ready for ``FASTEMBED_CACHE_PATH``.

    Raises:
        ValueError: if ``cache_dir`` already holds a model that is not a stand-in.
        RuntimeError: the onnx package is not installed (nothing is written then).
    """
    try:
        import onnx  # noqa: F401  (only the stand-ins need it: it is in the grading and test extras)
    except ImportError:
        raise RuntimeError("Building the offline stand-in models needs the onnx package, which comes with the "
                           "course's grading tools: pip install 'course-utils[grading]' (or use "
                           "`python3 course.py grade`, which installs them).") from None
    cache = Path(cache_dir)
    for model_name in models.ALL_MODELS:
        snapshot = models.cached_snapshot(model_name, cache)
        if snapshot is not None and not (snapshot / MARKER_FILE).exists():
            raise ValueError(
                f"cache_dir {cache} already holds the real {model_name}; build the stand-ins into an "
                "empty temporary folder instead, so that no real model is overwritten.")
    cache.mkdir(parents=True, exist_ok=True)
    write_text_standins(cache, extra_words)
    write_bm25_snapshot(cache, REVISION, MARKER_FILE)  # lessons 5a and 5b's BM25: the real files
    build_multimodal_standins(cache, extra_words)  # lesson 7's page-image models
    return cache


@contextlib.contextmanager
def standin_models(cache_dir: str | os.PathLike | None = None) -> Iterator[Path]:
    """Use the stand-ins for the duration of a ``with`` block.

    Builds them into ``cache_dir`` (default: a new temporary folder, removed
    afterwards) and sets ``FASTEMBED_CACHE_PATH`` there and ``HF_HUB_OFFLINE=1``
    for this process and the processes it starts (kernels, nbgrader). The
    previous values are restored on exit.

    Yields:
        the cache folder.
    """
    own_dir = cache_dir is None
    folder = Path(tempfile.mkdtemp(prefix="course-standin-models-")) if own_dir else Path(cache_dir)
    try:
        build_standin_cache(folder)
        with environment_variables(FASTEMBED_CACHE_PATH=str(folder), HF_HUB_OFFLINE="1"):
            yield folder
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)
