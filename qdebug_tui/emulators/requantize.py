"""Requantization: how each library turns its int32 accumulator into the output integer.

All three work in float32 and round half to even (``cvtps2dq`` in the default rounding
mode). They differ in where the bias enters, how the multiplier is formed and whether the
output zero point is added before or after rounding. Every function is vectorised; the
accumulator trace calls the same functions on one cell.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from qdebug_tui.core.dtypes import INT32_MIN
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.numerics.reference import per_output_channel, weight_scales_per_output
from qdebug_tui.numerics.rounding import f32, fma_f32, rne

# cvtps2dq returns this "integer indefinite" value for a float outside the int32 range.
_INT32_INDEFINITE = INT32_MIN
_TWO_POW_31 = 2.0**31


@dataclass(frozen=True)
class RequantSteps:
    """The intermediate values of one requantization, each broadcast to the output shape.

    ``value`` is the float32 value that is multiplied (accumulator plus float bias, if any).
    ``scaled`` is the result in output LSB before the zero point. ``before_rounding`` is the
    value that is rounded: ``scaled`` for FBGEMM and QNNPACK, ``scaled`` + zero point for
    oneDNN. ``rounded`` is INT32_MIN where ``overflow`` is set.
    """

    value: np.ndarray
    multiplier: np.ndarray
    scaled: np.ndarray
    before_rounding: np.ndarray
    rounded: np.ndarray
    overflow: np.ndarray
    q: np.ndarray


@dataclass(frozen=True)
class OutputBounds:
    """The output zero point and the clamp range, raised to the zero point by a fused ReLU."""

    zero_point: int
    low: int
    high: int


def output_bounds(scenario: Scenario) -> OutputBounds:
    """Return the zero point and clamp range of the output."""
    out = scenario.output
    low = max(out.zero_point, out.dtype.qmin) if scenario.layer.relu else out.dtype.qmin
    return OutputBounds(out.zero_point, low, out.dtype.qmax)


def select_channel(params, channel: int):
    """Return a copy of a requantization parameter object with every array cut to one channel.

    Arrays broadcast per output channel become 0-d arrays of ``channel``'s value; per-tensor
    values (one element) are kept.
    """
    changes = {}
    for item in fields(params):
        value = getattr(params, item.name)
        if isinstance(value, np.ndarray):
            flat = value.ravel()
            changes[item.name] = flat[channel if flat.size > 1 else 0].reshape(())
    return replace(params, **changes)


def round_f32_to_i32_rne(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round float32 values half to even to int32 as ``cvtps2dq`` does.

    Returns the integers as int64 and a mask of the values outside [−2^31, 2^31), which
    ``cvtps2dq`` turns into INT32_MIN.
    """
    values = np.asarray(values, dtype=np.float32).astype(np.float64)
    overflow = (values >= _TWO_POW_31) | (values < -_TWO_POW_31) | np.isnan(values)
    safe = np.where(overflow, 0.0, values)
    return np.where(overflow, _INT32_INDEFINITE, rne(safe).astype(np.int64)), overflow


# FBGEMM ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FbgemmRequantParams:
    """FBGEMM's requantization constants per output channel, broadcast to the output.

    ``act_times_w_scale = f32(f32(s_x) · f32(s_w))``, ``multiplier = f32(act_times_w_scale /
    f32(s_o))``. ``bias`` is the float32 bias or None.
    """

    act_times_w_scale: np.ndarray
    multiplier: np.ndarray
    bias: np.ndarray | None
    per_channel: bool
    bounds: OutputBounds


def fbgemm_requant_params(scenario: Scenario) -> FbgemmRequantParams:
    """Compute FBGEMM's constants as PyTorch's fbgemm conv and linear set them up."""
    s_x = f32(scenario.input.qparams.scales[0])
    s_w = f32(weight_scales_per_output(scenario))
    act_times_w_scale = f32(s_x.astype(np.float64) * s_w)
    multiplier = f32(act_times_w_scale.astype(np.float64) / f32(scenario.output.scale))
    bias = None if scenario.bias is None else per_output_channel(scenario, f32(scenario.bias.values))
    return FbgemmRequantParams(
        per_output_channel(scenario, act_times_w_scale),
        per_output_channel(scenario, multiplier),
        bias,
        scenario.weight.qparams.per_channel,
        output_bounds(scenario),
    )


