"""Edits of single integers of the input and weight tensors, as typed into a grid cell.

Headless: the TUI maps the cell under the cursor to a tensor index with :func:`cell_index`
and applies the typed text with :func:`apply_value`, which returns the edited scenario or
the :class:`~qdebug_tui.io.errors.Problem` to show.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qdebug_tui.core.scenario import QuantizedTensor, Scenario
from qdebug_tui.core.slicing import SliceChoice, tensor_slices
from qdebug_tui.editing import parse_typed
from qdebug_tui.io.errors import Problem
from qdebug_tui.io.validation import validate_dtype_integer
from qdebug_tui.numerics.rounding import dequantize

EDITABLE_TENSORS = ("input", "weight")


def cell_index(scenario: Scenario, tensor_name: str, choice: SliceChoice, row: int, column: int) -> tuple[int, ...]:
    """Return the full index into ``tensor_name`` of a cell of its grid.

    This inverts :func:`qdebug_tui.core.slicing.matrix`: the leading indices pick the slice,
    any further dimension beyond the last two is at index 0, and a 1-D remainder is one row.
    """
    slices = tensor_slices(scenario, choice)
    leading = slices.input if tensor_name == "input" else slices.weight
    shape = _tensor(scenario, tensor_name).shape
    remaining = len(shape) - len(leading)
    if remaining <= 0:
        return tuple(leading)
    if remaining == 1:
        return (*leading, column)
    return (*leading, *(0,) * (remaining - 2), row, column)


def element_path(tensor_name: str, index: tuple[int, ...]) -> str:
    """Return the scenario field path of one element, for example ``input.q[0][0][2][3]``."""
    return f"{tensor_name}.q" + "".join(f"[{i}]" for i in index)


def apply_value(scenario: Scenario, tensor_name: str, index: tuple[int, ...], text: str) -> Scenario | Problem:
    """Return ``scenario`` with one typed integer of the input or weight replaced, or the problem with it.

    The value must be an integer within the tensor's dtype range. When the tensor keeps real
    values (for the keep-real-values mode), the edited element's real value becomes what the
    new integer means with the tensor's scale and zero point. An unchanged value returns
    ``scenario`` itself.
    """
    if tensor_name not in EDITABLE_TENSORS:
        raise ValueError(f"tensor {tensor_name!r} is not editable; expected one of {', '.join(EDITABLE_TENSORS)}")
    tensor = _tensor(scenario, tensor_name)
    checked = validate_dtype_integer(parse_typed(text), element_path(tensor_name, index), tensor.dtype)
    if isinstance(checked, Problem):
        return checked
    if int(tensor.q[index]) == checked:
        return scenario

    q = tensor.q.copy()
    q[index] = checked
    real = None
    if tensor.real is not None:
        real = tensor.real.copy()
        real[index] = _real_value(tensor, index, checked)
    edited = replace(tensor, q=q, real=real, source=tensor.source.edited())
    return replace(scenario, **{tensor_name: edited})


def _real_value(tensor: QuantizedTensor, index: tuple[int, ...], value: int) -> np.float32:
    qparams = tensor.qparams
    channel = index[qparams.axis] if qparams.per_channel else 0
    scale = np.float64(qparams.scales[channel])
    zero_point = np.int64(qparams.zero_points[channel])
    return np.float32(dequantize(np.asarray([value]), scale, zero_point)[0])


def _tensor(scenario: Scenario, tensor_name: str) -> QuantizedTensor:
    return scenario.input if tensor_name == "input" else scenario.weight
