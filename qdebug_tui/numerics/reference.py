"""The exact integer reference: what an ideal quantized kernel computes.

For output cell ``o`` with reduction taps ``k``::

    acc[o]  = Σ_k (q_x[k] − z_x) · (q_w[k] − z_w[oc])            exact, int64
    y[o]    = (s_x · s_w[oc] · acc[o] + bias[oc]) / s_o           exact rational arithmetic
    q[o]    = clamp(rne(y[o]) + z_o, lo, qmax)                    lo = z_o with fused ReLU, else qmin

Padding contains the input zero point, so a padded tap contributes 0. Scales are the float64
values in the scenario and the bias is its float32 value; no intermediate is rounded, and ties
go to even. This is the number every backend approximates; the emulators explain each
backend's departure from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from qdebug_tui.core.layers import Layer, out_channels, output_shape
from qdebug_tui.core.scenario import Scenario

# Products of centered 8-bit values are below 2**16 in magnitude, so float64 sums of up to
# 2**37 of them are exact integers in any order. That lets BLAS compute exact accumulators.
_MAX_EXACT_K = 2**37

# A float64 quotient closer than this to a rounding tie is recomputed with exact fractions.
_TIE_TOLERANCE = 1e-7


@dataclass(frozen=True)
class ReferenceResult:
    """Exact accumulators, unrounded outputs in output LSB, and the output integers."""

    accumulator: np.ndarray
    scaled: np.ndarray
    q: np.ndarray


def conv_patches(layer: Layer, values: np.ndarray, kernel: tuple[int, ...]) -> np.ndarray:
    """Return im2col patches of shape (N, groups, output positions, K) with zero padding.

    K runs over (channel in group, *kernel offsets), PyTorch's weight order. ``values`` is a
    float array (N, C, *spatial); pass zero-point-centered values so that zero padding
    means "the zero point".
    """
    dims = layer.spatial_dims
    pad = [(0, 0), (0, 0)] + [(p, p) for p in layer.padding]
    padded = np.pad(values, pad)
    spans = tuple(layer.dilation[d] * (kernel[d] - 1) + 1 for d in range(dims))
    windows = sliding_window_view(padded, spans, axis=tuple(range(2, 2 + dims)))
    index = (slice(None), slice(None))
    index += tuple(slice(None, None, s) for s in layer.stride)
    index += tuple(slice(None, None, d) for d in layer.dilation)
    windows = windows[index]  # (N, C, *out, *kernel)

    batch, channels = values.shape[:2]
    out = windows.shape[2 : 2 + dims]
    groups = layer.groups
    per_group = channels // groups
    windows = windows.reshape(batch, groups, per_group, *out, *kernel)
    # Move the channel axis next to the kernel axes: (N, G, *out, Cg, *kernel).
    order = (0, 1, *range(3, 3 + dims), 2, *range(3 + dims, 3 + 2 * dims))
    windows = windows.transpose(order)
    positions = int(np.prod(out, dtype=np.int64))
    return windows.reshape(batch, groups, positions, -1)


def exact_accumulators(layer: Layer, input_centered: np.ndarray, weight_centered: np.ndarray) -> np.ndarray:
    """Return Σ (q_x − z_x)(q_w − z_w) for every output cell, as int64.

    Both arguments are int64 arrays of zero-point-centered values in PyTorch's layout.
    """
    if weight_centered[0].size > _MAX_EXACT_K:
        raise ValueError(f"reduction length {weight_centered[0].size} exceeds {_MAX_EXACT_K}")
    x = input_centered.astype(np.float64)
    w = weight_centered.astype(np.float64)
    if not layer.is_conv:
        return np.rint(x @ w.T).astype(np.int64)
    if layer.is_transposed:
        layer, x, w = transposed_as_conv(layer, x, w)

    channels = w.shape[0]
    groups = layer.groups
    patches = conv_patches(layer, x, w.shape[2:])  # (N, G, P, K)
    w_groups = w.reshape(groups, channels // groups, -1).transpose(0, 2, 1)  # (G, K, OCg)
    sums = patches @ w_groups  # (N, G, P, OCg)
    batch, _, positions, _ = sums.shape
    # A C-ordered copy: every later elementwise step, and the arrays derived from it, then
    # run over contiguous memory (several times faster than over the transposed view).
    sums = np.ascontiguousarray(sums.transpose(0, 1, 3, 2)).reshape(batch, channels, positions)
    spatial = output_shape(layer, tuple(x.shape), tuple(w.shape))[2:]
    return np.rint(sums).astype(np.int64).reshape(batch, channels, *spatial)


def transposed_as_conv(layer: Layer, x: np.ndarray, w: np.ndarray) -> tuple[Layer, np.ndarray, np.ndarray]:
    """Rewrite a transposed conv as a plain conv with the same output, for centered values.

    The input gets ``stride − 1`` zeros between neighbours and ``dilation·(k − 1) − padding``
    zeros on each side (plus ``output_padding`` at the end; a negative count crops). The
    weight (C_in, C_out/g, *k) becomes (C_out, C_in/g, *k) with its kernel flipped. The conv
    then runs with stride 1, no padding and the same dilation and groups.
    """
    dims = layer.spatial_dims
    kernel = w.shape[2:]
    batch, channels = x.shape[:2]
    stuffed = np.zeros((batch, channels, *((x.shape[2 + d] - 1) * layer.stride[d] + 1 for d in range(dims))))
    stuffed[(slice(None), slice(None), *(slice(None, None, s) for s in layer.stride))] = x

    crop, pad = [slice(None), slice(None)], [(0, 0), (0, 0)]
    for d in range(dims):
        before = layer.dilation[d] * (kernel[d] - 1) - layer.padding[d]
        after = before + layer.padding_after(d)
        crop.append(slice(max(-before, 0), stuffed.shape[2 + d] - max(-after, 0)))
        pad.append((max(before, 0), max(after, 0)))
    stuffed = np.pad(stuffed[tuple(crop)], pad)

    groups = layer.groups
    in_per_group, out_per_group = w.shape[0] // groups, w.shape[1]
    flipped = w.reshape(groups, in_per_group, out_per_group, *kernel).swapaxes(1, 2)
    flipped = flipped.reshape(groups * out_per_group, in_per_group, *kernel)
    flipped = np.flip(flipped, axis=tuple(range(2, 2 + dims)))
    plain = Layer(f"conv{dims}d", (1,) * dims, (0,) * dims, layer.dilation, groups, layer.relu)
    return plain, stuffed, np.ascontiguousarray(flipped)


def channel_axis(scenario: Scenario) -> int:
    """Return the output axis that indexes output channels (features for linear)."""
    return 1 if scenario.layer.is_conv else len(scenario.output_shape) - 1


def per_output_channel(scenario: Scenario, values: np.ndarray) -> np.ndarray:
    """Reshape one value per output channel to broadcast against the output tensor."""
    shape = [1] * len(scenario.output_shape)
    shape[channel_axis(scenario)] = -1
    return np.asarray(values).reshape(shape)


def weight_scales_per_output(scenario: Scenario) -> np.ndarray:
    """Return the weight scale of every output channel as float64."""
    channels = out_channels(scenario.layer, scenario.weight.shape)
    scales = scenario.weight.qparams.scale_array()
    return np.broadcast_to(scales, (channels,)) if scales.size == 1 else scales


def accumulator_terms(layer: Layer, input_q: np.ndarray, weight_centered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(A, B)`` with A = Σ q_x · (q_w − z_w) and B = Σ (q_w − z_w) over the taps that read the input.

    Padded taps are left out of both. The exact accumulators are then ``A − z_x · B`` (B
    broadcasts over the batch), so a new input zero point needs no new GEMM. Both are int64.
    """
    raw = exact_accumulators(layer, input_q.astype(np.int64), weight_centered)
    if not layer.is_conv:
        return raw, weight_centered.sum(axis=1)
    groups = layer.groups
    spatial = input_q.shape[2:]
    if layer.is_transposed:
        # (C_in, C_out/g, *k): sum the input channels of each group.
        in_per_group = weight_centered.shape[0] // groups
        summed = weight_centered.reshape(groups, in_per_group, *weight_centered.shape[1:]).sum(axis=1)
    else:
        # (C_out, C_in/g, *k): sum the input channels each output channel reads.
        summed = weight_centered.sum(axis=1, keepdims=True)
    # One all-ones input channel per group marks the taps inside the input.
    valid = np.ones((1, groups, *spatial), dtype=np.int64)
    return raw, exact_accumulators(layer, valid, summed)


