"""Scalar (int8) quantization: every number stored in one byte, on a range chosen by a quantile.

For values ``x`` and a ``quantile`` in (0, 1]:

- ``low = quantile_(1 - quantile) / 2 (x)`` and ``high = quantile_(1 + quantile) / 2 (x)`` (numpy's
  ``np.quantile``, linear interpolation): the range keeps ``quantile`` of the values and cuts
  ``(1 - quantile) / 2`` at each end, as Qdrant's ``ScalarQuantizationConfig(quantile=...)`` does
  (Qdrant estimates it from a sample of vectors);
- ``scale = (high - low) / 255``;
- ``code(x) = clip(round((x - low) / scale), 0, 255)``, one uint8 (numpy rounds halves to even);
- ``restored(c) = low + c * scale``; the round-trip error of a value inside the range is at most
  ``scale / 2``; values outside it are clipped to ``low`` or ``high``.

When ``high == low`` (all values equal), every code is 0 and every restored value ``low``.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["dequantize_int8", "int8_range", "quantize_int8"]


def _values(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, not {array.dtype} values")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


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
    if isinstance(quantile, bool) or not isinstance(quantile, numbers.Real) or not 0 < quantile <= 1:
        raise ValueError(f"quantile must be a number in (0, 1], got {quantile!r}")
    low, high = np.quantile(array, [(1 - quantile) / 2, (1 + quantile) / 2])
    return float(low), float(high)


def quantize_int8(values, low: float, high: float) -> np.ndarray:
    """uint8 codes, same shape as ``values``: ``clip(round((values - low) / scale), 0, 255)``,
    with ``scale = (high - low) / 255``.

    Raises:
        TypeError: not numbers. ValueError: NaN or infinity, or ``high < low``.
    """
    array = _values(values, "values").astype(np.float64)
    if not high >= low:
        raise ValueError(f"high ({high}) must be at least low ({low})")
    if high == low:
        return np.zeros(array.shape, dtype=np.uint8)
    scale = (high - low) / 255
    return np.clip(np.round((array - low) / scale), 0, 255).astype(np.uint8)


def dequantize_int8(codes, low: float, high: float) -> np.ndarray:
    """float32 values restored from codes: ``low + codes * (high - low) / 255``, same shape as ``codes``."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must be integers (uint8), not {codes.dtype} values")
    return (low + codes.astype(np.float64) * ((high - low) / 255)).astype(np.float32)
