"""The Hugging Face cache layout every stand-in is written in (text, BM25, multimodal).

Shared by :mod:`~course_utils.models.standins.text`, :mod:`~course_utils.models.standins.bm25` and
:mod:`~course_utils.models.standins.multimodal`, so that none of them imports another's builder.
"""

from __future__ import annotations

import os
from pathlib import Path

from course_utils import models

__all__ = ["MARKER_FILE", "REVISION", "snapshot_folder"]

#: Fake revision of every stand-in snapshot (a 40-hex "commit").
REVISION = "5fa1d5ca1d5ca1d5ca1d5ca1d5ca1d5ca1d5ca1d"
#: File that marks a snapshot as a stand-in (``doctor`` and the model check report it).
MARKER_FILE = models.STANDIN_MARKER


def snapshot_folder(cache_dir: str | os.PathLike, repo: str, revision: str = REVISION) -> Path:
    """The snapshot folder of hub repository ``repo`` in a Hugging Face cache layout, made empty if new,
    with ``refs/main`` pointing to it: ``<cache_dir>/models--<org>--<name>/snapshots/<revision>``."""
    repo_dir = Path(cache_dir) / models.cache_folder_name(repo)
    snapshot = repo_dir / "snapshots" / revision
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)
    return snapshot
