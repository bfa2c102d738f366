"""Saving and loading a :class:`~course_utils.centroid_index.plaid.CentroidIndex` as plain ``.npy`` files.

A folder holds one ``<name>.npy`` per array of the index and ``index.json`` (format version, bits,
sizes, build times). Nothing is pickled: :func:`load` reads with ``allow_pickle=False``, so a folder
from someone else cannot run code, and ``mmap=True`` maps the large arrays instead of reading them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from course_utils.centroid_index.plaid import CentroidIndex
from course_utils.centroid_index.residuals import ResidualCodec

__all__ = ["ARRAYS", "FORMAT", "load", "save"]

#: Version of the folder's layout, written into index.json and checked on loading.
FORMAT = 1
#: The arrays saved, by attribute name of CentroidIndex.
ARRAYS = ("centroids", "codes", "residuals", "offsets", "ivf", "ivf_offsets", "passage_centroids",
          "passage_centroid_offsets")


def save(index: CentroidIndex, folder) -> Path:
    """Write ``index`` into ``folder`` (created if missing); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", getattr(index, name), allow_pickle=False)
    np.save(folder / "codec_cutoffs.npy", index.codec.cutoffs, allow_pickle=False)
    np.save(folder / "codec_weights.npy", index.codec.weights, allow_pickle=False)
    meta = {"format": FORMAT, "bits": index.codec.bits, "passages": len(index), "tokens": len(index.codes),
            "dim": index.dim, "centroids": len(index.centroids), "build_seconds": index.build_seconds}
    (folder / "index.json").write_text(json.dumps(meta, indent=1))
    return folder


def load(folder, *, mmap: bool = False) -> CentroidIndex:
    """Read an index written by :func:`save`.

    Raises:
        FileNotFoundError: ``folder`` or one of its files is missing (named).
        ValueError: another format version, or arrays whose sizes disagree with index.json.
    """
    folder = Path(folder)
    meta_path = folder / "index.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} not found: folder must be one written by save()")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{meta_path} has format {meta.get('format')!r}; this version reads format {FORMAT}")
    mode = "r" if mmap else None
    arrays = {}
    for name in ARRAYS:
        path = folder / f"{name}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the index folder is incomplete")
        arrays[name] = np.load(path, mmap_mode=mode, allow_pickle=False)
    codec = ResidualCodec(meta["bits"], np.load(folder / "codec_cutoffs.npy", allow_pickle=False),
                          np.load(folder / "codec_weights.npy", allow_pickle=False))
    index = CentroidIndex(codec=codec, build_seconds=meta.get("build_seconds", {}), **arrays)
    expected = {"codes": meta["tokens"], "offsets": meta["passages"] + 1, "centroids": meta["centroids"]}
    for name, size in expected.items():
        if len(arrays[name]) != size:
            raise ValueError(f"{folder / (name + '.npy')} has {len(arrays[name])} rows, index.json says {size}")
    return index
