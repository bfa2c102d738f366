"""Scalar (int8) quantization: every number stored in one byte, on a range chosen by a quantile.

Two ways of choosing the range and the codes, side by side (lesson 6 teaches the first and shows
the second in Qdrant Edge).

**The textbook scheme** (:func:`int8_range`, :func:`quantize_int8`, :func:`dequantize_int8`), for
values ``x`` and a ``quantile`` in (0, 1]:

- ``low = quantile_(1 - quantile) / 2 (x)`` and ``high = quantile_(1 + quantile) / 2 (x)`` (numpy's
  ``np.quantile``, linear interpolation over *all* the values): the range keeps ``quantile`` of the
  values and cuts ``(1 - quantile) / 2`` of them at each end;
- ``levels`` codes (default 256), ``step = (high - low) / (levels - 1)``;
- ``code(x) = clip(round((x - low) / step), 0, levels - 1)``, one uint8 (numpy rounds halves to even);
- ``restored(c) = low + c * step``; the round-trip error of a value inside the range is at most
  ``step / 2``; values outside it are clipped to ``low`` or ``high``.

**Qdrant's scheme** (:func:`qdrant_int8_range`, then the same functions with ``levels=128``), as
Qdrant's Rust source does it (``lib/quantization/src/quantile.rs``, ``find_quantile_interval``,
and ``lib/quantization/src/encoded_vectors_u8.rs``, ``alpha_offset_from_min_max`` and
``encode_value``, github.com/qdrant/qdrant at commit 74f3e85b9473c62560006c043e13737ce6b48412):

- it takes a sample of at most 5,000 *vectors* (``SAMPLE_SIZE``; all of them when there are fewer;
  for a multivector, the token vectors), chosen at random without replacement;
- it cuts ``cut = max(1, int(n_vectors * (1 - quantile) / 2))`` *values* off each end (one more
  at the bottom) of the
  sample's ``n_vectors * dim`` values: the cut counts vectors, not values, so for 128-number
  vectors it clips about 128 times fewer values than the textbook range;
- ``low`` and ``high`` are the smallest and largest values left; ``alpha = (high - low) / 127``
  and codes ``0..127``: 128 levels, not 256 (the scores are computed on the codes as integers);
- the query is encoded with the same range and codes, so its numbers are clipped too.

The sample is drawn with ``permutation_iterator::Permutor::new``, whose key comes from a random
number generator (permutation_iterator 0.1.2, ``FeistelNetwork::new``): a collection of more than
5,000 vectors gets a slightly different range, and so slightly different int8 scores, each time its
quantized copy is built.

When ``high == low`` (all values equal), every code is 0 and every restored value ``low``.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["QDRANT_INT8_LEVELS", "QDRANT_SAMPLE_VECTORS", "dequantize_int8", "int8_range", "qdrant_int8_range",
           "quantize_int8"]

#: Codes Qdrant's int8 scalar quantization uses: 0..127.
QDRANT_INT8_LEVELS = 128
#: Vectors Qdrant samples (at random) to choose the int8 range (``SAMPLE_SIZE`` in ``quantile.rs``).
QDRANT_SAMPLE_VECTORS = 5_000


def _values(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, not {array.dtype} values")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _quantile(quantile) -> float:
    if isinstance(quantile, bool) or not isinstance(quantile, numbers.Real) or not 0 < quantile <= 1:
        raise ValueError(f"quantile must be a number in (0, 1], got {quantile!r}")
    return float(quantile)


def _levels(levels) -> int:
    if isinstance(levels, bool) or not isinstance(levels, numbers.Integral) or not 2 <= levels <= 256:
        raise ValueError(f"levels must be a whole number from 2 to 256 (256 for uint8 codes, 128 as Qdrant), "
                         f"got {levels!r}")
    return int(levels)


def int8_range(values, quantile: float = 0.99) -> tuple[float, float]:
    """``(low, high)``: the range that keeps ``quantile`` of the values, cutting the rest equally at both ends.

    Args:
        values: numbers of any shape (for a corpus: every number of every token vector).
        quantile: share of the values inside the range, in (0, 1]; 1 keeps the minimum and maximum.

    Returns:
        ``(np.quantile(values, (1 - quantile) / 2), np.quantile(values, (1 + quantile) / 2))`` as floats.

    Raises:
        TypeError: not numbers. ValueError: empty, NaN or infinity, ``quantile`` not in (0, 1].
    """
    array = _values(values, "values")
    quantile = _quantile(quantile)
    low, high = np.quantile(array, [(1 - quantile) / 2, (1 + quantile) / 2])
    return float(low), float(high)


def qdrant_int8_range(vectors, quantile: float = 0.99) -> tuple[float, float]:
    """``(low, high)`` as Qdrant chooses it from these vectors (its sample; see the module docstring).

    Args:
        vectors: ``(n_vectors, dim)`` numbers: the vectors Qdrant sampled (pass at most
            :data:`QDRANT_SAMPLE_VECTORS` rows to imitate one build; with more, Qdrant samples).
        quantile: as in ``ScalarQuantizationConfig(quantile=...)``, in (0, 1].

    Returns:
        With ``values`` the ``n_vectors * dim`` numbers sorted and
        ``cut = max(1, min((values.size - 1) // 2, int(n_vectors * (1 - quantile) / 2)))``:
        ``(values[cut + 1], values[-cut - 1])`` (Qdrant's two ``select_nth_unstable`` calls drop
        ``cut + 1`` values at the bottom and ``cut`` at the top); with ``quantile == 1``, fewer than 127 vectors or
        fewer than 4 values, Qdrant uses the minimum and maximum instead.

    Raises:
        TypeError: not numbers. ValueError: not 2-D, empty, NaN or infinity, ``quantile`` not in (0, 1].
    """
    array = _values(vectors, "vectors")
    if array.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array (n_vectors, dim), got shape {array.shape}")
    quantile = _quantile(quantile)
    values = np.sort(array, axis=None)
    n_vectors = len(array)
    if quantile >= 1 or n_vectors < 127 or values.size < 4:
        return float(values[0]), float(values[-1])
    f32 = np.float32  # Qdrant computes the cut in 32-bit floats: int(5000 * (1 - 0.99) / 2) is 24 there
    cut = max(1, min((values.size - 1) // 2, int(f32(n_vectors) * (f32(1) - f32(quantile)) / f32(2))))
    return float(values[cut + 1]), float(values[-cut - 1])


def quantize_int8(values, low: float, high: float, levels: int = 256) -> np.ndarray:
    """uint8 codes, same shape as ``values``: ``clip(round((values - low) / step), 0, levels - 1)``,
    with ``step = (high - low) / (levels - 1)`` (``levels=128``: Qdrant's codes).

    Raises:
        TypeError: not numbers. ValueError: NaN or infinity, ``high < low``, ``levels`` not in 2..256.
    """
    array = _values(values, "values").astype(np.float64)
    levels = _levels(levels)
    if not high >= low:
        raise ValueError(f"high ({high}) must be at least low ({low})")
    if high == low:
        return np.zeros(array.shape, dtype=np.uint8)
    step = (high - low) / (levels - 1)
    return np.clip(np.round((array - low) / step), 0, levels - 1).astype(np.uint8)


def dequantize_int8(codes, low: float, high: float, levels: int = 256) -> np.ndarray:
    """float32 values restored from codes: ``low + codes * (high - low) / (levels - 1)``, same shape as ``codes``."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must be integers (uint8), not {codes.dtype} values")
    levels = _levels(levels)
    return (low + codes.astype(np.float64) * ((high - low) / (levels - 1))).astype(np.float32)
