"""The benchmark's synthetic collection of stand-in ColBERT vectors (100,000 passages by default).

1. the course's 218 passages and its queries are embedded once with the stand-in ColBERT
   (``benchmarks.standin_corpus``: wordllama's trained static token vectors, real if weak meaning);
2. :func:`course_utils.centroid_index.synthetic.compose` cuts 100,000 passages of 3 to 6 windows of 8 to
   20 consecutive token vectors from them, with a little noise (its docstring says how): about 60 token
   vectors per passage, about 6 M in all.

The arrays are cached as ``.npy`` files under ``cache`` (``/tmp`` by default), built once per size and seed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from benchmarks.standin_corpus import standin_colbert_vectors
from course_utils.data import load_corpus
from course_utils.centroid_index.synthetic import compose
from course_utils.scoring.maxsim import PackedCorpus

__all__ = ["collection_folder", "synthetic_collection"]

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "plaid-benchmark-collection"


def collection_folder(cache: Path, n_passages: int, seed: int = 0, noise: float = 0.25) -> Path:
    """Where the arrays of one collection are cached."""
    return Path(cache) / f"{n_passages}-passages-seed{seed}-noise{noise}"


def synthetic_collection(n_passages: int = 100_000, *, seed: int = 0, cache: Path | None = DEFAULT_CACHE,
                         noise: float = 0.25):
    """(PackedCorpus, list of ``(32, 128)`` query vectors, list of query subsets), cached under ``cache``.

    The queries are the course's own (``load_corpus().queries``), embedded by the stand-in ColBERT;
    their subset ("lexical" or "mismatch") is given when the corpus names one.
    """
    corpus = load_corpus()
    query_ids = list(corpus.queries)
    subsets = [getattr(corpus, "query_subsets", {}).get(q, "all") for q in query_ids]
    folder = None if cache is None else collection_folder(cache, n_passages, seed, noise)
    if folder is not None and (folder / "queries.npy").is_file():
        packed = PackedCorpus(np.load(folder / "vectors.npy", mmap_mode="r"), np.load(folder / "offsets.npy"))
        queries = np.load(folder / "queries.npy")
        if len(queries) == len(query_ids):
            return packed, list(queries), subsets
    passages, queries = standin_colbert_vectors(corpus.passage_texts, [corpus.queries[q] for q in query_ids])
    packed = compose(passages, n_passages, seed=seed, noise=noise)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", packed.vectors)
        np.save(folder / "offsets.npy", packed.offsets)
        np.save(folder / "queries.npy", np.stack(queries))
    return packed, queries, subsets
