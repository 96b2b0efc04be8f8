"""The real kernels: the ``quantized::`` ops behind ``torch.ao.nn.quantized``, on the CPU.

This is the only module in qdebug that touches torch's quantized API (quint8 and qint8
tensors, quantized modules, ``torch.backends.quantized``). torch 2.13 deprecates that API and
warns on first use; the warning is filtered here so it never reaches a terminal.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.core.scenario import OutputQuant, Scenario

warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*deprecated", category=UserWarning)

import torch  # noqa: E402  (after the filter, so that the first warning is caught)

# torch.backends.quantized.engine is process-wide, so runs are serialised.
_ENGINE_LOCK = threading.Lock()

# kind: (prepack op, run op, run op with fused ReLU). torch.ao.nn.quantized's Conv1d/2d/3d,
# ConvTranspose1d/2d/3d and Linear, and the fused ConvReLU and LinearReLU modules, call these
# ops in forward(). Calling them directly skips the modules' constructors, which prepack a
# placeholder weight first and double the cost of a run. Transposed convs have no fused ReLU.
_OPS = {
    "conv1d": ("conv1d_prepack", "conv1d", "conv1d_relu"),
    "conv2d": ("conv2d_prepack", "conv2d", "conv2d_relu"),
    "conv3d": ("conv3d_prepack", "conv3d", "conv3d_relu"),
    "conv_transpose1d": ("conv_transpose1d_prepack", "conv_transpose1d", None),
    "conv_transpose2d": ("conv_transpose2d_prepack", "conv_transpose2d", None),
    "conv_transpose3d": ("conv_transpose3d_prepack", "conv_transpose3d", None),
    "linear": ("linear_prepack", "linear", "linear_relu"),
}


class TorchAOBackend(QuantizedBackend):
    """Runs the ``quantized::`` ops behind ``torch.ao.nn.quantized`` modules.

    The weight is prepacked afresh for every run. That matters: QNNPACK recomputes its
    requantization scale only when the input scale changes, so reused packed weights would
    keep a stale output scale.
    """

    name = "torch.ao.nn.quantized"

    def version(self) -> str:
        return torch.__version__

    def available_engines(self) -> tuple[str, ...]:
        return tuple(torch.backends.quantized.supported_engines)

    def run(self, scenario: Scenario) -> QuantizedRun:
        if scenario.engine not in self.available_engines():
            return QuantizedRun(None, f"engine {scenario.engine!r} is not in this torch build; it has {', '.join(self.available_engines())}")
        if scenario.output.dtype.name != "quint8":
            return QuantizedRun(None, "torch.ao.nn.quantized modules return quint8 (the input's dtype); set output.dtype to quint8 to run the real kernel")
        with _ENGINE_LOCK, torch.inference_mode():
            previous = torch.backends.quantized.engine
            torch.backends.quantized.engine = scenario.engine
            try:
                result = _run_ops(scenario)
                return QuantizedRun(result.int_repr().numpy().astype(np.int64))
            except (RuntimeError, ValueError, AssertionError) as error:
                return QuantizedRun(None, kernel_message(error))
            finally:
                torch.backends.quantized.engine = previous

    def quantize_output(self, real: np.ndarray, output: OutputQuant) -> np.ndarray:
        dtype = {"quint8": torch.quint8, "qint8": torch.qint8}[output.dtype.name]
        tensor = torch.from_numpy(np.ascontiguousarray(real, dtype=np.float32))
        return torch.quantize_per_tensor(tensor, output.scale, output.zero_point, dtype).int_repr().numpy().astype(np.int64)


def kernel_message(error: BaseException) -> str:
    """Return the first lines of a torch error, without its C++ stack."""
    text = str(error).split("\nException raised from", 1)[0]
    return text.strip() or type(error).__name__


def _input_tensor(scenario: Scenario) -> torch.Tensor:
    tensor = scenario.input
    values = torch.from_numpy(np.ascontiguousarray(tensor.q, dtype=np.uint8))
    return torch._make_per_tensor_quantized_tensor(values, tensor.qparams.scales[0], tensor.qparams.zero_points[0])


def _weight_tensor(scenario: Scenario) -> torch.Tensor:
    tensor = scenario.weight
    values = torch.from_numpy(np.ascontiguousarray(tensor.q, dtype=np.int8))
    qparams = tensor.qparams
    if not qparams.per_channel:
        return torch._make_per_tensor_quantized_tensor(values, qparams.scales[0], qparams.zero_points[0])
    scales = torch.tensor(qparams.scales, dtype=torch.float64)
    zero_points = torch.tensor(qparams.zero_points, dtype=torch.int64)
    return torch._make_per_channel_quantized_tensor(values, scales, zero_points, qparams.axis)


def _run_ops(scenario: Scenario) -> torch.Tensor:
    layer = scenario.layer
    prepack_name, run_name, relu_name = _OPS[layer.kind]
    prepack = getattr(torch.ops.quantized, prepack_name)
    run = getattr(torch.ops.quantized, relu_name if layer.relu else run_name)
    weight = _weight_tensor(scenario)
    bias = None if scenario.bias is None else torch.from_numpy(scenario.bias.values.astype(np.float32))
    if layer.is_transposed:
        packed = prepack(
            weight, bias, list(layer.stride), list(layer.padding), list(layer.output_padding), list(layer.dilation), layer.groups
        )
    elif layer.is_conv:
        packed = prepack(weight, bias, list(layer.stride), list(layer.padding), list(layer.dilation), layer.groups)
    else:
        packed = prepack(weight, bias)
    return run(_input_tensor(scenario), packed, scenario.output.scale, scenario.output.zero_point)
