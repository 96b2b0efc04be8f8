"""Kernel selection: the library, kernel path and accumulation form that run a scenario.

A :class:`KernelTarget` names the library (after ``x86`` dispatch), the kernel path inside it,
the instruction set and the accumulation form. It depends on the CPU and on the environment
variables that cap the instruction set, both read without importing torch:

- ``isa="native"`` models the process that runs qdebug: this CPU and ``os.environ``.
- ``isa="avx2"`` models a CPU with AVX2 and no AVX-512 (so no AVX512-VNNI), and ignores the
  environment variables. This is the form that edge and older x86 machines run.

Path rules follow FBGEMM's ``ConvFastPath`` (src/FbgemmConv.cc) and ``fbgemmOptimizedGConv``
(src/Fbgemm.cc, with ``numOfGroupsTogether`` from src/PackWeightMatrixForGConv.cc).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from qdebug_tui.backends.cpu import CpuInfo, KernelIsa, detect_cpu, dispatch, fbgemm_isa, onednn_isa
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import Scenario

ISA_CHOICES = ("native", "avx2")

# Variables that cap the instruction set of FBGEMM and oneDNN, read once per process.
ISA_VARIABLES = ("FBGEMM_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")

# The environment of the what-if worker, which reproduces the AVX2 form on a VNNI CPU.
AVX2_ENVIRONMENT = {"FBGEMM_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}

_AVX2_FLAGS = frozenset({"sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"})

# FBGEMM's groupwise kernel handles these input (= output) channels per group.
_GROUPWISE_CHANNELS = (2, 4, 8, 16)


@dataclass(frozen=True)
class KernelTarget:
    """The kernel that computes a scenario's integers, and how it accumulates.

    ``saturating`` is True when adjacent raw u8 × s8 products are summed in pairs clipped to
    int16 (``vpmaddubsw``); False when they are summed exactly in int32.
    """

    engine: str
    library: str
    kernel_path: str
    isa: str
    saturating: bool
    reason: str
    notes: tuple[str, ...] = ()


def avx2_cpu(cpu: CpuInfo) -> CpuInfo:
    """Return an x86-64 CPU with AVX2 and FMA but no AVX-512, on the same operating system."""
    return CpuInfo("x86_64", "an AVX2 CPU without AVX-512 (modelled)", _AVX2_FLAGS, cpu.system)


def process_model(isa: str, cpu: CpuInfo | None = None, environ: Mapping[str, str] | None = None) -> tuple[CpuInfo, dict[str, str]]:
    """Return the CPU and environment that ``isa`` stands for.

    Raises ValueError for an ``isa`` outside :data:`ISA_CHOICES`.
    """
    if isa not in ISA_CHOICES:
        raise ValueError(f"invalid isa {isa!r}; expected one of {', '.join(ISA_CHOICES)}")
    cpu = cpu or detect_cpu()
    environ = dict(os.environ if environ is None else environ)
    if isa == "avx2":
        cpu = avx2_cpu(cpu)
        environ = {key: value for key, value in environ.items() if key not in ISA_VARIABLES}
    return cpu, environ


def resolve_target(
    scenario: Scenario, isa: str = "native", *, cpu: CpuInfo | None = None, environ: Mapping[str, str] | None = None
) -> KernelTarget:
    """Return the kernel that runs ``scenario`` in the process that ``isa`` models.

    ``cpu`` and ``environ`` replace the detected CPU and ``os.environ``; tests and the what-if
    worker use them to model another process.
    """
    cpu, environ = process_model(isa, cpu, environ)
    layer = scenario.layer
    chosen = dispatch(scenario.engine, layer, scenario.weight.qparams.zero_point_array(), cpu)
    if chosen.library == "fbgemm":
        return _fbgemm_target(scenario, cpu, environ, chosen.reason)
    if chosen.library == "onednn":
        return _onednn_target(scenario, cpu, environ, chosen.reason)
    path = qnnpack_path(layer, scenario.input.shape, scenario.weight.shape)
    isa_label = "sse2" if cpu.is_x86 else cpu.isa
    return KernelTarget(scenario.engine, "qnnpack", path, isa_label, False, chosen.reason)


def fbgemm_conv_path(layer: Layer, input_shape: tuple[int, ...], weight_shape: tuple[int, ...], avx512: bool) -> str:
    """Return FBGEMM's conv path: ``depthwise``, ``groupwise``, ``pointwise``, ``direct`` or ``im2col``.

    ``avx512`` is whether cpuinfo reports AVX-512: it sets how many groups the groupwise kernel
    handles at once, and so the minimum number of groups it accepts. PyTorch runs conv1d as a
    conv2d of height 1, so a conv1d never has a square kernel and takes neither the depthwise
    nor the groupwise path. Transposed convs take only the direct path (``takeDirectConvPath``)
    or im2col.
    """
    in_channels = input_shape[1]
    kernel = weight_shape[2:]
    groups = layer.groups
    if layer.is_transposed:
        return "direct" if _takes_direct_path(layer, in_channels, weight_shape[1] * groups, kernel) else "im2col"
    out_channels = weight_shape[0]
    if _takes_depthwise_path(layer, in_channels, out_channels, kernel):
        return "depthwise"
    channels_per_group = in_channels // groups
    outputs_per_group = out_channels // groups
    groups_together = fbgemm_groups_together(channels_per_group, outputs_per_group, avx512)
    if (
        layer.spatial_dims >= 2
        and channels_per_group == outputs_per_group
        and channels_per_group in _GROUPWISE_CHANNELS
        and groups >= groups_together
        and all(size == 3 for size in kernel)
        and all(pad == 1 for pad in layer.padding)
        and all(dilation == 1 for dilation in layer.dilation)
        and (all(stride == 1 for stride in layer.stride[-2:]) or all(stride == 2 for stride in layer.stride[-2:]))
    ):
        return "groupwise"
    if all(size == 1 for size in kernel) and all(s == 1 for s in layer.stride) and not any(layer.padding):
        return "pointwise"
    return "im2col"


def fbgemm_groups_together(channels_per_group: int, outputs_per_group: int, avx512: bool) -> int:
    """Return how many groups FBGEMM's groupwise kernel handles at once: its minimum group count."""
    width_bytes = 64 if avx512 else 32
    return max(width_bytes // outputs_per_group // max(channels_per_group, 4), 1)


def _takes_direct_path(layer: Layer, in_channels: int, out_channels: int, kernel: tuple[int, ...]) -> bool:
    """Return True for FBGEMM's direct transposed conv2d kernel (src/GenerateKernelDirectConvU8S8S32ACC32.cc)."""
    return (
        layer.spatial_dims == 2
        and layer.groups == 1
        and in_channels % 8 == 0
        and out_channels % 8 == 0
        and kernel[0] == 2
        and kernel[1] <= 6
        and all(stride in (1, 2) for stride in layer.stride)
        and all(dilation == 1 for dilation in layer.dilation)
        and not any(layer.padding)
    )


def _takes_depthwise_path(layer: Layer, in_channels: int, out_channels: int, kernel: tuple[int, ...]) -> bool:
    groups = layer.groups
    return (
        groups == in_channels
        and out_channels in (groups, 2 * groups)
        and groups % 8 == 0
        and layer.spatial_dims >= 2
        and kernel[-2] == kernel[-1]
        and all(size in (3, 5, 7) for size in kernel)
        and all(stride in (1, 2) for stride in layer.stride)
        and all(dilation == 1 for dilation in layer.dilation)
        and all(pad == (size - 1) // 2 for pad, size in zip(layer.padding, kernel))
    )


def onednn_conv_path(layer: Layer, input_shape: tuple[int, ...], weight_shape: tuple[int, ...], saturating: bool) -> str:
    """Return the oneDNN conv implementation: ``depthwise``, ``direct`` or ``reference``.

    Measured with ONEDNN_VERBOSE on oneDNN 3.12 (torch 2.13): one input and one output channel
    per group runs a depthwise kernel. Without VNNI, a grouped conv runs the jit kernel
    (``jit_uni_int8:avx2``) only when both the input and the output channels per group are
    multiples of 4; otherwise it falls back to ``ref:any``, which sums exactly. With VNNI
    every grouped conv has a jit or brgemm kernel.
    """
    groups = layer.groups
    channels_per_group, outputs_per_group = group_channels(layer, weight_shape)
    if groups > 1 and channels_per_group == 1 and outputs_per_group == 1:
        return "depthwise"
    if saturating and groups > 1 and (channels_per_group % 4 or outputs_per_group % 4):
        return "gemm" if layer.is_transposed else "reference"
    return "direct"


def qnnpack_path(layer: Layer, input_shape: tuple[int, ...], weight_shape: tuple[int, ...]) -> str:
    """Return QNNPACK's path: ``gemm`` for linear, ``depthwise`` or ``direct`` for conv."""
    if not layer.is_conv:
        return "gemm"
    if layer.groups > 1 and group_channels(layer, weight_shape) == (1, 1):
        return "depthwise"
    return "direct"


def group_channels(layer: Layer, weight_shape: tuple[int, ...]) -> tuple[int, int]:
    """Return a conv's (input, output) channels per group, for plain and transposed weights."""
    if layer.is_transposed:
        return weight_shape[0] // layer.groups, weight_shape[1]
    return weight_shape[1], weight_shape[0] // layer.groups


def _fbgemm_target(scenario: Scenario, cpu: CpuInfo, environ: Mapping[str, str], reason: str) -> KernelTarget:
    layer = scenario.layer
    if not layer.is_conv:
        gemm = fbgemm_isa(cpu, dict(environ))
        return KernelTarget(scenario.engine, "fbgemm", "gemm", _isa_label(gemm), gemm.saturating, reason)
    avx512 = "avx512f" in cpu.flags
    path = fbgemm_conv_path(layer, scenario.input.shape, scenario.weight.shape, avx512)
    if path == "depthwise":
        note = "FBGEMM's depthwise kernels exist only in an AVX2 form, so they sum pairs of taps with int16 saturation on every x86 CPU"
        return KernelTarget(scenario.engine, "fbgemm", path, "avx2", True, reason, (note,))
    if path == "direct":
        note = (
            "FBGEMM's direct transposed conv kernel exists only in an AVX2 form: it sums pairs of input channels "
            "with int16 saturation on every x86 CPU, and skips the taps that fall outside the input"
        )
        return KernelTarget(scenario.engine, "fbgemm", path, "avx2", True, reason, (note,))
    if path == "groupwise":
        vnni = cpu.has_avx512_vnni
        note = (
            "FBGEMM's groupwise kernel picks its instruction set from cpuinfo and ignores FBGEMM_ENABLE_INSTRUCTIONS"
        )
        return KernelTarget(scenario.engine, "fbgemm", path, "avx512-vnni" if vnni else cpu.isa, not vnni, reason, (note,))
    gemm = fbgemm_isa(cpu, dict(environ))
    return KernelTarget(scenario.engine, "fbgemm", path, _isa_label(gemm), gemm.saturating, reason)


def _onednn_target(scenario: Scenario, cpu: CpuInfo, environ: Mapping[str, str], reason: str) -> KernelTarget:
    layer = scenario.layer
    kernel_isa = onednn_isa(cpu, dict(environ))
    if not layer.is_conv:
        return KernelTarget(scenario.engine, "onednn", "gemm", _isa_label(kernel_isa), kernel_isa.saturating, reason)
    path = onednn_conv_path(layer, scenario.input.shape, scenario.weight.shape, kernel_isa.saturating)
    label = _isa_label(kernel_isa)
    if path == "depthwise":
        note = "oneDNN's depthwise int8 kernel sums exactly on every instruction set"
        return KernelTarget(scenario.engine, "onednn", path, label, False, reason, (note,))
    if path == "gemm":
        note = (
            "without VNNI, oneDNN runs this grouped transposed conv as an int8 GEMM (gemm_s8u8s32) over each input "
            "pixel's channels, whose products are added in int16 pairs, and then scatters the sums to the output"
        )
        return KernelTarget(scenario.engine, "onednn", path, label, True, reason, (note,))
    if path == "reference":
        note = (
            "without VNNI, oneDNN has no jit kernel for groups whose input or output channels are not a multiple of 4; "
            "its reference kernel sums exactly and divides by the output scale instead of multiplying by its reciprocal"
        )
        return KernelTarget(scenario.engine, "onednn", path, label, False, reason, (note,))
    return KernelTarget(scenario.engine, "onednn", path, label, kernel_isa.saturating, reason)


def _isa_label(kernel_isa: KernelIsa) -> str:
    """Return a short instruction-set name such as ``avx512-vnni`` or ``avx2``."""
    return kernel_isa.label.removesuffix(" (forced)").replace("_", "-")
