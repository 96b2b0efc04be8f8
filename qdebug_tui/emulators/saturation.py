"""Pair sums of raw u8 × s8 products clipped to int16, as ``vpmaddubsw`` computes them.

Without AVX512-VNNI, FBGEMM and oneDNN multiply raw uint8 activations by raw int8 weights and
add adjacent products in pairs with signed saturation to int16; the pair sums are then added
exactly in int32 (``vpmaddwd`` with ones, ``vpaddd``). For output cell ``o``::

    s_i      = A[2i] · W[2i] + A[2i+1] · W[2i+1]            exact, |s_i| ≤ 2 · 255 · 128
    sat16(s) = min(max(s, −32768), 32767)
    acc      = Σ_i sat16(s_i) = Σ_k A[k] · W[k] + Σ_i (sat16(s_i) − s_i)

The exact sum comes from a float64 GEMM elsewhere; this module computes the second term, the
clipping correction. Since A ≥ 0, a pair can only clip when 255-bounded activations meet large
weights of one sign: ``max(A[2i]) · W[2i]⁺ + max(A[2i+1]) · W[2i+1]⁺ > 32767`` (or the same with
W⁻ beyond 32768). Only those (pair, output channel) candidates are evaluated, in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.dtypes import INT16_MAX, INT16_MIN
from qdebug_tui.emulators.operands import ZERO_SLOT, GemmOperands

# Elements of one chunk of candidate pair sums (int32), about 16 MB.
_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class SaturationCorrection:
    """Per GEMM cell (N, G, P, O): Σ (sat16(s) − s) over the pairs, and how many pairs clipped."""

    correction: np.ndarray
    clipped_pairs: np.ndarray


@dataclass(frozen=True)
class PairSum:
    """One pair of raw products in the kernel's K order, for the accumulator trace.

    ``slots`` are positions in the kernel's K order; ``k`` are PyTorch-order reduction
    indices, -1 for a zero slot.
    """

    slots: tuple[int, int]
    k: tuple[int, int]
    activations: tuple[int, int]
    weights: tuple[int, int]
    exact: int
    saturated: int

    @property
    def clipped_by(self) -> int:
        """Return sat16(s) − s: negative when the sum was clipped at 32767, positive at −32768."""
        return self.saturated - self.exact


def sat16(values: np.ndarray) -> np.ndarray:
    """Clip to [−32768, 32767], as signed int16 saturation does."""
    return np.clip(values, INT16_MIN, INT16_MAX)


def pair_sums_u8s8_sat16(operands: GemmOperands, order: np.ndarray) -> SaturationCorrection:
    """Return the int16 clipping correction of every GEMM cell for pairs (order[2i], order[2i+1]).

    ``order`` is the kernel's K order (see :mod:`qdebug_tui.emulators.operands`), of even length.
    """
    activations, weights = operands.activations, operands.weights
    batch, groups, positions, _ = activations.shape
    outputs = weights.shape[2]
    correction = np.zeros((batch, groups, positions, outputs), dtype=np.int64)
    clipped = np.zeros_like(correction)

    first, second = _pair_indices(order)
    weights_first = _take_slots(weights, first, axis=1)  # (G, pairs, O)
    weights_second = _take_slots(weights, second, axis=1)
    max_activation = activations.max(axis=(0, 2)).astype(np.int64)  # (G, K)
    max_first = _take_slots(max_activation, first, axis=1)[:, :, None]
    max_second = _take_slots(max_activation, second, axis=1)[:, :, None]

    upper = max_first * np.maximum(weights_first, 0) + max_second * np.maximum(weights_second, 0)
    lower = max_first * np.minimum(weights_first, 0) + max_second * np.minimum(weights_second, 0)
    candidates = np.nonzero((upper > INT16_MAX) | (lower < INT16_MIN))
    if candidates[0].size == 0:
        return SaturationCorrection(correction, clipped)

    group_of, pair_of, output_of = candidates
    column = group_of * outputs + output_of
    by_column = np.argsort(column, kind="stable")
    group_of, pair_of, output_of, column = group_of[by_column], pair_of[by_column], output_of[by_column], column[by_column]
    safe_first = np.where(first == ZERO_SLOT, 0, first)
    safe_second = np.where(second == ZERO_SLOT, 0, second)

    chunk = max(1, _CHUNK_ELEMENTS // max(1, batch * positions))
    for start in range(0, column.size, chunk):
        part = slice(start, start + chunk)
        g, p, o = group_of[part], pair_of[part], output_of[part]
        # Advanced indices split by a slice put the candidate axis first: (c, N, P).
        a_first = activations[:, g, :, safe_first[p]]
        a_second = activations[:, g, :, safe_second[p]]
        w_first = weights_first[g, p, o].astype(np.int32)[:, None, None]
        w_second = weights_second[g, p, o].astype(np.int32)[:, None, None]
        exact = a_first * w_first + a_second * w_second
        difference = (sat16(exact) - exact).astype(np.int64)
        _add_by_column(correction, difference, column[part], g, o)
        _add_by_column(clipped, (difference != 0).astype(np.int64), column[part], g, o)
    return SaturationCorrection(correction, clipped)


def cell_pair_sums(operands: GemmOperands, order: np.ndarray, gemm_index: tuple[int, int, int, int]) -> list[PairSum]:
    """Return every pair of one GEMM cell in the kernel's K order, with its clipped sum."""
    n, g, p, o = gemm_index
    return row_pair_sums(operands.activations[n, g, p], operands.weights[g, :, o], order)


def row_pair_sums(activations: np.ndarray, weights: np.ndarray, order: np.ndarray) -> list[PairSum]:
    """Return the pairs of one cell from its raw activations and weights in PyTorch's K order."""
    row = np.asarray(activations, dtype=np.int64)
    column = np.asarray(weights, dtype=np.int64)
    pairs = []
    for slot in range(0, len(order), 2):
        k_first, k_second = int(order[slot]), int(order[slot + 1])
        a_first, w_first = _slot_values(row, column, k_first)
        a_second, w_second = _slot_values(row, column, k_second)
        exact = a_first * w_first + a_second * w_second
        saturated = min(max(exact, INT16_MIN), INT16_MAX)
        pairs.append(PairSum((slot, slot + 1), (k_first, k_second), (a_first, a_second), (w_first, w_second), exact, saturated))
    return pairs


def _slot_values(row: np.ndarray, column: np.ndarray, k: int) -> tuple[int, int]:
    if k == ZERO_SLOT:
        return 0, 0
    return int(row[k]), int(column[k])


def _pair_indices(order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(order) % 2:
        raise ValueError(f"a kernel K order has even length, got {len(order)}")
    return order[0::2], order[1::2]


def _take_slots(values: np.ndarray, slots: np.ndarray, axis: int) -> np.ndarray:
    """Take ``slots`` along ``axis``; a zero slot gives 0."""
    safe = np.where(slots == ZERO_SLOT, 0, slots)
    gathered = np.take(values, safe, axis=axis).astype(np.int64)
    mask_shape = [1] * gathered.ndim
    mask_shape[axis] = -1
    return np.where((slots == ZERO_SLOT).reshape(mask_shape), 0, gathered)


def _add_by_column(total: np.ndarray, values: np.ndarray, column: np.ndarray, groups: np.ndarray, outputs: np.ndarray) -> None:
    """Add candidate rows of ``values`` (c, N, P) into ``total`` (N, G, P, O), column by column.

    ``column`` is sorted, so each run of equal columns is summed with one ``reduceat``.
    """
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    sums = np.add.reduceat(values, starts, axis=0)
    total[:, groups[starts], :, outputs[starts]] += sums
