"""Two-dimensional views of the layer's tensors, as grids show them.

A tensor with more than two dimensions is shown one 2-D slice at a time: the leading indices
pick the slice, the last two dimensions are rows and columns. One :class:`SliceChoice` picks
consistent slices of all three tensors: output (n, output channel), the weight filter of that
output channel (one input channel of its group), and that input channel of the same batch item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.layers import group_of_channel
from qdebug_tui.core.scenario import Scenario


@dataclass(frozen=True)
class SliceChoice:
    """Which 2-D slice to show: batch item, output channel, input channel within the group.

    ``depth`` is the output depth index of a 3-D conv; the input and weight grids show the
    depth its first kernel tap reads. For linear layers ``batch`` contains the leading batch
    indices (all dimensions before the last two) and the channels are unused.
    """

    batch: tuple[int, ...] = (0,)
    out_channel: int = 0
    in_channel: int = 0
    depth: int = 0


@dataclass(frozen=True)
class TensorSlices:
    """The leading indices that select the shown slice of each tensor."""

    input: tuple[int, ...]
    weight: tuple[int, ...]
    output: tuple[int, ...]


def conv_slice_bounds(scenario: Scenario) -> dict[str, int]:
    """Return the number of choices for each field of :class:`SliceChoice` of a conv layer."""
    out = scenario.output_shape
    layer = scenario.layer
    in_per_group = scenario.input.shape[1] // layer.groups
    bounds = {"batch": out[0], "out_channel": out[1], "in_channel": in_per_group}
    if layer.spatial_dims == 3:
        bounds["depth"] = out[2]
    return bounds


def tensor_slices(scenario: Scenario, choice: SliceChoice) -> TensorSlices:
    """Return the leading indices of the slice each tensor shows for ``choice``.

    conv1d tensors are shown whole per batch item (channels × length); conv2d per channel;
    conv3d per channel and depth.
    """
    layer = scenario.layer
    if not layer.is_conv:
        leading = tuple(choice.batch[: max(len(scenario.output_shape) - 2, 0)])
        return TensorSlices(leading, (), leading)

    n = choice.batch[0]
    group = group_of_channel(layer, scenario.weight.shape, choice.out_channel)
    in_channel = group * (scenario.input.shape[1] // layer.groups) + choice.in_channel
    if layer.is_transposed:
        weight = (in_channel, choice.out_channel % scenario.weight.shape[1])
    else:
        weight = (choice.out_channel, choice.in_channel)
    if layer.spatial_dims == 1:
        return TensorSlices((n,), weight[:1], (n,))
    if layer.spatial_dims == 2:
        return TensorSlices((n, in_channel), weight, (n, choice.out_channel))
    input_depth = _first_input_depth(scenario, choice.depth)
    return TensorSlices((n, in_channel, input_depth), (*weight, 0), (n, choice.out_channel, choice.depth))


def _first_input_depth(scenario: Scenario, depth: int) -> int:
    """Return the input depth that kernel depth 0 reads for an output depth, clamped to the input."""
    layer = scenario.layer
    if layer.is_transposed:
        position = (depth + layer.padding[0]) // layer.stride[0]
    else:
        position = depth * layer.stride[0] - layer.padding[0]
    return min(max(position, 0), scenario.input.shape[2] - 1)


def slice_problems(scenario: Scenario, choice: SliceChoice) -> list[str]:
    """Describe every index of ``choice`` outside its tensor; empty when all fit."""
    problems = []
    if scenario.layer.is_conv:
        bounds = conv_slice_bounds(scenario)
        values = {"batch": choice.batch[0], "out_channel": choice.out_channel, "in_channel": choice.in_channel, "depth": choice.depth}
        for name, size in bounds.items():
            if not 0 <= values[name] < size:
                problems.append(f"{name} {values[name]} is out of range; expected 0 to {size - 1}")
        return problems
    leading_shape = scenario.output_shape[:-2]
    batch = choice.batch[: len(leading_shape)]
    for axis, (value, size) in enumerate(zip(batch, leading_shape)):
        if not 0 <= value < size:
            problems.append(f"batch index {axis} = {value} is out of range; expected 0 to {size - 1}")
    return problems


def matrix(values: np.ndarray, leading: tuple[int, ...]) -> np.ndarray:
    """Return the 2-D slice of ``values`` at ``leading``; a 1-D tensor becomes one row."""
    view = values[leading] if leading else values
    while view.ndim > 2:
        view = view[0]
    return view.reshape(1, -1) if view.ndim == 1 else view


def describe(shape: tuple[int, ...], leading: tuple[int, ...], names: tuple[str, ...]) -> str:
    """Describe a slice for a title, for example ``n=0 c=3 of 64``.

    Channel indices carry the channel count; the batch index ``n`` does not.
    """
    if not leading:
        return "all"
    parts = []
    for axis, (name, index) in enumerate(zip(names, leading)):
        parts.append(f"{name}={index}" if name == "n" else f"{name}={index} of {shape[axis]}")
    return " ".join(parts)
