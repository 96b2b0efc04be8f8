"""Each requantization detail is tested where a rival formula would give another integer.

Random layers rarely land on the cells where, say, a fused multiply-add and a separate
multiply and add round differently. These tests search deterministic layers for such cells,
then check that the real kernel follows qdebug's rule and not the rival.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from conftest import emulation_environment

from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.emulators import emulate
from qdebug_tui.emulators.kernels import exact_accumulator, wrap_int32
from qdebug_tui.emulators.requantize import (
    fbgemm_requant_params,
    onednn_requant_params,
    qnnpack_requant_params,
    requantize_onednn_f32,
    requantize_qnnpack_f32,
    twice_inverted_f32,
)
from qdebug_tui.numerics.reference import per_output_channel, weight_scales_per_output
from qdebug_tui.numerics.rounding import f32

# Every pair of uint8 activations, one row each: 65,536 accumulators per layer.
GRID = np.stack(np.meshgrid(np.arange(256), np.arange(256)), -1).reshape(-1, 2)


def grid_linear(rng, engine: str, bias: bool) -> Scenario:
    s_x, s_w = float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-3, -1))
    w = rng.integers(-128, 128, (1, 2))
    s_o = float(s_x * s_w * 128 * np.abs(w).sum() / 127 * 10 ** rng.uniform(-0.3, 0.3))
    inputs = QuantizedTensor(QUINT8, QuantParams((s_x,), (128,)), GRID.astype(np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((s_w,), (0,)), w.astype(np.int8))
    bias_tensor = BiasTensor(np.array([rng.normal(0, 30 * s_o)], np.float32)) if bias else None
    return Scenario("grid", Layer("linear"), inputs, weight, bias_tensor, OutputQuant(QUINT8, s_o, 128), engine)


def check_against_rival(workers, scenarios, rival, form="native", needed=5):
    """Run scenarios until ``needed`` cells separate qdebug's rule from ``rival``; check them."""
    separating = agreeing = 0
    for scenario in scenarios:
        ours = emulate(scenario, environ=emulation_environment(form)).q
        theirs = rival(scenario)
        differ = ours != theirs
        if not differ.any():
            continue
        real = workers[form].run(scenario).q
        separating += int(differ.sum())
        agreeing += int((real[differ] == ours[differ]).sum())
        if separating >= needed:
            break
    assert separating >= needed, f"only {separating} separating cells found"
    assert agreeing == separating, f"the real kernel followed the rival rule on {separating - agreeing} of {separating} cells"


def test_fbgemm_fuses_per_tensor_bias(workers):
    def separate_multiply_add(scenario):
        params = fbgemm_requant_params(scenario)
        reciprocal = f32(1.0 / params.act_times_w_scale.astype(np.float64))
        bias_term = f32(params.bias.astype(np.float64) * reciprocal)
        value = f32(f32(exact_accumulator(scenario)).astype(np.float64) + bias_term)
        return np.clip(np.rint(f32(value.astype(np.float64) * params.multiplier)) + 128, 0, 255)

    rng = np.random.default_rng(9)
    check_against_rival(workers, (grid_linear(rng, "fbgemm", True) for _ in range(400)), separate_multiply_add)


def test_onednn_scales_are_inverted_twice(workers):
    def plain_scales(scenario):
        params = onednn_requant_params(scenario)
        plain = replace(
            params,
            src_scale=f32(scenario.input.qparams.scales[0]),
            weight_scale=f32(np.asarray(scenario.weight.qparams.scales)).reshape(params.weight_scale.shape),
            dst_reciprocal=f32(1.0 / np.float64(f32(scenario.output.scale))),
        )
        return requantize_onednn_f32(wrap_int32(exact_accumulator(scenario)), plain, False).q

    rng = np.random.default_rng(4)
    check_against_rival(workers, (grid_linear(rng, "onednn", True) for _ in range(400)), plain_scales)


