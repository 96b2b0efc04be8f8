"""The float path, the quantize rules and the exact reference, against torch and by hand."""

from __future__ import annotations

import json
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch

from conftest import SAMPLES
from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import receptive_field
from qdebug_tui.io.scenario_file import load_scenario, parse_scenario
from qdebug_tui.numerics.float_path import float_layer
from qdebug_tui.numerics.reference import reference
from qdebug_tui.numerics.rounding import fma_f32, quantize_round_first, quantize_zero_point_first


def torch_quantize(values: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tensor = torch.quantize_per_tensor(torch.from_numpy(values), scale, zero_point, dtype)
    return tensor.int_repr().numpy().astype(np.int64)


def test_zero_point_first_matches_torch_on_ties():
    values = np.array([0.5, 1.5, 2.5, 3.5], dtype=np.float32)
    ours = quantize_zero_point_first(values, 1.0, 3, QUINT8)
    assert ours.tolist() == [4, 4, 6, 6]
    assert ours.tolist() == torch_quantize(values, 1.0, 3, torch.quint8).tolist()


def test_round_first_rule_differs_on_ties():
    values = np.array([0.5, 1.5, 2.5, 3.5], dtype=np.float32)
    assert quantize_round_first(values, 1.0, 3, QUINT8).tolist() == [3, 5, 5, 7]


@pytest.mark.parametrize("seed", range(5))
def test_zero_point_first_matches_torch_random(seed):
    rng = np.random.default_rng(seed)
    scale = float(rng.uniform(1e-3, 0.2))
    for dtype, torch_dtype in ((QUINT8, torch.quint8), (QINT8, torch.qint8)):
        zero_point = int(rng.integers(dtype.qmin, dtype.qmax + 1))
        values = (rng.uniform(-300, 300, 200_000) * scale).astype(np.float32)
        # Add exact ties: multiples of half a step.
        values[:1000] = (rng.integers(-200, 200, 1000) + 0.5).astype(np.float32) * np.float32(scale)
        ours = quantize_zero_point_first(values, scale, zero_point, dtype)
        np.testing.assert_array_equal(ours, torch_quantize(values, scale, zero_point, torch_dtype))


def test_fma_f32_rounds_once():
    rng = np.random.default_rng(7)
    a = rng.standard_normal(100_000).astype(np.float32)
    b = rng.standard_normal(100_000).astype(np.float32)
    c = rng.standard_normal(100_000).astype(np.float32)
    ours = fma_f32(a, b, c)
    for i in range(0, 100_000, 997):
        exact = Fraction(float(a[i])) * Fraction(float(b[i])) + Fraction(float(c[i]))
        candidates = [np.float32(ours[i]), np.nextafter(ours[i], np.float32(np.inf)), np.nextafter(ours[i], np.float32(-np.inf))]
        errors = [abs(Fraction(float(x)) - exact) for x in candidates]
        assert errors[0] == min(errors)


def test_float_path_by_hand():
    # One input channel, a 2x2 kernel, one output cell: sum of four dequantized products + bias.
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "hand",
        "layer": {"kind": "conv2d"},
        "input": {"dtype": "quint8", "scale": 0.5, "zero_point": 10, "q": [[[[12, 14], [10, 8]]]]},
        "weight": {"dtype": "qint8", "scale": 0.25, "zero_point": 0, "q": [[[[4, -4], [8, 2]]]]},
        "bias": [0.75],
        "output": {"dtype": "quint8", "scale": 0.5, "zero_point": 3},
        "engine": "fbgemm",
    }
    scenario = parse_scenario(json.dumps(document))
    # x = [1, 2, 0, -1], w = [1, -1, 2, 0.5]: 1 - 2 + 0 - 0.5 + 0.75 = -0.75
    real = float_layer(scenario)
    assert real.shape == (1, 1, 1, 1)
    assert float(real[0, 0, 0, 0]) == -0.75
    exact = reference(scenario)
    assert int(exact.accumulator[0, 0, 0, 0]) == 2 * 4 + 4 * -4 + 0 * 8 + -2 * 2
    # -0.75 / 0.5 = -1.5, ties to even -2, plus zero point 3 = 1
    assert int(exact.q[0, 0, 0, 0]) == 1


def test_seed_float_path_is_zero():
    scenario = load_scenario(SAMPLES / "seed_conv2d.json")
    real = float_layer(scenario)
    assert real[0, 0, 0, 0] == pytest.approx(-0.5151546, abs=1e-6)
    exact = reference(scenario)
    assert int(exact.accumulator[0, 0, 0, 0]) == -13861
    assert int(exact.q[0, 0, 0, 0]) == 0


