"""The files of fastembed's ``Qdrant/bm25`` model, written offline: the real thing, not an imitation.

``Qdrant/bm25`` is not a neural network. Its Hugging Face repository holds a
``config.json`` that fastembed reads nothing from (fastembed's ``Bm25`` class
has the parameters itself: ``k=1.2, b=0.75, avg_len=256.0``, the Snowball
stemmer, tokens up to 40 characters) and one stop-word list per language,
``<language>.txt``, one word a line. The course only uses English, and its
English list is ``course_utils.data.vocabulary.ENGLISH_STOPWORDS``: NLTK's 179 English stop words, the same list
that Qdrant's own text pipeline uses (``ENGLISH_STOPWORDS`` in Qdrant's
``lib/segment/.../stop_words/english.rs``, which Qdrant Edge's built-in
``Bm25`` applies). So the BM25 vectors of the course's tests are the real ones;
``tests/first_stages/test_first_stages.py`` proves it against Qdrant Edge for every course
passage and query.

fastembed requires every language file it lists to be present in a cached
snapshot; the other languages are written empty (no stop words), which only
matters to someone who picks another ``language`` while using these files.
"""

from __future__ import annotations

from pathlib import Path

from course_utils import models
from course_utils.data.vocabulary import ENGLISH_STOPWORDS
from course_utils.models.standins.snapshot import snapshot_folder

__all__ = ["write_bm25_snapshot"]


def _description():
    """fastembed's description of ``Qdrant/bm25``: its repository, model file and extra files."""
    from fastembed import SparseTextEmbedding

    for description in SparseTextEmbedding._list_supported_models():
        if description.model == models.BM25_MODEL:
            return description
    raise ValueError(f"fastembed no longer describes {models.BM25_MODEL!r}; check the installed fastembed version")


def write_bm25_snapshot(cache_dir: str | Path, revision: str, marker_file: str) -> Path:
    """Write the ``Qdrant/bm25`` snapshot into the fastembed cache ``cache_dir``; return its folder.

    Args:
        cache_dir: a fastembed cache folder (Hugging Face layout).
        revision: the 40-hex "commit" of the snapshot folder.
        marker_file: name of the file that marks the snapshot as built by the course.
    """
    description = _description()
    snapshot = snapshot_folder(cache_dir, description.sources.hf, revision)
    (snapshot / description.model_file).write_text("{}\n", encoding="utf-8")
    for name in description.additional_files:
        words = ENGLISH_STOPWORDS if name == "english.txt" else ()
        (snapshot / name).write_text("".join(word + "\n" for word in words), encoding="utf-8")
    (snapshot / marker_file).write_text(
        f"{models.BM25_MODEL} written offline by course_utils.models.standins.bm25: the real parameters and the real "
        "English stop-word list (other languages left empty), so its English BM25 vectors are the real ones.\n")
    return snapshot

