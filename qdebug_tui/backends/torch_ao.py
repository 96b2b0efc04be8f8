"""The real kernels: ``torch.ao.nn.quantized`` modules on the CPU.

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
import torch.ao.nn.intrinsic.quantized as nniq  # noqa: E402
import torch.ao.nn.quantized as nnq  # noqa: E402

# torch.backends.quantized.engine is process-wide, so runs are serialised.
_ENGINE_LOCK = threading.Lock()

_MODULES = {
    # kind: (plain module, module with fused ReLU)
    "conv2d": (nnq.Conv2d, nniq.ConvReLU2d),
    "linear": (nnq.Linear, nniq.LinearReLU),
}


class TorchAOBackend(QuantizedBackend):
    """Runs ``torch.ao.nn.quantized`` modules, built afresh for every run.

    A fresh module matters: QNNPACK recomputes its requantization scale only when the input
    scale changes, so a reused module would keep a stale output scale.
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
                module = _build_module(scenario)
                result = module(_input_tensor(scenario))
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


def _build_module(scenario: Scenario) -> torch.nn.Module:
    layer = scenario.layer
    plain, fused = _MODULES[layer.kind]
    module_class = fused if layer.relu else plain
    weight = _weight_tensor(scenario)
    has_bias = scenario.bias is not None
    if layer.is_conv:
        out_channels, _, *kernel = scenario.weight.shape
        module = module_class(
            scenario.input.shape[1],
            out_channels,
            tuple(kernel),
            stride=layer.stride,
            padding=layer.padding,
            dilation=layer.dilation,
            groups=layer.groups,
            bias=has_bias,
        )
    else:
        out_features, in_features = scenario.weight.shape
        # Passed by position: nnq.Linear names the argument bias_, LinearReLU names it bias.
        module = module_class(in_features, out_features, has_bias)
    bias = torch.from_numpy(scenario.bias.values.astype(np.float32)) if has_bias else None
    module.set_weight_bias(weight, bias)
    module.scale = scenario.output.scale
    module.zero_point = scenario.output.zero_point
    return module
