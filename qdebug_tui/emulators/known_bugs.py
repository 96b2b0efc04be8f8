"""Layer shapes on which a real torch 2.13 kernel returns wrong integers.

qdebug's emulators compute what these kernels are designed to compute. On the shapes below
the real kernels may not, and the accumulator trace reports ``kernel-mismatch``. Random
comparisons with the real kernels found both; the exact reference and the other engines
agree with the emulators there (docs/numerics.md has the measurements).
"""

from __future__ import annotations

from qdebug_tui.core.layers import conv_output_length
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.targets import KernelTarget, fbgemm_groups_together


def known_kernel_bug(scenario: Scenario, target: KernelTarget, avx512: bool) -> str | None:
    """Return a description of a known kernel bug that ``scenario`` can hit, or None.

    ``avx512`` is whether cpuinfo reports AVX-512 on the machine that runs the real kernel.
    """
    layer = scenario.layer
    if not layer.is_conv:
        return None
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


def _has_all_padding_window(scenario: Scenario) -> bool:
    """Return True when some output row or column, in any spatial dimension, reads only padding."""
    layer = scenario.layer
    for dim in range(layer.spatial_dims):
        size = scenario.input.shape[2 + dim]
        kernel = scenario.weight.shape[2 + dim]
        stride, padding, dilation = layer.stride[dim], layer.padding[dim], layer.dilation[dim]
        for position in range(conv_output_length(size, kernel, stride, padding, dilation)):
            start = position * stride - padding
            if all(not 0 <= start + tap * dilation < size for tap in range(kernel)):
                return True
    return False
