"""The float path, as the forum script computes it: dequantize, run the float layer, quantize.

Input and weight are dequantized in float32 (``f32((q − zp) · f32(scale))``), the layer runs
through ``torch.nn.functional`` with the float32 bias, ReLU follows when it is fused, and the
caller quantizes the result with the output parameters. torch is imported on first use, so
that importing this module stays cheap.
"""

from __future__ import annotations

import numpy as np

from qdebug_tui.core.scenario import QuantizedTensor, Scenario
from qdebug_tui.numerics.rounding import dequantize


def dequantized(tensor: QuantizedTensor) -> np.ndarray:
    """Return the tensor's real values in float32, per channel where it is per channel."""
    qparams = tensor.qparams
    scales = qparams.broadcast(qparams.scale_array(), tensor.q.ndim)
    zero_points = qparams.broadcast(qparams.zero_point_array(), tensor.q.ndim)
    return dequantize(tensor.q, scales, zero_points)


def float_layer(scenario: Scenario) -> np.ndarray:
    """Run the float layer on the dequantized tensors and return its float32 output."""
    import torch
    import torch.nn.functional as functional

    layer = scenario.layer
    x = torch.from_numpy(dequantized(scenario.input))
    w = torch.from_numpy(dequantized(scenario.weight))
    bias = None if scenario.bias is None else torch.from_numpy(scenario.bias.values.astype(np.float32))
    with torch.inference_mode():
        if layer.is_transposed:
            transposed = {1: functional.conv_transpose1d, 2: functional.conv_transpose2d, 3: functional.conv_transpose3d}
            y = transposed[layer.spatial_dims](
                x, w, bias, layer.stride, layer.padding, layer.output_padding, layer.groups, layer.dilation
            )
        elif layer.is_conv:
            convolutions = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}
            y = convolutions[layer.spatial_dims](
                x, w, bias, stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups
            )
        else:
            y = functional.linear(x, w, bias)
        if layer.relu:
            y = functional.relu(y)
    return y.numpy().astype(np.float32)
