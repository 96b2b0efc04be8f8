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
from qdebug_tui.core.cache import ArrayKeyedCache
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


# Engines whose packed weights depend on the weight and bias alone, so that a run with other
# input or output qparams may reuse them. In torch 2.13 (aten/src/ATen/native/quantized/cpu/
# qconv.cpp, qlinear.cpp), FBGEMM's packs compute the requantization multipliers from the
# input's and the output's scale on every call. oneDNN's packs cache one primitive keyed by
# the input and output scales and zero points and the thread count, and run the uncached
# primitive with the same arguments on a miss. The x86 engine packs for one of these two.
# QNNPACK's packs re-quantize the bias and recompute the requantization scale only when the
# input scale changes, so a reused pack would keep a stale output scale: it is never reused.
REUSABLE_PACK_ENGINES = ("x86", "fbgemm", "onednn")
# Packed weights kept: the weights of recent scenarios on each engine the user switches between.
PACKS_KEPT = 4


class TorchAOBackend(QuantizedBackend):
    """Runs the ``quantized::`` ops behind ``torch.ao.nn.quantized`` modules.

    Packed weights are reused between runs on the engines in ``REUSABLE_PACK_ENGINES``, for
    the same weight integers and qparams, bias and layer settings; QNNPACK packs afresh.
    """

    name = "torch.ao.nn.quantized"

    def __init__(self) -> None:
        self._packs: ArrayKeyedCache[object] = ArrayKeyedCache(PACKS_KEPT)

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
                result = _run_ops(scenario, self._packed_weight(scenario))
                # The ops return channels-last tensors; the results are C-ordered like every other array.
                return QuantizedRun(np.ascontiguousarray(result.int_repr().numpy(), dtype=np.int64))
            except (RuntimeError, ValueError, AssertionError) as error:
                return QuantizedRun(None, kernel_message(error))
            finally:
                torch.backends.quantized.engine = previous

    def _packed_weight(self, scenario: Scenario) -> object:
        """Return the packed weight for ``scenario`` on the engine set now, from the cache if allowed."""
        if scenario.engine not in REUSABLE_PACK_ENGINES:
            return _prepack(scenario)
        bias = None if scenario.bias is None else scenario.bias.values
        parts = (scenario.engine, scenario.layer, scenario.weight.q, scenario.weight.qparams, bias)
        return self._packs.get(parts, lambda: _prepack(scenario))

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


def _prepack(scenario: Scenario) -> object:
    """Pack the weight and bias for the engine set now, with the layer's settings."""
    layer = scenario.layer
    prepack = getattr(torch.ops.quantized, _OPS[layer.kind][0])
    weight = _weight_tensor(scenario)
    bias = None if scenario.bias is None else torch.from_numpy(scenario.bias.values.astype(np.float32))
    if layer.is_transposed:
        return prepack(
            weight, bias, list(layer.stride), list(layer.padding), list(layer.output_padding), list(layer.dilation), layer.groups
        )
    if layer.is_conv:
        return prepack(weight, bias, list(layer.stride), list(layer.padding), list(layer.dilation), layer.groups)
    return prepack(weight, bias)


def _run_ops(scenario: Scenario, packed: object) -> torch.Tensor:
    _, run_name, relu_name = _OPS[scenario.layer.kind]
    run = getattr(torch.ops.quantized, relu_name if scenario.layer.relu else run_name)
    return run(_input_tensor(scenario), packed, scenario.output.scale, scenario.output.zero_point)
