"""Build the accumulator trace of one output cell.

The trace follows the same formulas as :mod:`qdebug_tui.emulators`, on one cell's receptive
field instead of the whole tensor, so it costs O(K) however large the layer is. A test checks
that both give the same accumulator and output on random layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.layers import receptive_field
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import check_supported
from qdebug_tui.emulators.kernels import kernel_order, kernel_padding_value, onednn_combined_scale, wrap_int32
from qdebug_tui.emulators.operands import ZERO_SLOT
from qdebug_tui.emulators.requantize import (
    RequantSteps,
    fbgemm_bias_term,
    fbgemm_requant_params,
    onednn_requant_params,
    output_bounds,
    qnnpack_requant_params,
    requantize_fbgemm_f32,
    requantize_onednn_f32,
    requantize_qnnpack_f32,
    select_channel,
)
from qdebug_tui.emulators.saturation import PairSum, row_pair_sums
from qdebug_tui.emulators.targets import KernelTarget, resolve_target
from qdebug_tui.numerics.reference import channel_axis, weight_scales_per_output
from qdebug_tui.numerics.rounding import f32, quantize_zero_point_first
from qdebug_tui.trace.model import (
    BackendAccumulation,
    BiasTrace,
    ExactTrace,
    FloatPathTrace,
    RequantTrace,
    Term,
    ZeroPointCorrection,
)

_ROUNDING_RULES = {
    "fbgemm": "q = rne(y) by cvtps2dq (INT32_MIN when |y| ≥ 2^31), then the zero point is added and the result clamped",
    "qnnpack": "q = rne(y) by cvtps2dq (INT32_MIN when |y| ≥ 2^31), then the zero point is added and the result clamped",
    "onednn": "q = rne(f32(y + z_o)) after clamping to the output range: the zero point is added before rounding",
}

FLOAT_PATH_RULE = (
    "torch.quantize_per_tensor (torch 2.13): q = clamp(rne(fma(x, f32(1 / f32(s_o)), z_o))), "
    "the zero point added before rounding"
)


class CellIndexError(ValueError):
    """An output index that is malformed or outside the output shape."""


@dataclass(frozen=True)
class CellOperands:
    """One cell's taps in PyTorch's K order, with the raw values the kernel multiplies."""

    channel: int
    weight_zero_point: int
    raw_activations: np.ndarray
    weights: np.ndarray
    terms_by_k: list[Term]
    order: np.ndarray


def check_index(scenario: Scenario, index) -> tuple[int, ...]:
    """Return ``index`` as a tuple of ints; raise :class:`CellIndexError` naming the allowed range."""
    shape = scenario.output_shape
    allowed = ", ".join(f"0..{size - 1}" for size in shape)
    try:
        cell = tuple(int(i) for i in index)
    except (TypeError, ValueError):
        raise CellIndexError(f"invalid cell {index!r}: expected {len(shape)} integers in the ranges {allowed}") from None
    if len(cell) != len(shape):
        raise CellIndexError(
            f"cell {list(cell)} has {len(cell)} indices; the output shape {list(shape)} needs {len(shape)} ({allowed})"
        )
    for axis, (i, size) in enumerate(zip(cell, shape)):
        if not 0 <= i < size:
            raise CellIndexError(f"cell index {i} at position {axis} is out of range 0..{size - 1} (output shape {list(shape)})")
    return cell


def cell_operands(scenario: Scenario, index: tuple[int, ...], target: KernelTarget) -> CellOperands:
    """Collect the cell's taps, raw activations (kernel padding) and weights in PyTorch's order."""
    layer = scenario.layer
    channel = index[channel_axis(scenario)]
    taps = receptive_field(layer, scenario.input.shape, scenario.weight.shape, index)
    z_x = scenario.input.qparams.zero_points[0]
    z_w = int(scenario.weight.qparams.zero_point_array()[channel if scenario.weight.qparams.per_channel else 0])
    padding = kernel_padding_value(scenario, target)
    raw, weights, terms = [], [], []
    for k, tap in enumerate(taps):
        q_x = z_x if tap.input_index is None else int(scenario.input.q[tap.input_index])
        q_w = int(scenario.weight.q[tap.weight_index])
        raw.append(padding if tap.input_index is None else q_x)
        weights.append(q_w)
        terms.append(Term(-1, k, tap.input_index, q_x, q_x - z_x, tap.weight_index, q_w, q_w - z_w, (q_x - z_x) * (q_w - z_w), raw[-1]))
    order = kernel_order(scenario, target)
    return CellOperands(channel, z_w, np.asarray(raw, dtype=np.int64), np.asarray(weights, dtype=np.int64), terms, order)


def terms_in_kernel_order(operands: CellOperands) -> tuple[Term, ...]:
    """Return the terms in the kernel's K order, numbered by their slot; zero slots are left out."""
    terms = []
    for slot, k in enumerate(operands.order):
        if k != ZERO_SLOT:
            term = operands.terms_by_k[int(k)]
            terms.append(
                Term(slot, term.k, term.input_index, term.q_x, term.x_centered, term.weight_index,
                     term.q_w, term.w_centered, term.product, term.raw_x)
            )
    return tuple(terms)


