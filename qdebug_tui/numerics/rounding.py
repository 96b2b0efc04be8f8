"""Named float32 rounding steps and quantization rules, reproduced bit for bit in NumPy.

Every function states its rule. ``f32`` means rounding to the nearest float32; ``rne`` means
rounding to the nearest integer with ties to even, which is what ``nearbyint`` does in the
default floating-point environment of PyTorch's kernels.
"""

from __future__ import annotations

import numpy as np

from qdebug_tui.core.dtypes import QDtype


def f32(values) -> np.ndarray:
    """Round to the nearest float32."""
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def rne(values: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, ties to even (``np.rint``), keeping the float dtype."""
    return np.rint(values)


def fma_f32(a, b, c) -> np.ndarray:
    """Return ``f32(a * b + c)`` with one rounding, as a float32 fused multiply-add does.

    The product of two float32 values is exact in float64. Adding ``c`` in float64 can round
    once more. That extra rounding only matters when the float64 sum lands exactly halfway
    between two float32 values, and then the sign of the exact error from TwoSum decides.
    """
    a = np.asarray(a, dtype=np.float32).astype(np.float64)
    b = np.asarray(b, dtype=np.float32).astype(np.float64)
    c = np.asarray(c, dtype=np.float32).astype(np.float64)
    product = a * b
    total = product + c
    # TwoSum: the exact rounding error of the float64 addition.
    b_virtual = total - product
    a_virtual = total - b_virtual
    error = (product - a_virtual) + (c - b_virtual)

    rounded = total.astype(np.float32)
    back = rounded.astype(np.float64)
    toward = np.where(total > back, np.inf, -np.inf).astype(np.float32)
    neighbour = np.nextafter(rounded, toward)
    halfway = (total != back) & (total - back == (neighbour.astype(np.float64) - back) / 2)
    # At a halfway point float32 rounding went to even; the true sum lies on the side of
    # ``error``: away from ``back`` when the error points away, back to ``back`` otherwise.
    away = np.sign(error) == np.sign(total - back)
    fix_to_neighbour = halfway & (error != 0) & away & (rounded == back.astype(np.float32))
    fix_to_back = halfway & (error != 0) & ~away & (rounded != back.astype(np.float32))
    result = np.where(fix_to_neighbour, neighbour, rounded)
    result = np.where(fix_to_back, back.astype(np.float32), result)
    return result.astype(np.float32)


def dequantize(q: np.ndarray, scale, zero_point) -> np.ndarray:
    """Return ``f32((q − zero_point) · f32(scale))``, as ``Tensor.dequantize`` computes it."""
    centered = (np.asarray(q, dtype=np.int64) - np.asarray(zero_point, dtype=np.int64)).astype(np.float32)
    return centered * f32(scale)


def quantize_zero_point_first(real, scale, zero_point, dtype: QDtype) -> np.ndarray:
    """Quantize as ``torch.quantize_per_tensor`` and ``quantize_per_channel`` do in torch 2.13.

    ``q = clamp(rne(fma_f32(x, f32(1 / f32(scale)), zero_point)), qmin, qmax)``: the zero
    point is added before rounding, so ties can round differently from ``rne(x / s) + zp``.
    The reciprocal is a float32 division.
    """
    inverse = np.float32(1.0) / f32(scale)
    values = fma_f32(f32(real), inverse, f32(zero_point))
    return np.clip(rne(values), dtype.qmin, dtype.qmax).astype(np.int64)


def quantize_round_first(real, scale, zero_point, dtype: QDtype) -> np.ndarray:
    """Quantize as ``torch.ao.quantization.fx._decomposed.quantize_per_tensor`` does.

    ``q = clamp(rne(f32(x · f32(1 / scale))) + zero_point, qmin, qmax)``: rounding first,
    then the zero point.
    """
    inverse = f32(1.0 / np.asarray(scale, dtype=np.float64))
    values = rne(f32(real) * inverse)
    return np.clip(values + np.asarray(zero_point, dtype=np.int64), dtype.qmin, dtype.qmax).astype(np.int64)