def accumulators_from_terms(raw: np.ndarray, weight_sums: np.ndarray, input_zero_point: int) -> np.ndarray:
    """Return the exact accumulators ``A − z_x · B`` from :func:`accumulator_terms`."""
    return raw - np.int64(input_zero_point) * weight_sums


def scenario_accumulators(scenario: Scenario) -> np.ndarray:
    """Return the exact accumulators of ``scenario``; they depend on the integers and zero points only."""
    return exact_accumulators(scenario.layer, scenario.input.centered(), scenario.weight.centered())


def reference(scenario: Scenario, accumulator: np.ndarray | None = None) -> ReferenceResult:
    """Compute the exact integer reference for every output cell.

    ``accumulator`` is :func:`scenario_accumulators` of ``scenario`` when the caller has it,
    for example from before an edit of scales only.
    """
    acc = scenario_accumulators(scenario) if accumulator is None else accumulator
    s_x = scenario.input.qparams.scales[0]
    s_w = per_output_channel(scenario, weight_scales_per_output(scenario))
    bias = scenario.bias_values
    bias_b = 0.0 if bias is None else per_output_channel(scenario, bias.astype(np.float64))
    s_o = scenario.output.scale

    scaled = (acc * (s_x * s_w) + bias_b) / s_o
    scaled = _fix_ties_exactly(scenario, acc, scaled)
    rounded = np.rint(scaled)
    return ReferenceResult(acc, scaled, clamp_output(scenario, rounded + scenario.output.zero_point))


