"""The 2-D slice of each tensor on screen, and the map from output cells back to inputs.

Conv tensors are (N, C, H, W): the input grid shows ``input[n, c]``, the weight grid the
filter ``weight[oc, ic]`` and the output grid ``output[n, oc]``. Linear tensors are
(*batch, features): the last two dimensions form the grid (one row for a 1-D tensor), the
leading ones are flattened into one batch index, and the weight (out, in) is shown whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qdebug_tui.core.layers import group_of_channel, input_region
from qdebug_tui.core.scenario import Scenario


@dataclass(frozen=True)
class SlicePosition:
    """The slice on screen: batch index, input channel and output channel."""

    batch: int = 0
    in_channel: int = 0
    out_channel: int = 0


def as_batched_matrices(array: np.ndarray) -> np.ndarray:
    """View a linear tensor (*batch, rows, features) as (batches, rows, features)."""
    if array.ndim == 1:
        return array.reshape(1, 1, -1)
    return array.reshape(-1, array.shape[-2], array.shape[-1])


def batch_count(scenario: Scenario) -> int:
    if scenario.layer.is_conv:
        return scenario.input.shape[0]
    return as_batched_matrices(scenario.input.q).shape[0]


def in_channel_count(scenario: Scenario) -> int:
    """Return the input channels a conv has; a linear layer has one "channel", the whole input."""
    return scenario.input.shape[1] if scenario.layer.is_conv else 1


def out_channel_count(scenario: Scenario) -> int:
    return scenario.weight.shape[0]


def weight_in_channel(scenario: Scenario, position: SlicePosition) -> tuple[int, bool]:
    """Return the filter's channel index for the selected input channel, and whether it is read.

    With groups, output channel ``oc`` reads only the input channels of its group. For an
    input channel of another group, the filter at ``in_channel mod channels_per_group`` is shown.
    """
    per_group = scenario.weight.shape[1]
    group = group_of_channel(scenario.layer, scenario.weight.shape, position.out_channel)
    index = position.in_channel - group * per_group
    if 0 <= index < per_group:
        return index, True
    return position.in_channel % per_group, False


def input_matrix(scenario: Scenario, values: np.ndarray, position: SlicePosition) -> np.ndarray:
    """Return the input slice on screen from an input-shaped array."""
    if scenario.layer.is_conv:
        return values[position.batch, position.in_channel]
    return as_batched_matrices(values)[position.batch]


def weight_matrix(scenario: Scenario, values: np.ndarray, position: SlicePosition) -> np.ndarray:
    """Return the weight slice on screen: one conv filter, or the whole linear weight."""
    if scenario.layer.is_conv:
        return values[position.out_channel, weight_in_channel(scenario, position)[0]]
    return values


def output_matrix(scenario: Scenario, values: np.ndarray, position: SlicePosition) -> np.ndarray:
    """Return the output slice on screen from an output-shaped array."""
    if scenario.layer.is_conv:
        return values[position.batch, position.out_channel]
    return as_batched_matrices(values)[position.batch]


def output_index(scenario: Scenario, position: SlicePosition, row: int, column: int) -> tuple[int, ...]:
    """Return the full output index of a cell of the output grid."""
    if scenario.layer.is_conv:
        return (position.batch, position.out_channel, row, column)
    shape = scenario.output_shape
    if len(shape) == 1:
        return (column,)
    leading = np.unravel_index(position.batch, shape[:-2]) if len(shape) > 2 else ()
    return (*(int(i) for i in leading), row, column)


def locate_output(scenario: Scenario, index: tuple[int, ...], position: SlicePosition) -> tuple[SlicePosition, int, int]:
    """Return the slice position and the grid row and column that show output cell ``index``."""
    if scenario.layer.is_conv:
        batch, out_channel, row, column = index
        return replace(position, batch=batch, out_channel=out_channel), row, column
    shape = scenario.output_shape
    if len(shape) == 1:
        return replace(position, batch=0), 0, index[0]
    batch = int(np.ravel_multi_index(index[:-2], shape[:-2])) if len(shape) > 2 else 0
    return replace(position, batch=batch), index[-2], index[-1]


def input_highlight(scenario: Scenario, position: SlicePosition, row: int, column: int) -> np.ndarray:
    """Return a mask over the input slice of the elements that output cell (row, column) reads."""
    matrix_shape = input_matrix(scenario, scenario.input.q, position).shape
    mask = np.zeros(matrix_shape, dtype=bool)
    out = output_index(scenario, position, row, column)
    for index in input_region(scenario.layer, scenario.input.shape, scenario.weight.shape, out):
        if scenario.layer.is_conv:
            if index[0] == position.batch and index[1] == position.in_channel:
                mask[index[2], index[3]] = True
        else:
            mask[index[-2] if len(index) > 1 else 0, index[-1]] = True
    return mask


def weight_highlight(scenario: Scenario, position: SlicePosition, row: int, column: int) -> np.ndarray | None:
    """Return a mask over the weight slice of the row a linear output cell uses; None for conv.

    A conv grid already shows exactly the filter of the selected output channel.
    """
    if scenario.layer.is_conv:
        return None
    mask = np.zeros(scenario.weight.shape, dtype=bool)
    mask[column, :] = True
    return mask


def step_in_channel(scenario: Scenario, position: SlicePosition, step: int) -> SlicePosition:
    """Move to the previous or next input channel, wrapping around."""
    channels = in_channel_count(scenario)
    return replace(position, in_channel=(position.in_channel + step) % channels)


def step_output_slice(scenario: Scenario, position: SlicePosition, step: int) -> SlicePosition:
    """Move to the previous or next output slice: output channel first, then batch, wrapping."""
    out_channels = out_channel_count(scenario) if scenario.layer.is_conv else 1
    slices = batch_count(scenario) * out_channels
    flat = (position.batch * out_channels + (position.out_channel if scenario.layer.is_conv else 0) + step) % slices
    batch, out_channel = divmod(flat, out_channels)
    if not scenario.layer.is_conv:
        return replace(position, batch=batch)
    return replace(position, batch=batch, out_channel=out_channel)


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


def input_subtitle(scenario: Scenario, position: SlicePosition) -> str:
    if not scenario.layer.is_conv:
        return _batch_text(scenario, position)
    text = f"n={position.batch} c={position.in_channel} of {in_channel_count(scenario)}"
    if not weight_in_channel(scenario, position)[1]:
        text += f", not read by oc={position.out_channel}"
    return text


def weight_subtitle(scenario: Scenario, position: SlicePosition) -> str:
    if not scenario.layer.is_conv:
        return f"all {out_channel_count(scenario)} rows"
    ic, _ = weight_in_channel(scenario, position)
    return f"oc={position.out_channel} of {out_channel_count(scenario)} ic={ic} of {scenario.weight.shape[1]}"


def output_subtitle(scenario: Scenario, position: SlicePosition) -> str:
    if not scenario.layer.is_conv:
        return _batch_text(scenario, position)
    return f"n={position.batch} oc={position.out_channel} of {out_channel_count(scenario)}"


def _batch_text(scenario: Scenario, position: SlicePosition) -> str:
    batches = batch_count(scenario)
    return f"batch {position.batch} of {batches}" if batches > 1 else "whole tensor"