def test_qnnpack_bias_uses_float64_scale_product(workers):
    def float32_product(scenario):
        params = qnnpack_requant_params(scenario)
        inverse = f32(np.float32(1.0) / f32(params.act_times_w_scale))
        bias = np.rint(f32(f32(scenario.bias.values).astype(np.float64) * inverse)).astype(np.int64)
        params = replace(params, bias_int32=bias.reshape(params.bias_int32.shape))
        return requantize_qnnpack_f32(wrap_int32(exact_accumulator(scenario) + params.bias_int32), params).q

    def half_unit_bias_layers():
        rng = np.random.default_rng(2)
        for _ in range(3000):
            scenario = grid_linear(rng, "qnnpack", False)
            unit = scenario.input.qparams.scales[0] * scenario.weight.qparams.scales[0]
            bias = np.array([(int(rng.integers(-50, 51)) + 0.5) * unit], np.float32)
            yield replace(scenario, input=replace(scenario.input, q=scenario.input.q[:64]), bias=BiasTensor(bias))

    check_against_rival(workers, half_unit_bias_layers(), float32_product, needed=3)


def test_onednn_reference_kernel_divides_by_output_scale(workers):
    def reciprocal_multiply(scenario):
        params = onednn_requant_params(scenario)
        return requantize_onednn_f32(wrap_int32(exact_accumulator(scenario)), params, False, reference_kernel=False).q

    check_against_rival(workers, grouped_conv_layers(np.random.default_rng(78), groups_aligned=False), reciprocal_multiply, form="avx2")


def test_onednn_conv_weight_scale_is_not_inverted(workers):
    def twice_inverted_weight(scenario):
        params = onednn_requant_params(scenario)
        inverted = per_output_channel(scenario, twice_inverted_f32(weight_scales_per_output(scenario)))
        params = replace(params, weight_scale=inverted)
        return requantize_onednn_f32(wrap_int32(exact_accumulator(scenario)), params, False).q

    check_against_rival(workers, grouped_conv_layers(np.random.default_rng(5), groups_aligned=True), twice_inverted_weight)


def grouped_conv_layers(rng, groups_aligned: bool):
    """Yield 3×3 convs with 4×4 channels (one group) or 2 groups of 3 → 2 channels, batch 8, 24×24."""
    groups, channels, outputs = (1, 4, 4) if groups_aligned else (2, 3, 2)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), groups, False)
    for _ in range(600):
        s_x, s_w = float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-3, -1))
        x = rng.integers(0, 256, (8, groups * channels, 24, 24)).astype(np.uint8)
        w = rng.integers(-128, 128, (groups * outputs, channels, 3, 3)).astype(np.int8)
        s_o = float(s_x * s_w * 128 * 128 * 5 / 127 * 10 ** rng.uniform(-0.3, 0.3))
        inputs = QuantizedTensor(QUINT8, QuantParams((s_x,), (128,)), x)
        weight = QuantizedTensor(QINT8, QuantParams((s_w,), (0,)), w)
        yield Scenario("grouped", layer, inputs, weight, None, OutputQuant(QUINT8, s_o, 128), "onednn")


def test_onednn_avx2_jit_combines_scales(workers):
    def two_step_scales(scenario):
        params = onednn_requant_params(scenario)
        return requantize_onednn_f32(wrap_int32(exact_accumulator(scenario)), params, False, combined_scale=False).q

    check_against_rival(workers, seven_bit_convs(np.random.default_rng(42)), two_step_scales, form="avx2")


def seven_bit_convs(rng):
    """Yield 3×3 convs with 7-bit activations and small weights, so that no pair sum clips."""
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 4, False)
    for _ in range(300):
        s_x, s_w = float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-3, -1))
        x = rng.integers(0, 128, (4, 64, 16, 16)).astype(np.uint8)
        w = rng.integers(-30, 31, (64, 16, 3, 3)).astype(np.int8)
        s_o = float(s_x * s_w * 64 * 30 * 12 / 127 * 10 ** rng.uniform(-0.3, 0.3))
        inputs = QuantizedTensor(QUINT8, QuantParams((s_x,), (64,)), x)
        weight = QuantizedTensor(QINT8, QuantParams((s_w,), (0,)), w)
        yield Scenario("grouped", layer, inputs, weight, None, OutputQuant(QUINT8, s_o, 128), "onednn")
