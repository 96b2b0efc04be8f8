"""Edits of a scenario's quantization parameters and engine, as typed into the app.

Headless: the TUI calls these and shows the returned :class:`Problem` next to the field. A
typed value goes through the same checks as a value read from a scenario file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qdebug_tui.core.dtypes import QDtype
from qdebug_tui.core.scenario import ENGINES, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.io.errors import Problem
from qdebug_tui.io.validation import validate_scale, validate_scale_combination, validate_zero_point
from qdebug_tui.numerics.float_path import dequantized
from qdebug_tui.numerics.rounding import quantize_zero_point_first


@dataclass(frozen=True)
class QParamField:
    """One editable quantization parameter: ``tensor`` is input, weight or output."""

    tensor: str
    param: str

    @property
    def widget_id(self) -> str:
        """The app's widget id for this field, for example ``output-zero-point``."""
        return f"{self.tensor}-{self.param.replace('_', '-')}"

    def path(self, scenario: Scenario, channel: int) -> str:
        """Return the scenario field path, with the channel index for per-channel weights."""
        if self.tensor == "weight" and scenario.weight.qparams.per_channel:
            return f"weight.{self.param}[{channel}]"
        return f"{self.tensor}.{self.param}"


QPARAM_FIELDS: tuple[QParamField, ...] = tuple(
    QParamField(tensor, param) for tensor in ("input", "weight", "output") for param in ("scale", "zero_point")
)
FIELDS_BY_ID: dict[str, QParamField] = {field.widget_id: field for field in QPARAM_FIELDS}


def parse_typed(text: str) -> object:
    """Turn typed text into an int or a float when it reads as one; otherwise keep the text.

    The text is kept so that the validators report it as "not a string" with the value shown.
    """
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return stripped


def current_value(scenario: Scenario, field: QParamField, channel: int = 0) -> float | int:
    """Return the value a field shows: the selected output channel's for per-channel weights."""
    if field.tensor == "output":
        return getattr(scenario.output, field.param)
    qparams = _tensor(scenario, field).qparams
    values = qparams.scales if field.param == "scale" else qparams.zero_points
    return values[channel if qparams.per_channel else 0]


def format_value(value: float | int) -> str:
    """Format a scale with ``repr`` so that it round-trips exactly, and a zero point as an integer."""
    return str(value) if isinstance(value, int) else repr(float(value))


def apply_qparam(
    scenario: Scenario,
    field: QParamField,
    text: str,
    *,
    channel: int = 0,
    keep_real: bool = False,
) -> Scenario | Problem:
    """Return ``scenario`` with one typed quantization parameter changed, or the problem with it.

    For input and weight, ``keep_real`` False keeps the integers and reinterprets them with
    the new parameter. ``keep_real`` True keeps the real values and quantizes them again with
    torch 2.13's rule (:func:`quantize_zero_point_first`). The real values are the file's
    when it gave them. Otherwise they are the values the integers meant before the first
    such edit, and later edits re-quantize those same values.
    """
    dtype = scenario.output.dtype if field.tensor == "output" else _tensor(scenario, field).dtype
    path = field.path(scenario, channel)
    typed = parse_typed(text)
    checked = _validate(typed, path, field.param, dtype)
    if isinstance(checked, Problem):
        return checked
    if field.tensor == "output":
        edited = replace(scenario, output=replace(scenario.output, **{field.param: checked}))
    else:
        tensor = _tensor(scenario, field)
        qparams = _with_channel_value(tensor.qparams, field.param, channel, checked)
        if keep_real:
            tensor = requantized(tensor, qparams)
        else:
            tensor = replace(tensor, qparams=qparams)
        edited = replace(scenario, **{field.tensor: tensor})
    if field.param == "scale":
        combination = validate_scale_combination(
            edited.input.qparams.scales[0], edited.weight.qparams.scales, edited.output.scale, (path, typed)
        )
        if combination is not None:
            return combination
    return edited


def apply_engine(scenario: Scenario, engine: str) -> Scenario | Problem:
    """Return ``scenario`` running on another engine, or the problem with the name."""
    if engine not in ENGINES:
        return Problem("engine", engine, f"expected one of {', '.join(ENGINES)}")
    return scenario.with_engine(engine)


def requantized(tensor: QuantizedTensor, qparams: QuantParams) -> QuantizedTensor:
    """Quantize the tensor's real values with ``qparams``; keep those real values for later edits."""
    real = tensor.real if tensor.real is not None else dequantized(tensor)
    scales = qparams.broadcast(qparams.scale_array(), real.ndim)
    zero_points = qparams.broadcast(qparams.zero_point_array(), real.ndim)
    q = quantize_zero_point_first(real, scales, zero_points, tensor.dtype).astype(tensor.dtype.storage)
    source = tensor.source
    # Integers read from a file no longer match it; real values read from a file still do.
    if source.content == "q" and not np.array_equal(q, tensor.q):
        source = source.edited()
    return replace(tensor, qparams=qparams, q=q, real=real, source=source)


def _validate(value: object, path: str, param: str, dtype: QDtype) -> float | int | Problem:
    if param == "scale":
        return validate_scale(value, path)
    return validate_zero_point(value, path, dtype)


def _tensor(scenario: Scenario, field: QParamField) -> QuantizedTensor:
    return scenario.input if field.tensor == "input" else scenario.weight


def _with_channel_value(qparams: QuantParams, param: str, channel: int, value: float | int) -> QuantParams:
    values = list(qparams.scales if param == "scale" else qparams.zero_points)
    values[channel if qparams.per_channel else 0] = value
    if param == "scale":
        return replace(qparams, scales=tuple(values))
    return replace(qparams, zero_points=tuple(values))
