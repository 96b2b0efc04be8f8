"""Layer shapes on which a real torch 2.13 kernel returns wrong integers.

qdebug's emulators compute what these kernels are designed to compute. On the shapes below
the real kernels may not, and the accumulator trace reports ``kernel-mismatch``. Random
comparisons with the real kernels found them, and the exact reference and the other engines
agree with the emulators there (docs/numerics.md has the measurements).
"""

from __future__ import annotations

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.core.layers import conv_output_length, out_channels
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.targets import KernelTarget, fbgemm_groups_together, group_channels, resolve_target


def known_kernel_bug(scenario: Scenario, target: KernelTarget, avx512: bool) -> str | None:
    """Return a description of a known kernel bug that ``scenario`` can hit, or None.

    ``avx512`` is whether cpuinfo reports AVX-512 on the machine that runs the real kernel.
    """
    layer = scenario.layer
    if not layer.is_conv:
        return None
    if target.library == "qnnpack" and layer.kind == "conv_transpose3d":
        return (
            "QNNPACK's quantized conv_transpose3d computes only the first output depth slice; the others change "
            "from run to run, as reads of uninitialized memory would"
        )
    in_channels = scenario.input.shape[1]
    outputs = out_channels(layer, scenario.weight.shape)
    if target.library == "onednn" and layer.is_transposed and in_channels != outputs:
        return (
            f"oneDNN's quantized transposed conv returns wrong values on most cells when the input channels "
            f"({in_channels}) differ from the output channels ({outputs})"
        )
    if target.library == "fbgemm" and target.kernel_path == "direct" and layer.stride[0] != 1:
        return (
            "FBGEMM's direct transposed conv kernel implements only a height stride of 1 but is chosen for a "
            f"height stride of {layer.stride[0]}, and returns wrong values on most cells"
        )
    if target.library == "fbgemm" and target.kernel_path == "direct" and scenario.input.shape[0] > 1:
        return (
            "FBGEMM's direct transposed conv kernel computes only the first sample of a batch; the other "
            f"{scenario.input.shape[0] - 1} come out wrong"
        )
    if target.library == "fbgemm" and target.kernel_path == "depthwise" and layer.spatial_dims == 3:
        for dim in range(3):
            size, kernel = scenario.input.shape[2 + dim], scenario.weight.shape[2 + dim]
            # Measured: wrong or crashing with sides shorter than the padding, and crashing with
            # sides equal to it at stride 2. NOTE: the exact boundary is not known, so this rule is wider.
            if size <= (kernel - 1) // 2:
                return (
                    f"FBGEMM's 3-D depthwise kernel returns wrong values, or corrupts memory, when an input side "
                    f"({size} in spatial dimension {dim}) is not longer than the padding ({(kernel - 1) // 2})"
                )
    if target.library == "onednn" and layer.kind == "conv3d" and target.kernel_path != "reference" and _depth_one_grouped(scenario):
        return (
            "oneDNN 3.12 returns wrong values, different from run to run, for a grouped conv3d with one input "
            "channel and several output channels per group when the input depth is 1 and the depth padding is not 0"
        )
    if target.library == "fbgemm" and target.kernel_path == "groupwise":
        together = fbgemm_groups_together(scenario.input.shape[1] // layer.groups, scenario.weight.shape[0] // layer.groups, avx512)
        if layer.groups % together:
            return (
                f"FBGEMM's groupwise kernel handles {together} groups at a time on this CPU and returns wrong values "
                f"for whole groups when the number of groups ({layer.groups}) is not a multiple of {together}"
            )
    if target.library == "onednn" and _has_all_padding_window(scenario):
        return (
            "oneDNN 3.12 can return wrong values for output rows or columns whose window lies entirely in the "
            "padding, depending on what ran before in the same process, and can crash when such an input is 1 wide"
        )
    return None


def _depth_one_grouped(scenario: Scenario) -> bool:
    layer = scenario.layer
    channels, outputs = group_channels(layer, scenario.weight.shape)
    return layer.groups > 1 and channels == 1 and outputs > 1 and scenario.input.shape[2] == 1 and layer.padding[0] > 0


def _has_all_padding_window(scenario: Scenario) -> bool:
    """Return True when some output row or column, in any spatial dimension, reads only padding.

    For a transposed conv, such a row is one that no input position reaches.
    """
    layer = scenario.layer
    if layer.is_transposed:
        return _has_unreached_output(scenario)
    for dim in range(layer.spatial_dims):
        size = scenario.input.shape[2 + dim]
        kernel = scenario.weight.shape[2 + dim]
        stride, padding, dilation = layer.stride[dim], layer.padding[dim], layer.dilation[dim]
        for position in range(conv_output_length(size, kernel, stride, padding, dilation)):
            start = position * stride - padding
            if all(not 0 <= start + tap * dilation < size for tap in range(kernel)):
                return True
    return False


def _has_unreached_output(scenario: Scenario) -> bool:
    layer = scenario.layer
    for dim in range(layer.spatial_dims):
        size = scenario.input.shape[2 + dim]
        kernel = scenario.weight.shape[2 + dim]
        stride, padding, dilation = layer.stride[dim], layer.padding[dim], layer.dilation[dim]
        length = scenario.output_shape[2 + dim]
        for position in range(length):
            reached = False
            for tap in range(kernel):
                numerator = position + padding - tap * dilation
                if numerator % stride == 0 and 0 <= numerator // stride < size:
                    reached = True
                    break
            if not reached:
                return True
    return False


def crash_risk(scenario: Scenario) -> str | None:
    """Return why the real kernel may crash this process on ``scenario``, or None.

    Several of the bugs above write out of bounds, abort or hang (docs/numerics.md), so every
    scenario that can hit one of them on this CPU, in this process's environment, is a risk.
    """
    cpu = detect_cpu()
    try:
        target = resolve_target(scenario, "native", cpu=cpu)
    except ValueError:
        return None  # the real kernel rejects the layer before it computes anything
    return known_kernel_bug(scenario, target, "avx512f" in cpu.flags)
