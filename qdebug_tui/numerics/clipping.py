"""Count the real values that quantization clipped to the dtype's range."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.scenario import QuantizedTensor
from qdebug_tui.numerics.rounding import f32, fma_f32, rne

# A value rounds into range when it lies this far inside the range's half-integer edge.
# It is a little below 0.5 so that the float32 rounding of x / scale cannot tip it over.
_ROUNDING_MARGIN = 0.49


@dataclass(frozen=True)
class Clipping:
    """The count of a tensor's real values that quantized outside ``qmin..qmax`` and were clipped.

    ``sufficient_scale`` is a per-tensor scale that keeps every value in range with the same
    zero point, or None for per-channel quantization. ``zero_point_too_low`` is True when
    negative values clipped because the zero point is ``qmin``, which no scale can fix.
    """

    clipped: int
    total: int
    qmin: int
    qmax: int
    sufficient_scale: float | None
    zero_point_too_low: bool = False


def clipping(tensor: QuantizedTensor) -> Clipping | None:
    """Return the clipping of ``tensor``'s real values, or None when it was given as integers.

    Quantization follows the scenario loader's rule, ``rne(fma(x, f32(1 / scale), zero_point))``
    in float32, before the clamp.
    """
    if tensor.real is None:
        return None
    qparams, dtype = tensor.qparams, tensor.dtype
    real = tensor.real
    scales = qparams.broadcast(qparams.scale_array(), real.ndim)
    zero_points = qparams.broadcast(qparams.zero_point_array(), real.ndim)
    inverse = np.float32(1.0) / f32(scales)
    unclamped = rne(fma_f32(f32(real), inverse, f32(zero_points)))
    clipped = int(np.count_nonzero((unclamped < dtype.qmin) | (unclamped > dtype.qmax)))
    if qparams.per_channel:
        return Clipping(clipped, int(real.size), dtype.qmin, dtype.qmax, None)
    zero_point = qparams.zero_points[0]
    too_low = bool(np.any(unclamped < dtype.qmin)) and zero_point == dtype.qmin
    sufficient = _sufficient_scale(real, zero_point, dtype.qmin, dtype.qmax)
    return Clipping(clipped, int(real.size), dtype.qmin, dtype.qmax, sufficient, too_low)


def _sufficient_scale(real: np.ndarray, zero_point: int, qmin: int, qmax: int) -> float | None:
    """Return a scale, rounded up to three significant digits, that keeps ``real`` in range.

    Negative values count only when the zero point leaves room below it; None when no
    value needs a larger scale.
    """
    largest, smallest = float(real.max()), float(real.min())
    needed = 0.0
    if largest > 0:
        needed = max(needed, largest / (qmax - zero_point + _ROUNDING_MARGIN))
    if smallest < 0 and zero_point > qmin:
        needed = max(needed, smallest / (qmin - zero_point - _ROUNDING_MARGIN))
    if needed == 0.0:
        return None
    exponent = math.floor(math.log10(needed)) - 2
    return math.ceil(needed / 10.0**exponent) * 10.0**exponent
