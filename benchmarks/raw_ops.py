"""The floor for one edit: the raw torch ops that compute both paths of a layer once.

Float path: ``F.conv2d`` or ``F.linear`` on the dequantized float32 tensors, then
``torch.quantize_per_tensor`` of the result. Quantized path: ``quantized::*_prepack`` of the
weight, then the ``quantized::`` op, on the scenario's engine. The tensors are built before
the clock starts, and torch runs with its default thread count.
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks.measure import Sample, time_calls
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.numerics.float_path import dequantized


def raw_ops(scenario: Scenario, repeats: int) -> dict:
    """Time the float ops, the quantized ops and both together for ``scenario``."""
    import torch
    import torch.nn.functional as functional

    warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*deprecated", category=UserWarning)
    layer = scenario.layer
    x = torch.from_numpy(dequantized(scenario.input))
    w = torch.from_numpy(dequantized(scenario.weight))
    bias = None if scenario.bias is None else torch.from_numpy(scenario.bias.values.astype(np.float32))
    input_q = scenario.input
    weight_q = scenario.weight
    qx = torch._make_per_tensor_quantized_tensor(
        torch.from_numpy(np.ascontiguousarray(input_q.q)), input_q.qparams.scales[0], input_q.qparams.zero_points[0]
    )
    qw = torch._make_per_tensor_quantized_tensor(
        torch.from_numpy(np.ascontiguousarray(weight_q.q)), weight_q.qparams.scales[0], weight_q.qparams.zero_points[0]
    )
    out = scenario.output
    ops = torch.ops.quantized
    settings = (list(layer.stride), list(layer.padding), list(layer.dilation), layer.groups)

    def float_path() -> None:
        if layer.is_conv:
            y = functional.conv2d(x, w, bias, layer.stride, layer.padding, layer.dilation, layer.groups)
        else:
            y = functional.linear(x, w, bias)
        torch.quantize_per_tensor(y, out.scale, out.zero_point, torch.quint8)

    def quantized_path() -> None:
        if layer.is_conv:
            ops.conv2d(qx, ops.conv2d_prepack(qw, bias, *settings), out.scale, out.zero_point)
        else:
            ops.linear(qx, ops.linear_prepack(qw, bias), out.scale, out.zero_point)

    def both() -> None:
        float_path()
        quantized_path()

    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = scenario.engine
    try:
        with torch.inference_mode():
            timings: dict[str, Sample] = {
                "float": time_calls(float_path, repeats),
                "quantized": time_calls(quantized_path, repeats),
                "both": time_calls(both, repeats),
            }
    finally:
        torch.backends.quantized.engine = previous
    return timings