def requantize_fbgemm_f32(accumulator: np.ndarray, params: FbgemmRequantParams) -> RequantSteps:
    """Requantize as FBGEMM's ``requantizeOutputProcessingAvx2`` (src/QuantUtilsAvx2.cc).

    ``x = f32(acc)``; with a bias and per-tensor weights ``x = fma32(bias, f32(1.0 /
    (double)act_times_w_scale), x)``, with per-channel weights ``x = f32(x + f32(bias /
    act_times_w_scale))``; then ``y = f32(x · multiplier)``, ``q = rne(y)`` (INT32_MIN when
    |y| ≥ 2^31) and ``out = clamp(q + z_o, low, high)``: the zero point is added after rounding.
    """
    value = f32(accumulator)
    if params.bias is not None:
        if params.per_channel:
            value = f32(value.astype(np.float64) + fbgemm_bias_term(params))
        else:
            reciprocal = f32(1.0 / params.act_times_w_scale.astype(np.float64))
            value = fma_f32(params.bias, reciprocal, value)
    scaled = f32(value.astype(np.float64) * params.multiplier)
    rounded, overflow = round_f32_to_i32_rne(scaled)
    bounds = params.bounds
    q = np.clip(rounded + bounds.zero_point, bounds.low, bounds.high)
    return RequantSteps(value, params.multiplier, scaled, scaled, rounded, overflow, q.astype(np.int64))


def fbgemm_bias_term(params: FbgemmRequantParams) -> np.ndarray:
    """Return the bias in accumulator units as FBGEMM adds it, in float32.

    Per-channel weights: ``f32(bias / act_times_w_scale)``. Per-tensor weights: the product
    ``bias · f32(1.0 / act_times_w_scale)`` rounded to float32 for display; the kernel fuses it
    into one multiply-add with the accumulator.
    """
    if params.bias is None:
        return np.zeros_like(params.multiplier)
    scale = params.act_times_w_scale.astype(np.float64)
    if params.per_channel:
        return f32(params.bias.astype(np.float64) / scale)
    return f32(params.bias.astype(np.float64) * f32(1.0 / scale))


# oneDNN ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnednnRequantParams:
    """oneDNN's scales as PyTorch hands them over, broadcast to the output.

    The input and output scales reach oneDNN as reciprocals that it inverts again, so they
    are ``f32(1 / f32(1 / s))``. The weight scales are inverted twice the same way for linear
    layers, but reach conv kernels as plain ``f32(s_w)`` (measured: on cells where the two
    differ, torch 2.13's conv follows the plain scale).
    """

    src_scale: np.ndarray
    weight_scale: np.ndarray
    dst_scale: np.ndarray
    dst_reciprocal: np.ndarray
    bias: np.ndarray | None
    bounds: OutputBounds


def twice_inverted_f32(scale) -> np.ndarray:
    """Return ``f32(1 / f32(1 / s))``, a scale after PyTorch inverts it and oneDNN inverts it back."""
    inverse = f32(1.0 / np.asarray(scale, dtype=np.float64))
    return f32(1.0 / inverse.astype(np.float64))


def onednn_requant_params(scenario: Scenario) -> OnednnRequantParams:
    """Compute oneDNN's scales as ``quantized::conv2d`` and ``quantized::linear`` pass them."""
    src_scale = twice_inverted_f32(scenario.input.qparams.scales[0])
    weight_scales = weight_scales_per_output(scenario)
    weight_scale = f32(weight_scales) if scenario.layer.is_conv else twice_inverted_f32(weight_scales)
    dst_scale = twice_inverted_f32(scenario.output.scale)
    dst_reciprocal = f32(1.0 / dst_scale.astype(np.float64))
    bias = None if scenario.bias is None else per_output_channel(scenario, f32(scenario.bias.values))
    return OnednnRequantParams(
        np.asarray(src_scale),
        per_output_channel(scenario, weight_scale),
        np.asarray(dst_scale),
        np.asarray(dst_reciprocal),
        bias,
        output_bounds(scenario),
    )


