"""Cell-by-cell comparison of the float path and the quantized path."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Summary:
    """Totals over all output cells. ``sqnr_db`` is None when there is no quantized output."""

    cells: int
    mismatched: int
    max_abs_diff: int
    sqnr_db: float | None


@dataclass(frozen=True)
class Comparison:
    """Per-cell difference quantized − float path in output LSB, and its summary."""

    diff: np.ndarray
    summary: Summary

    @property
    def mismatch_mask(self) -> np.ndarray:
        return self.diff != 0

    def mismatch_indices(self) -> list[tuple[int, ...]]:
        """Return the indices of differing cells in C order."""
        return [tuple(int(i) for i in index) for index in np.argwhere(self.diff != 0)]


def sqnr_db(reference: np.ndarray, approximation: np.ndarray) -> float:
    """Return 20·log10(‖x‖ / ‖x − y‖), the SQNR that ``torch.ao.ns.fx.utils.compute_sqnr`` defines.

    Returns +inf when the two are equal, and -inf when the reference is all zeros but the
    approximation is not.
    """
    x = np.asarray(reference, dtype=np.float64)
    noise = np.linalg.norm(x - np.asarray(approximation, dtype=np.float64))
    signal = np.linalg.norm(x)
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return float(20 * math.log10(signal / noise))


def compare(float_q: np.ndarray, quantized_q: np.ndarray | None, float_real: np.ndarray, quantized_real: np.ndarray | None) -> Comparison:
    """Compare the two paths' output integers and the signal quality of the quantized output.

    With no quantized output (the kernel refused), every cell counts as matching and the
    differences are zero; the caller shows the refusal instead.
    """
    if quantized_q is None:
        diff = np.zeros(float_q.shape, dtype=np.int64)
        return Comparison(diff, Summary(int(diff.size), 0, 0, None))
    diff = quantized_q.astype(np.int64) - float_q.astype(np.int64)
    mismatched = int(np.count_nonzero(diff))
    max_abs = int(np.abs(diff).max()) if diff.size else 0
    return Comparison(diff, Summary(int(diff.size), mismatched, max_abs, sqnr_db(float_real, quantized_real)))