def backend_accumulation(scenario: Scenario, target: KernelTarget, operands: CellOperands, exact: int) -> BackendAccumulation:
    """Sum the cell's products as the kernel in ``target`` does."""
    notes = (target.reason, *target.notes)
    if target.library == "qnnpack":
        bias_int32 = int(np.ravel(qnnpack_requant_params(scenario).bias_int32)[operands.channel])
        summation = "(q_x − z_x)(q_w − z_w) as int16 operands, summed exactly in int32 (pmaddwd, paddd)"
        accumulator = int(wrap_int32(exact + bias_int32))
        return BackendAccumulation(target.library, target.engine, target.kernel_path, target.isa, False, summation, (), None, None, None, bias_int32, accumulator, notes)

    pairs = row_pair_sums(operands.raw_activations, operands.weights, operands.order)
    if not target.saturating:
        pairs = [PairSum(p.slots, p.k, p.activations, p.weights, p.exact, p.exact) for p in pairs]
    raw_sum = sum(pair.exact for pair in pairs)
    pair_sum = sum(pair.saturated for pair in pairs)
    z_x = scenario.input.qparams.zero_points[0]
    if target.library == "fbgemm":
        z_w = operands.weight_zero_point
        reduction = len(operands.terms_by_k)
        correction = ZeroPointCorrection(int(operands.raw_activations.sum()), int(operands.weights.sum()) - z_w * reduction, z_x, z_w)
        accumulator = int(wrap_int32(pair_sum - correction.column_term - correction.row_term))
    else:
        inside = np.array([term.input_index is not None for term in operands.terms_by_k])
        correction = ZeroPointCorrection(0, int(operands.weights[inside].sum()), z_x, 0)
        accumulator = int(wrap_int32(pair_sum - correction.column_term))
    summation = _summation(target)
    return BackendAccumulation(
        target.library, target.engine, target.kernel_path, target.isa, target.saturating, summation,
        tuple(pairs), raw_sum, pair_sum, correction, None, accumulator, notes,
    )


def _summation(target: KernelTarget) -> str:
    if target.saturating:
        return (
            "raw u8 × s8 products added in adjacent pairs with int16 saturation (vpmaddubsw), "
            "the pair sums added exactly in int32 (vpmaddwd, vpaddd)"
        )
    if target.kernel_path == "reference":
        return "oneDNN's reference kernel: (q_x − z_x) · q_w summed exactly in int32"
    if target.kernel_path == "depthwise" and target.library == "onednn":
        return "oneDNN's depthwise kernel: products widened to int32 and summed exactly"
    return "raw u8 × s8 products summed exactly in int32, four at a time (vpdpbusd)"


def requantize_cell(scenario: Scenario, target: KernelTarget, channel: int, accumulator) -> RequantSteps:
    """Requantize one accumulator (int, or array of candidates) as ``target``'s library does."""
    accumulator = np.asarray(accumulator, dtype=np.int64)
    if target.library == "fbgemm":
        return requantize_fbgemm_f32(accumulator, select_channel(fbgemm_requant_params(scenario), channel))
    if target.library == "onednn":
        params = select_channel(onednn_requant_params(scenario), channel)
        return requantize_onednn_f32(
            accumulator, params, scenario.layer.relu, target.kernel_path == "reference", onednn_combined_scale(scenario, target)
        )
    return requantize_qnnpack_f32(accumulator, select_channel(qnnpack_requant_params(scenario), channel))


