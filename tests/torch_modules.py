"""Run a scenario through the torch.ao.nn.quantized module a user would build, for comparison."""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.ao.nn.intrinsic.quantized as nniq
import torch.ao.nn.quantized as nnq

_CLASSES = {
    "conv1d": (nnq.Conv1d, nniq.ConvReLU1d),
    "conv2d": (nnq.Conv2d, nniq.ConvReLU2d),
    "conv3d": (nnq.Conv3d, nniq.ConvReLU3d),
    "conv_transpose1d": (nnq.ConvTranspose1d, None),
    "conv_transpose2d": (nnq.ConvTranspose2d, None),
    "conv_transpose3d": (nnq.ConvTranspose3d, None),
    "linear": (nnq.Linear, nniq.LinearReLU),
}


def _quantized(tensor) -> torch.Tensor:
    values, qparams = torch.from_numpy(tensor.q), tensor.qparams
    if qparams.per_channel:
        scales = torch.tensor(qparams.scales, dtype=torch.float64)
        return torch._make_per_channel_quantized_tensor(values, scales, torch.tensor(qparams.zero_points), qparams.axis)
    return torch._make_per_tensor_quantized_tensor(values, qparams.scales[0], qparams.zero_points[0])


def _module(scenario) -> torch.nn.Module:
    layer, weight, x = scenario.layer, scenario.weight, scenario.input
    plain, fused = _CLASSES[layer.kind]
    module_class = fused if layer.relu else plain
    has_bias = scenario.bias is not None
    if not layer.is_conv:
        return module_class(weight.shape[1], weight.shape[0], has_bias)
    channels_out, kernel = scenario.output_shape[1], weight.shape[2:]
    if layer.is_transposed:
        return module_class(x.shape[1], channels_out, kernel, layer.stride, layer.padding, layer.output_padding,
                            layer.groups, has_bias, layer.dilation)  # fmt: skip
    return module_class(x.shape[1], channels_out, kernel, layer.stride, layer.padding, layer.dilation, layer.groups, has_bias)


def module_output(scenario) -> np.ndarray:
    """Return the output integers of the quantized module on ``scenario.engine``."""
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = scenario.engine
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = _module(scenario)
            bias = None if scenario.bias is None else torch.from_numpy(scenario.bias.values)
            module.set_weight_bias(_quantized(scenario.weight), bias)
            module.scale, module.zero_point = scenario.output.scale, scenario.output.zero_point
            return module(_quantized(scenario.input)).int_repr().numpy().astype(np.int64)
    finally:
        torch.backends.quantized.engine = previous
