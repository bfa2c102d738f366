"""A larger corpus of real-looking text for the benchmarks, embedded by the offline stand-in ColBERT.

The course corpus has 218 passages. For benchmarks that need thousands, :func:`composed_passages`
makes new passages from the course's own sentences (each passage: 2 to 5 sentences drawn at random,
seeded, from all passages), and :func:`standin_colbert_vectors` embeds them and the course's queries
with fastembed's ``LateInteractionTextEmbedding`` on the stand-in ColBERT model, whose token vectors
come from wordllama's trained static token vectors (real, if weak, meaning). Its exact top 10 for a
real query are therefore passages that share the query's words and topics, not near-ties of noise.
"""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np

from course_utils.data import load_corpus
from course_utils.models import LATE_INTERACTION_MODEL


def course_sentences() -> list[str]:
    """Every sentence of the course corpus's passages, in order (split after ``.``, ``!`` or ``?``)."""
    sentences = []
    for text in load_corpus().passage_texts:
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]
    return sentences


def composed_passages(n: int, seed: int = 0, min_sentences: int = 2, max_sentences: int = 5) -> list[str]:
    """``n`` passages, each ``min_sentences`` to ``max_sentences`` course sentences drawn at random (seeded)."""
    if n < 0 or not 1 <= min_sentences <= max_sentences:
        raise ValueError(f"n must be >= 0 and 1 <= min_sentences <= max_sentences, got {n}, "
                         f"{min_sentences}, {max_sentences}")
    sentences = course_sentences()
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_sentences, max_sentences + 1, size=n)
    return [" ".join(sentences[i] for i in rng.choice(len(sentences), size=count, replace=False))
            for count in counts]


def standin_colbert_vectors(passages: list[str], queries: list[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(passage token vectors ``(d_k, 128)`` float32, query vectors ``(32, 128)`` float32) from the stand-in
    ColBERT. Uses the stand-in cache of ``FASTEMBED_CACHE_PATH`` when it holds one (a test session's);
    otherwise builds the stand-ins into a temporary folder (never a user's model cache)."""
    from course_utils.models import cached_snapshot
    from course_utils.models.standins import build_standin_cache

    cache = os.environ.get("FASTEMBED_CACHE_PATH")
    if not (cache and os.environ.get("HF_HUB_OFFLINE") == "1" and cached_snapshot(LATE_INTERACTION_MODEL, cache)):
        cache = tempfile.mkdtemp(prefix="benchmark-standins-")
        build_standin_cache(cache)
        os.environ["FASTEMBED_CACHE_PATH"], os.environ["HF_HUB_OFFLINE"] = cache, "1"
    from fastembed import LateInteractionTextEmbedding

    model = LateInteractionTextEmbedding(LATE_INTERACTION_MODEL, cache_dir=cache)
    documents = [np.asarray(v, dtype=np.float32) for v in model.passage_embed(passages, batch_size=256)]
    query_vectors = [np.asarray(v, dtype=np.float32) for v in model.query_embed(queries)]
    return documents, query_vectors
