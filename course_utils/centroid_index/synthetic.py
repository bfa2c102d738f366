"""A large synthetic collection cut from a small real one: windows of token vectors, with noise.

Lesson 8's optional race and the benchmark compose their large collection at the level of token
vectors, from the vectors of whichever model embedded the course's 218 passages: it takes seconds
with the real ColBERT as with the stand-in (embedding 100,000 new passages takes the stand-in under
two minutes on two cores, a BERT-size model far longer on a CPU; not measured here):

1. each new passage is ``windows`` (3 to 6) *windows* of ``window_tokens`` (8 to 20) consecutive token
   vectors, each cut at random (seeded) from a random passage of ``sources``; a window is cut short by
   the end of its source passage;
2. every token vector gets Gaussian noise of standard deviation ``noise / sqrt(dim)`` (norm about
   ``noise``; 0.25 gives a cosine of about 0.97 with the original) and is normalised again, so no
   two passages hold the same vectors and the exact top 10 has no exact ties.

A passage thus carries the words of the passages it was cut from, and a query of the course scores
highest the passages whose windows share its words: the exact top 10 means something.

>>> sources = [np.eye(4, dtype=np.float32)[:3], np.eye(4, dtype=np.float32)[1:]]
>>> big = compose(sources, 5, seed=1, windows=(1, 2), window_tokens=(1, 3))
>>> len(big), big.dim, bool(np.allclose(np.linalg.norm(big.vectors, axis=1), 1))
(5, 4, True)
"""

from __future__ import annotations

import numpy as np

from course_utils.scoring.maxsim import PackedCorpus

__all__ = ["compose"]


def compose(sources, n_passages: int, *, seed: int = 0, windows: tuple[int, int] = (3, 6),
            window_tokens: tuple[int, int] = (8, 20), noise: float = 0.25) -> PackedCorpus:
    """``n_passages`` passages of noisy windows of the ``sources``' token vectors (module docstring).

    Args:
        sources: a PackedCorpus or a list of ``(d_k, dim)`` token vectors of real passages.
        n_passages: passages to make.
        windows: least and most windows per passage.
        window_tokens: least and most token vectors per window.
        noise: norm of the noise added to each unit token vector before normalising again.

    Returns:
        PackedCorpus of ``n_passages`` passages, float32 unit token vectors.

    Raises:
        ValueError: ``n_passages < 1``, a range whose least is below 1 or above its most, ``noise < 0``.
    """
    if isinstance(n_passages, bool) or not isinstance(n_passages, (int, np.integer)) or n_passages < 1:
        raise ValueError(f"n_passages must be a positive whole number, got {n_passages!r}")
    for name, (low, high) in (("windows", windows), ("window_tokens", window_tokens)):
        if not 1 <= low <= high:
            raise ValueError(f"{name} must be (least, most) with 1 <= least <= most, got {(low, high)}")
    if not noise >= 0:
        raise ValueError(f"noise must be at least 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    source = PackedCorpus.from_documents(sources)
    counts = rng.integers(windows[0], windows[1] + 1, size=n_passages)
    n_windows = int(counts.sum())
    which = rng.integers(0, len(source), size=n_windows)
    lengths = np.minimum(rng.integers(window_tokens[0], window_tokens[1] + 1, size=n_windows),
                         source.lengths[which])
    starts = source.offsets[which] + (rng.random(n_windows) * (source.lengths[which] - lengths + 1)).astype(np.int64)
    window_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = np.arange(window_offsets[-1]) + np.repeat(starts - window_offsets[:-1], lengths)
    passage_offsets = window_offsets[np.concatenate([[0], np.cumsum(counts)])]
    vectors = np.empty((len(rows), source.dim), dtype=np.float32)
    scale = np.float32(noise / np.sqrt(source.dim))
    for start in range(0, len(rows), 1 << 18):  # in blocks: bounded extra memory
        block = source.vectors[rows[start:start + (1 << 18)]]
        block += rng.standard_normal(block.shape, dtype=np.float32) * scale
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start:start + len(block)] = block
    return PackedCorpus(vectors, passage_offsets.astype(np.int64))