def _fix_ties_exactly(scenario: Scenario, acc: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Recompute with fractions the cells whose float64 value is too close to a .5 tie."""
    near_tie = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < _TIE_TOLERANCE * np.maximum(1.0, np.abs(scaled))
    if not near_tie.any():
        return scaled
    result = scaled.copy()
    s_x = Fraction(scenario.input.qparams.scales[0])
    s_o = Fraction(scenario.output.scale)
    weight_scales = weight_scales_per_output(scenario)
    bias = scenario.bias_values
    axis = channel_axis(scenario)
    for index in zip(*np.nonzero(near_tie)):
        channel = index[axis]
        value = Fraction(int(acc[index])) * s_x * Fraction(float(weight_scales[channel]))
        if bias is not None:
            value += Fraction(float(bias[channel]))
        exact = value / s_o
        # Nudge the float64 value to the side of the tie the exact value lies on.
        floor = exact.numerator // exact.denominator
        if exact == floor + Fraction(1, 2):
            result[index] = floor + 0.5
        elif exact > floor + Fraction(1, 2):
            result[index] = np.nextafter(floor + 0.5, np.inf)
        else:
            result[index] = np.nextafter(floor + 0.5, -np.inf)
    return result


def clamp_output(scenario: Scenario, q: np.ndarray) -> np.ndarray:
    """Clamp output integers to the output dtype, and to the zero point with fused ReLU."""
    out = scenario.output
    low = out.zero_point if scenario.layer.relu else out.dtype.qmin
    return np.clip(q, max(low, out.dtype.qmin), out.dtype.qmax).astype(np.int64)
