"""Per-library models of the int32 accumulator and requantization, on whole tensors.

Every model starts from the exact accumulator ``Σ (q_x − z_x)(q_w − z_w)`` (a float64 GEMM,
exact because every term is below 2^16) and adds what the kernel does differently:

- FBGEMM: ``x = wrap32(Σ_pairs sat16(A·W pair) − z_x · col_offset − row_offset · z_w)``,
  which equals ``wrap32(exact + clipping correction)`` because padded taps hold z_x.
- oneDNN: ``acc = Σ_pairs sat16(A·W pair) − z_x · Σ_valid W``, which equals
  ``exact + clipping correction`` because padded taps hold a raw 0 and are left out of the
  compensation.
- QNNPACK: ``acc = wrap32(exact + bias_int32)``; its products are of zero-point-centered
  int16 values, so nothing clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.operands import (
    GemmOperands,
    channels_last_order,
    gemm_operands,
    natural_order,
    per_tap_padded_order,
)
from qdebug_tui.emulators.requantize import (
    RequantSteps,
    fbgemm_requant_params,
    onednn_requant_params,
    qnnpack_requant_params,
    requantize_fbgemm_f32,
    requantize_onednn_f32,
    requantize_qnnpack_f32,
)
from qdebug_tui.emulators.saturation import pair_sums_u8s8_sat16
from qdebug_tui.emulators.targets import KernelTarget
from qdebug_tui.numerics.reference import exact_accumulators


@dataclass(frozen=True)
class KernelLayout:
    """The raw operands of a pair-summing kernel and its K order."""

    operands: GemmOperands
    order: np.ndarray


@dataclass(frozen=True)
class KernelResult:
    """Whole-tensor results of one kernel model, in the output layout."""

    exact: np.ndarray
    correction: np.ndarray
    clipped_pairs: np.ndarray
    accumulator: np.ndarray
    requant: RequantSteps


def wrap_int32(values: np.ndarray) -> np.ndarray:
    """Wrap int64 values to int32 two's complement, as int32 adds and multiplies do."""
    return ((np.asarray(values, dtype=np.int64) + 2**31) % 2**32 - 2**31).astype(np.int64)


def onednn_combined_scale(scenario: Scenario, target: KernelTarget) -> bool:
    """Return True for oneDNN's AVX2 jit conv kernels, which multiply by one f32(S_src · S_w)."""
    return (
        target.library == "onednn"
        and scenario.layer.is_conv
        and target.kernel_path in ("direct", "depthwise")
        and "vnni" not in target.isa
    )


def kernel_order(scenario: Scenario, target: KernelTarget) -> np.ndarray:
    """Return the K order in which ``target``'s kernel pairs (or, if exact, sums) the products.

    FBGEMM's GEMM paths use channels-last im2col order per group, and its depthwise kernel
    the taps in (kh, kw) order. oneDNN pads each tap's channels to a multiple of 4. QNNPACK's
    exact sum is listed in channels-last order. Linear layers use the natural order.
    """
    layer = scenario.layer
    weight_shape = scenario.weight.shape
    if not layer.is_conv:
        return natural_order(weight_shape[1])
    channels = input_channels_per_group(scenario)
    kernel = weight_shape[2:]
    if target.library == "onednn" or (target.library == "fbgemm" and target.kernel_path == "direct"):
        return per_tap_padded_order(channels, kernel)
    if target.library == "fbgemm" and target.kernel_path == "depthwise":
        # One channel per group: taps in (kh, kw) order, paired (t0, t1), (t2, t3), …
        return natural_order(int(np.prod(kernel)), multiple=2)
    return channels_last_order(channels, kernel)


def input_channels_per_group(scenario: Scenario) -> int:
    """Return a conv's input channels per group (the weight's axis 0 over groups when transposed)."""
    weight_shape = scenario.weight.shape
    return weight_shape[0] // scenario.layer.groups if scenario.layer.is_transposed else weight_shape[1]


def kernel_padding_value(scenario: Scenario, target: KernelTarget) -> int:
    """Return the raw activation on padded taps: z_x for FBGEMM and QNNPACK, 0 for oneDNN.

    FBGEMM's direct transposed conv kernel skips taps outside the input, which counts as a raw 0.
    """
    if target.library == "onednn" or (target.library == "fbgemm" and target.kernel_path == "direct"):
        return 0
    return scenario.input.qparams.zero_points[0]


def kernel_layout(scenario: Scenario, target: KernelTarget) -> KernelLayout:
    """Return the raw operands and K order of ``target``'s kernel."""
    operands = gemm_operands(scenario, kernel_padding_value(scenario, target))
    return KernelLayout(operands, kernel_order(scenario, target))


def exact_accumulator(scenario: Scenario) -> np.ndarray:
    """Return Σ (q_x − z_x)(q_w − z_w) for every output cell, as int64."""
    return exact_accumulators(scenario.layer, scenario.input.centered(), scenario.weight.centered())


def clipping(scenario: Scenario, target: KernelTarget) -> tuple[np.ndarray, np.ndarray]:
    """Return the int16 clipping correction and the clipped pairs of every output cell.

    Both are int64 arrays of the output shape, all zeros for a kernel that does not saturate.
    """
    if not target.saturating:
        zeros = np.zeros(scenario.output_shape, dtype=np.int64)
        return zeros, zeros.copy()
    layout = kernel_layout(scenario, target)
    result = pair_sums_u8s8_sat16(layout.operands, layout.order)
    return layout.operands.to_output_layout(result.correction), layout.operands.to_output_layout(result.clipped_pairs)


def run_kernel_model(scenario: Scenario, target: KernelTarget, exact: np.ndarray | None = None) -> KernelResult:
    """Emulate the kernel in ``target`` on every output cell."""
    exact = exact_accumulator(scenario) if exact is None else exact
    correction, clipped = clipping(scenario, target)

    if target.library == "fbgemm":
        accumulator = wrap_int32(exact + correction)
        steps = requantize_fbgemm_f32(accumulator, fbgemm_requant_params(scenario))
    elif target.library == "onednn":
        accumulator = wrap_int32(exact + correction)
        steps = requantize_onednn_f32(
            accumulator,
            onednn_requant_params(scenario),
            scenario.layer.relu,
            target.kernel_path == "reference",
            onednn_combined_scale(scenario, target),
        )
    else:
        params = qnnpack_requant_params(scenario)
        accumulator = wrap_int32(exact + params.bias_int32)
        steps = requantize_qnnpack_f32(accumulator, params)
    return KernelResult(exact, correction, clipped, accumulator, steps)
