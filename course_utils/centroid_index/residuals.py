"""ColBERTv2's residual compression: a token = its centroid's id + its residual in ``b`` bits per number.

A token vector ``v`` whose nearest centroid is ``C[c]`` has the residual ``r = v - C[c]``, a
``(dim,)`` vector of small numbers. Each number of ``r`` is stored as one of ``2 ** b`` *buckets*:

- the ``2 ** b - 1`` **cut-offs** split the residual values of the corpus into buckets of equal
  count: ``cutoffs[i] = quantile(all residual numbers, (i + 1) / 2 ** b)``;
- the ``2 ** b`` **weights** are what each bucket is read back as:
  ``weights[i] = quantile(all residual numbers, (i + 0.5) / 2 ** b)``, the middle of the bucket;
- ``bucket(x) = number of cut-offs strictly below x`` (``np.searchsorted(cutoffs, x, "left")``,
  torch's ``bucketize``);
- decoding: ``v' = normalise(C[c] + weights[buckets])``.

A token then takes ``4`` bytes (the int32 centroid id) plus ``dim * b / 8`` bytes of packed buckets:
36 bytes at 128-d and 2 bits, 20 at 1 bit, against 256 in float16 (ColBERTv2's figures).

>>> codec = ResidualCodec.train(np.array([-0.3, -0.1, 0.1, 0.3]), bits=1)   # quantiles 0.5; 0.25, 0.75
>>> codec.cutoffs, codec.weights
(array([0.], dtype=float32), array([-0.15,  0.15], dtype=float32))
>>> codec.buckets(np.array([[-0.05, 0.4]]))
array([[0, 1]], dtype=uint8)
>>> bytes_per_token(128, 2)
36
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.scoring.maxsim import as_token_vectors

__all__ = ["BITS", "CODE_BYTES", "ResidualCodec", "bytes_per_token", "check_bits"]

#: Bits per residual number the codec offers.
BITS = (1, 2, 4)
#: Bytes of a token's centroid id (int32, as ColBERTv2 stores it).
CODE_BYTES = 4


def check_bits(bits) -> int:
    """``bits`` as an int, or ValueError naming it when it is not one of :data:`BITS`."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits not in BITS:
        raise ValueError(f"bits must be one of {BITS} (bits per residual number), got {bits!r}")
    return int(bits)


def bytes_per_token(dim: int, bits: int) -> int:
    """Bytes one compressed token takes: its int32 centroid id plus ``ceil(dim * bits / 8)`` bytes of buckets."""
    return CODE_BYTES + math.ceil(dim * check_bits(bits) / 8)


@dataclass(frozen=True)
class ResidualCodec:
    """The learnt bucket cut-offs and weights of ``bits``-bit residuals.

    Attributes:
        bits: 1, 2 or 4 bits per residual number.
        cutoffs: float32 ``(2 ** bits - 1,)``, increasing.
        weights: float32 ``(2 ** bits,)``, what each bucket decodes to.
    """

    bits: int
    cutoffs: np.ndarray
    weights: np.ndarray

    def __post_init__(self):
        bits = check_bits(self.bits)
        for name, size in (("cutoffs", 2 ** bits - 1), ("weights", 2 ** bits)):
            values = np.asarray(getattr(self, name), dtype=np.float32)
            if values.shape != (size,) or not np.isfinite(values).all():
                raise ValueError(f"{name} must be {size} finite numbers for {bits}-bit residuals, "
                                 f"got shape {values.shape}")
            object.__setattr__(self, name, values)

    @classmethod
    def train(cls, residuals, bits: int) -> ResidualCodec:
        """Cut-offs and weights from the quantiles of every number of ``residuals`` (any shape).

        Raises:
            ValueError: ``bits`` not in :data:`BITS`; no residuals; NaN or infinity.
        """
        bits = check_bits(bits)
        values = np.asarray(residuals, dtype=np.float64).ravel()
        if values.size == 0:
            raise ValueError("residuals is empty: the codec needs residual values to learn its buckets from")
        if not np.isfinite(values).all():
            raise ValueError("residuals contains NaN or infinity")
        n = 2 ** bits
        cutoffs = np.quantile(values, np.arange(1, n) / n)
        weights = np.quantile(values, (np.arange(n) + 0.5) / n)
        return cls(bits, cutoffs.astype(np.float32), weights.astype(np.float32))

    def buckets(self, residuals) -> np.ndarray:
        """uint8 array of ``residuals``' shape: for each number, how many cut-offs lie strictly below it."""
        return np.searchsorted(self.cutoffs, np.asarray(residuals, dtype=np.float32), side="left").astype(np.uint8)

    def pack(self, buckets: np.ndarray) -> np.ndarray:
        """uint8 ``(n, ceil(dim * bits / 8))``: each number's ``bits`` bits (high bit first), row after row."""
        buckets = np.asarray(buckets, dtype=np.uint8)
        shifts = np.arange(self.bits - 1, -1, -1, dtype=np.uint8)
        bits = (buckets[..., None] >> shifts) & 1                       # (n, dim, bits)
        return np.packbits(bits.reshape(len(buckets), -1), axis=1)

    def unpack(self, packed: np.ndarray, dim: int) -> np.ndarray:
        """The inverse of :meth:`pack`: uint8 ``(n, dim)`` buckets."""
        bits = np.unpackbits(np.asarray(packed, dtype=np.uint8), axis=1, count=dim * self.bits)
        bits = bits.reshape(len(packed), dim, self.bits)
        weights = (1 << np.arange(self.bits - 1, -1, -1)).astype(np.uint8)
        return (bits * weights).sum(axis=2, dtype=np.uint8)

    def encode(self, vectors, centroids, codes) -> np.ndarray:
        """Packed buckets of ``vectors - centroids[codes]``: uint8 ``(n, ceil(dim * bits / 8))``.

        Args:
            vectors: ``(n, dim)`` token vectors.
            centroids: ``(k, dim)``.
            codes: int ``(n,)``, each token's centroid.
        """
        centroids = as_token_vectors(centroids, "centroids")
        vectors = as_token_vectors(vectors, "vectors", centroids.shape[1])
        return self.pack(self.buckets(vectors - centroids[np.asarray(codes)]))

    def decode(self, packed, centroids, codes, *, normalise: bool = True) -> np.ndarray:
        """Token vectors back: float32 ``(n, dim)`` = ``centroids[codes] + weights[buckets]``, unit length
        when ``normalise`` (ColBERTv2 normalises what it decompresses)."""
        centroids = np.asarray(centroids, dtype=np.float32)
        buckets = self.unpack(packed, centroids.shape[1])
        vectors = centroids[np.asarray(codes)] + self.weights[buckets]
        if normalise:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.where(norms > 0, norms, 1)
        return vectors