def requant_trace(scenario: Scenario, target: KernelTarget, channel: int, steps: RequantSteps) -> RequantTrace:
    """Describe one cell's requantization."""
    bounds = output_bounds(scenario)
    s_w = float(weight_scales_per_output(scenario)[channel])
    exact_multiplier = scenario.input.qparams.scales[0] * s_w / scenario.output.scale
    zero_point_added = "before rounding" if target.library == "onednn" else "after rounding"
    return RequantTrace(
        float(steps.multiplier), exact_multiplier, float(steps.value), float(steps.scaled), float(steps.before_rounding),
        _ROUNDING_RULES[target.library], bounds.zero_point, zero_point_added, bounds.low, bounds.high,
        bool(steps.overflow), int(steps.rounded), int(steps.q),
    )


def bias_trace(scenario: Scenario, target: KernelTarget, channel: int, backend: BackendAccumulation) -> BiasTrace:
    """Describe how the engine applies the cell's bias."""
    if scenario.bias is None:
        return BiasTrace(None, "none", 0.0, 0.0, 0.0)
    real = float(np.float32(scenario.bias.values[channel]))
    s_w = float(weight_scales_per_output(scenario)[channel])
    exact = real / (scenario.input.qparams.scales[0] * s_w)
    if target.library == "qnnpack":
        mode = "rounded to int32: rne(f32(bias · f32(1 / f32(s_x · s_w)))) with the product in float64, added to the accumulator"
        applied = float(backend.bias_int32)
    elif target.library == "fbgemm":
        mode = "kept in float32: added to f32(accumulator) as bias / f32(s_x · s_w) before scaling"
        applied = float(np.ravel(fbgemm_bias_term(select_channel(fbgemm_requant_params(scenario), channel)))[0])
    else:
        params = select_channel(onednn_requant_params(scenario), channel)
        mode = "kept in float32: added after the accumulator is scaled by S_src · S_w"
        applied = real / float(params.src_scale * params.weight_scale)
    return BiasTrace(real, mode, exact, applied, applied - exact)


def exact_trace(scenario: Scenario, channel: int, accumulator: int) -> ExactTrace:
    """Compute the cell's exact output with rational arithmetic (ties to even)."""
    s_w = Fraction(float(weight_scales_per_output(scenario)[channel]))
    value = accumulator * Fraction(scenario.input.qparams.scales[0]) * s_w
    if scenario.bias is not None:
        value += Fraction(float(np.float32(scenario.bias.values[channel])))
    if scenario.layer.relu:
        value = max(value, Fraction(0))
    scaled = value / Fraction(scenario.output.scale)
    bounds = output_bounds(scenario)
    unclamped = round(scaled) + bounds.zero_point
    q = min(max(unclamped, bounds.low), bounds.high)
    return ExactTrace(accumulator, float(value), float(scaled), q, unclamped)


def float_path_trace(scenario: Scenario, operands: CellOperands, float_real: float | None, float_q: int | None) -> FloatPathTrace:
    """Recompute the float path for the cell; ``float_real`` and ``float_q`` are torch's values if known."""
    s_x = f32(scenario.input.qparams.scales[0])
    s_w = f32(float(weight_scales_per_output(scenario)[operands.channel]))
    x = np.array([term.x_centered for term in operands.terms_by_k], dtype=np.float32) * s_x
    w = np.array([term.w_centered for term in operands.terms_by_k], dtype=np.float32) * s_w
    products = (x * w).astype(np.float32)
    sum_f32 = float(np.cumsum(products, dtype=np.float32)[-1]) if products.size else 0.0
    sum_exact = float(np.dot(x.astype(np.float64), w.astype(np.float64)))
    bias = 0.0 if scenario.bias is None else float(np.float32(scenario.bias.values[operands.channel]))
    if float_real is None:
        real = float(np.float32(np.float32(sum_f32) + np.float32(bias)))
        if scenario.layer.relu:
            real = max(real, 0.0)
        source = "qdebug: the float32 terms summed in PyTorch's order, plus the bias"
    else:
        real = float(float_real)
        source = "torch.nn.functional in float32 (its summation order is its own)"
    out = scenario.output
    q = int(quantize_zero_point_first(real, out.scale, out.zero_point, out.dtype)) if float_q is None else int(float_q)
    return FloatPathTrace(sum_f32, sum_exact, bias, real, source, real / out.scale, FLOAT_PATH_RULE, q)


def resolve(scenario: Scenario, isa: str, cpu: CpuInfo | None, environ: Mapping[str, str] | None) -> KernelTarget:
    """Check that the scenario can be emulated and return its kernel target."""
    check_supported(scenario)
    return resolve_target(scenario, isa, cpu=cpu, environ=environ)
