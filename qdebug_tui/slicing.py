"""Navigation over the 2-D slices the screen shows, and the map from output cells to inputs.

:mod:`qdebug_tui.core.slicing` decides which slice of each tensor a :class:`SliceChoice`
shows: conv2d grids show one channel, conv1d grids show channels × length per batch item,
conv3d grids show one depth of one channel, and linear grids show the last two dimensions.
This module adds what the screen needs on top: the full output index of a grid cell and
back, the cells an output cell reads, and stepping through channels, batches and depths.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from qdebug_tui.core.layers import out_channels, receptive_field
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.core.slicing import SliceChoice, conv_slice_bounds, describe, matrix, tensor_slices

INPUT_AXIS_NAMES = ("n", "c", "d")
OUTPUT_AXIS_NAMES = ("n", "oc", "d")
# Leading dimensions of a linear layer's input and output, before (rows, features).
LINEAR_BATCH_NAMES = ("n", "b1", "b2", "b3", "b4")


def input_matrix(scenario: Scenario, values: np.ndarray, choice: SliceChoice) -> np.ndarray:
    return matrix(values, tensor_slices(scenario, choice).input)


def weight_matrix(scenario: Scenario, values: np.ndarray, choice: SliceChoice) -> np.ndarray:
    return matrix(values, tensor_slices(scenario, choice).weight)


def output_matrix(scenario: Scenario, values: np.ndarray, choice: SliceChoice) -> np.ndarray:
    return matrix(values, tensor_slices(scenario, choice).output)


def output_index(scenario: Scenario, choice: SliceChoice, row: int, column: int) -> tuple[int, ...]:
    """Return the full output index of a cell of the output grid."""
    leading = tensor_slices(scenario, choice).output
    if len(scenario.output_shape) == len(leading) + 1:
        return (*leading, column)
    return (*leading, row, column)


def locate_output(scenario: Scenario, index: tuple[int, ...], choice: SliceChoice) -> tuple[SliceChoice, int, int]:
    """Return the slice choice and the grid row and column that show output cell ``index``.

    The choice's output channel becomes the cell's channel, so the weight grid shows the
    filter the cell uses also where one grid shows several channels (conv1d, linear).
    """
    shape = scenario.output_shape
    row, column = (0, index[-1]) if len(shape) == 1 else (index[-2], index[-1])
    if not scenario.layer.is_conv:
        leading = tuple(int(i) for i in index[: max(len(shape) - 2, 0)])
        return replace(choice, batch=leading or choice.batch, out_channel=index[-1]), row, column
    located = replace(choice, batch=(index[0],), out_channel=index[1])
    if scenario.layer.spatial_dims == 3:
        located = replace(located, depth=index[2])
    return located, row, column


def input_highlight(scenario: Scenario, choice: SliceChoice, row: int, column: int) -> np.ndarray:
    """Return a mask over the input slice of the elements that output cell (row, column) reads."""
    slices = tensor_slices(scenario, choice)
    mask = np.zeros(matrix(scenario.input.q, slices.input).shape, dtype=bool)
    out = output_index(scenario, choice, row, column)
    for tap in receptive_field(scenario.layer, scenario.input.shape, scenario.weight.shape, out):
        cell = _cell_in_slice(tap.input_index, slices.input, scenario.input.shape)
        if cell is not None:
            mask[cell] = True
    return mask


def weight_highlight(scenario: Scenario, choice: SliceChoice, row: int, column: int) -> np.ndarray:
    """Return a mask over the weight slice of the weights that meet an input element, not padding."""
    slices = tensor_slices(scenario, choice)
    mask = np.zeros(matrix(scenario.weight.q, slices.weight).shape, dtype=bool)
    out = output_index(scenario, choice, row, column)
    for tap in receptive_field(scenario.layer, scenario.input.shape, scenario.weight.shape, out):
        if tap.input_index is None:
            continue
        cell = _cell_in_slice(tap.weight_index, slices.weight, scenario.weight.shape)
        if cell is not None:
            mask[cell] = True
    return mask


def _cell_in_slice(index: tuple[int, ...] | None, leading: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, int] | None:
    """Return the grid cell of a full tensor index when the slice at ``leading`` shows it.

    This mirrors :func:`~qdebug_tui.core.slicing.matrix`, which takes index 0 of any
    dimension beyond the last two and shows a 1-D remainder as one row.
    """
    if index is None or tuple(index[: len(leading)]) != leading:
        return None
    rest = index[len(leading) :]
    while len(rest) > 2:
        if rest[0] != 0:
            return None
        rest = rest[1:]
    return (0, rest[0]) if len(rest) == 1 else (rest[0], rest[1])


def weight_qparam_channel(scenario: Scenario, choice: SliceChoice) -> int:
    """Return the index into per-channel weight scales for the selected output channel.

    Transposed convs quantize along weight axis 1, which has C_out / groups entries.
    """
    per_channel_axis = scenario.layer.weight_channel_axis
    return choice.out_channel % scenario.weight.shape[per_channel_axis]


def step_in_channel(scenario: Scenario, choice: SliceChoice, step: int) -> SliceChoice:
    """Move to the previous or next input channel within the output channel's group, wrapping."""
    channels = conv_slice_bounds(scenario)["in_channel"]
    return replace(choice, in_channel=(choice.in_channel + step) % channels)