def requantize_onednn_f32(
    accumulator: np.ndarray,
    params: OnednnRequantParams,
    relu: bool,
    reference_kernel: bool = False,
    combined_scale: bool = False,
) -> RequantSteps:
    """Requantize as oneDNN's int8 kernels (v3.12, as bundled with torch 2.13) do.

    ``d = f32(f32(f32(acc) · S_src) · S_w)``. With ``combined_scale`` (the AVX2 jit conv
    kernels, measured) it is ``d = f32(f32(acc) · f32(S_src · S_w))`` instead. Then
    ``d = f32(d + bias)`` and ReLU as ``max(d, 0)``. The jit and brgemm kernels compute
    ``y = f32(d · f32(1 / S_dst))``, and the reference kernel (``reference_kernel``,
    src/cpu/ref_convolution_int8.cpp) ``y = f32(d / S_dst)``. Finally
    ``out = clamp(rne(f32(y + z_o)), low, high)``. The zero point is added before rounding,
    and the float is clamped before it is converted, so an overflow saturates instead of
    wrapping.
    """
    if combined_scale:
        scale = f32(params.src_scale.astype(np.float64) * params.weight_scale)
        value = f32(f32(accumulator).astype(np.float64) * scale)
    else:
        value = f32(f32(f32(accumulator).astype(np.float64) * params.src_scale).astype(np.float64) * params.weight_scale)
    if params.bias is not None:
        value = f32(value.astype(np.float64) + params.bias)
    if relu:
        value = np.maximum(value, np.float32(0))
    if reference_kernel:
        scaled = f32(value.astype(np.float64) / params.dst_scale)
    else:
        scaled = f32(value.astype(np.float64) * params.dst_reciprocal)
    bounds = params.bounds
    before_rounding = f32(scaled.astype(np.float64) + bounds.zero_point)
    clamped = np.clip(before_rounding, bounds.low, bounds.high)
    rounded = rne(clamped).astype(np.int64)
    overflow = np.zeros(np.shape(rounded), dtype=bool)
    multiplier = f32(params.src_scale.astype(np.float64) * params.weight_scale * params.dst_reciprocal)
    return RequantSteps(value, multiplier, scaled, before_rounding, rounded, overflow, rounded)


# QNNPACK -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QnnpackRequantParams:
    """QNNPACK's constants per output channel, broadcast to the output.

    ``act_times_w_scale = f32(f32(s_w) · f32(s_x))``; ``multiplier = f32(act_times_w_scale ·
    f32(1 / s_o))``. The bias is quantized by ``torch.quantize_per_tensor(bias, s_x · s_w, 0,
    qint32)`` with the scale product taken in float64: ``bias_int32 = rne(f32(bias · f32(1 /
    f32(s_x · s_w))))``, or zeros. The two products can differ by one float32 ulp.
    """

    act_times_w_scale: np.ndarray
    multiplier: np.ndarray
    bias_int32: np.ndarray
    bounds: OutputBounds


def qnnpack_requant_params(scenario: Scenario) -> QnnpackRequantParams:
    """Compute QNNPACK's constants as PyTorch's qnnpack conv and linear set them up."""
    s_x = f32(scenario.input.qparams.scales[0])
    s_w = f32(weight_scales_per_output(scenario))
    act_times_w_scale = f32(s_w.astype(np.float64) * s_x)
    inverse_output = f32(np.float32(1.0) / f32(scenario.output.scale))
    multiplier = f32(act_times_w_scale.astype(np.float64) * inverse_output)
    if scenario.bias is None:
        bias_int32 = np.zeros(act_times_w_scale.shape, dtype=np.int64)
    else:
        bias_scale = f32(scenario.input.qparams.scales[0] * weight_scales_per_output(scenario))
        inverse = f32(np.float32(1.0) / bias_scale)
        bias_int32 = rne(f32(f32(scenario.bias.values).astype(np.float64) * inverse)).astype(np.int64)
    return QnnpackRequantParams(
        per_output_channel(scenario, act_times_w_scale),
        per_output_channel(scenario, multiplier),
        per_output_channel(scenario, bias_int32),
        output_bounds(scenario),
    )


def requantize_qnnpack_f32(accumulator: np.ndarray, params: QnnpackRequantParams) -> RequantSteps:
    """Requantize as QNNPACK's fp32 SSE2 kernels do; the bias is already in ``accumulator``.

    ``y = f32(f32(acc) · multiplier)``, ``q = rne(y)`` (INT32_MIN when |y| ≥ 2^31), and
    ``out = clamp(q + z_o, low, high)``: the zero point is added after rounding.
    """
    value = f32(accumulator)
    scaled = f32(value.astype(np.float64) * params.multiplier)
    rounded, overflow = round_f32_to_i32_rne(scaled)
    bounds = params.bounds
    q = np.clip(rounded + bounds.zero_point, bounds.low, bounds.high)
    return RequantSteps(value, params.multiplier, scaled, scaled, rounded, overflow, q.astype(np.int64))