def brute_force_accumulators(scenario) -> np.ndarray:
    """Sum the taps of every cell one by one: slow, obviously right."""
    x = scenario.input.centered()
    w = scenario.weight.centered()
    out = np.zeros(scenario.output_shape, dtype=np.int64)
    for index in np.ndindex(*scenario.output_shape):
        total = 0
        for tap in receptive_field(scenario.layer, scenario.input.shape, scenario.weight.shape, index):
            if tap.input_index is not None:
                total += int(x[tap.input_index]) * int(w[tap.weight_index])
        out[index] = total
    return out


def random_conv_document(rng: np.random.Generator) -> dict:
    groups = int(rng.choice([1, 2]))
    in_channels = groups * int(rng.integers(1, 3))
    out_channels = groups * int(rng.integers(1, 3))
    kernel = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
    size = [int(rng.integers(4, 8)), int(rng.integers(4, 8))]
    per_channel = bool(rng.integers(0, 2))
    weight_zero = [int(v) for v in rng.integers(-5, 6, out_channels)] if per_channel else int(rng.integers(-5, 6))
    weight_scale = [float(v) for v in rng.uniform(0.001, 0.01, out_channels)] if per_channel else 0.004
    return {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "random",
        "layer": {
            "kind": "conv2d",
            "stride": [int(rng.integers(1, 3)), int(rng.integers(1, 3))],
            "padding": [int(rng.integers(0, 2)), int(rng.integers(0, 2))],
            "dilation": [int(rng.integers(1, 3)), 1],
            "groups": groups,
            "relu": bool(rng.integers(0, 2)),
        },
        "input": {
            "dtype": "quint8",
            "scale": 0.02,
            "zero_point": int(rng.integers(0, 256)),
            "q": rng.integers(0, 256, (2, in_channels, *size)).tolist(),
        },
        "weight": {
            "dtype": "qint8",
            "scale": weight_scale,
            "zero_point": weight_zero,
            "q": rng.integers(-128, 128, (out_channels, in_channels // groups, *kernel)).tolist(),
        },
        "bias": [float(v) for v in rng.normal(0, 1, out_channels)],
        "output": {"dtype": "quint8", "scale": 0.1, "zero_point": int(rng.integers(0, 256))},
        "engine": "fbgemm",
    }


@pytest.mark.parametrize("seed", range(12))
def test_exact_accumulators_match_brute_force(seed):
    scenario = parse_scenario(json.dumps(random_conv_document(np.random.default_rng(seed))))
    np.testing.assert_array_equal(reference(scenario).accumulator, brute_force_accumulators(scenario))


@pytest.mark.parametrize("seed", range(12))
def test_reference_close_to_float64_layer(seed):
    """The exact result and a float64 run of the same layer differ by at most one LSB (ties)."""
    scenario = parse_scenario(json.dumps(random_conv_document(np.random.default_rng(100 + seed))))
    exact = reference(scenario)
    x = torch.from_numpy(scenario.input.centered().astype(np.float64) * scenario.input.qparams.scales[0])
    w_scales = scenario.weight.qparams.broadcast(scenario.weight.qparams.scale_array(), 4)
    w = torch.from_numpy(scenario.weight.centered().astype(np.float64) * w_scales)
    b = torch.from_numpy(scenario.bias.values.astype(np.float64))
    layer = scenario.layer
    y = torch.nn.functional.conv2d(x, w, b, layer.stride, layer.padding, layer.dilation, layer.groups)
    if layer.relu:
        y = torch.relu(y)
    q = np.clip(np.rint(y.numpy() / scenario.output.scale) + scenario.output.zero_point, 0, 255)
    assert np.abs(q - exact.q).max() <= 1


def test_linear_reference_by_hand():
    scenario = load_scenario(SAMPLES / "pytorch_issue_76390_linear.json")
    exact = reference(scenario)
    assert exact.accumulator.tolist() == [[2 * 111 * 113]]
    assert exact.q.tolist() == [[255]]


def test_reference_tie_goes_to_even():
    # acc * 1 * 1 / 2: accumulator 5 gives 2.5 exactly, which rounds to 2.
    document = json.loads((SAMPLES / "pytorch_issue_76390_linear.json").read_text())
    document["input"].update(zero_point=0, q=[[5, 0]])
    document["weight"]["q"] = [[1, 0]]
    document["output"]["scale"] = 2.0
    scenario = parse_scenario(json.dumps(document))
    assert reference(scenario).q.tolist() == [[2]]