def step_depth(scenario: Scenario, choice: SliceChoice, step: int) -> SliceChoice:
    """Move to the previous or next output depth of a 3-D conv, wrapping."""
    depths = conv_slice_bounds(scenario)["depth"]
    return replace(choice, depth=(choice.depth + step) % depths)


def step_output_slice(scenario: Scenario, choice: SliceChoice, step: int) -> SliceChoice:
    """Move to the previous or next output channel, then batch item, wrapping.

    For linear layers this steps through the leading batch indices.
    """
    if not scenario.layer.is_conv:
        leading_shape = scenario.output_shape[:-2]
        if not leading_shape:
            return choice
        flat = (int(np.ravel_multi_index(choice.batch[: len(leading_shape)], leading_shape)) + step) % math.prod(leading_shape)
        return replace(choice, batch=tuple(int(i) for i in np.unravel_index(flat, leading_shape)))
    channels = out_channels(scenario.layer, scenario.weight.shape)
    slices = scenario.output_shape[0] * channels
    flat = (choice.batch[0] * channels + choice.out_channel + step) % slices
    batch, out_channel = divmod(flat, channels)
    return replace(choice, batch=(batch,), out_channel=out_channel)


def shows_in_channels(scenario: Scenario) -> bool:
    """Return True when the input grid shows one input channel at a time (conv2d and conv3d)."""
    return scenario.layer.is_conv and scenario.layer.spatial_dims >= 2


def next_mismatch(diff: np.ndarray, current: tuple[int, ...], forward: bool = True) -> tuple[int, ...] | None:
    """Return the next (or previous) nonzero cell of ``diff`` after ``current`` in C order, wrapping.

    Returns None when no cell differs. With one differing cell, that cell is returned even
    when it is ``current``.
    """
    flat = np.flatnonzero(diff)
    if flat.size == 0:
        return None
    current_flat = int(np.ravel_multi_index(current, diff.shape))
    if forward:
        position = int(np.searchsorted(flat, current_flat, side="right")) % flat.size
    else:
        position = (int(np.searchsorted(flat, current_flat, side="left")) - 1) % flat.size
    return tuple(int(i) for i in np.unravel_index(int(flat[position]), diff.shape))


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(size) for size in shape)


def input_subtitle(scenario: Scenario, choice: SliceChoice) -> str:
    names = INPUT_AXIS_NAMES if scenario.layer.is_conv else LINEAR_BATCH_NAMES
    return describe(scenario.input.shape, tensor_slices(scenario, choice).input, names)


def weight_subtitle(scenario: Scenario, choice: SliceChoice) -> str:
    names = ("ic", "oc", "kd") if scenario.layer.is_transposed else ("oc", "ic", "kd")
    return describe(scenario.weight.shape, tensor_slices(scenario, choice).weight, names)


def output_subtitle(scenario: Scenario, choice: SliceChoice) -> str:
    names = OUTPUT_AXIS_NAMES if scenario.layer.is_conv else LINEAR_BATCH_NAMES
    return describe(scenario.output_shape, tensor_slices(scenario, choice).output, names)
