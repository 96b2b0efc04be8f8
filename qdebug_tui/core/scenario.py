"""The scenario: one quantized layer with its tensors, quantization parameters and engine.

A scenario is immutable. Edits build a new one with :func:`dataclasses.replace`, so an undo
history is a list of scenarios that share their unchanged arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qdebug_tui.core.dtypes import QDtype
from qdebug_tui.core.layers import Layer, output_shape

ENGINES = ("x86", "fbgemm", "qnnpack", "onednn")


@dataclass(frozen=True)
class QuantParams:
    """Scale and zero point, per tensor (``axis`` is None, one entry) or per channel along ``axis``."""

    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    axis: int | None = None

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    def scale_array(self) -> np.ndarray:
        """Return the scales as float64."""
        return np.asarray(self.scales, dtype=np.float64)

    def zero_point_array(self) -> np.ndarray:
        """Return the zero points as int64."""
        return np.asarray(self.zero_points, dtype=np.int64)

    def broadcast(self, values: np.ndarray, ndim: int) -> np.ndarray:
        """Reshape per-channel ``values`` to broadcast against a tensor of ``ndim`` dimensions."""
        if self.axis is None:
            return values.reshape(())
        shape = [1] * ndim
        shape[self.axis] = -1
        return values.reshape(shape)


@dataclass(frozen=True)
class TensorSource:
    """The origin of a tensor's values, so that saving can keep a file reference.

    ``kind`` is ``"inline"`` (a nested list in the scenario), ``"npy"``, ``"csv"``, or
    ``"edited"`` once the app has changed the values. An edited tensor keeps ``file`` and
    ``shape`` of the file it was read from, if any. ``content`` is ``"q"`` (integers) or
    ``"real"`` (real values quantized on load).
    """

    kind: str = "inline"
    content: str = "q"
    file: str | None = None
    shape: tuple[int, ...] | None = None

    def edited(self) -> TensorSource:
        """Return this source marked as edited, so that saving writes the values, not the file reference."""
        return replace(self, kind="edited")


@dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """A quantized tensor: integer values, dtype and quantization parameters.

    ``q`` is stored in the dtype's NumPy storage type (uint8 or int8). ``real`` keeps the real
    values when the scenario gave them, so that a changed scale can re-quantize them.
    """

    dtype: QDtype
    qparams: QuantParams
    q: np.ndarray
    source: TensorSource = field(default_factory=TensorSource)
    real: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.q.shape)

    def centered(self) -> np.ndarray:
        """Return q − zero_point as int64, broadcast per channel."""
        zero_points = self.qparams.broadcast(self.qparams.zero_point_array(), self.q.ndim)
        return self.q.astype(np.int64) - zero_points


@dataclass(frozen=True)
class OutputQuant:
    """The output's dtype and per-tensor quantization parameters."""

    dtype: QDtype
    scale: float
    zero_point: int


@dataclass(frozen=True)
class BiasTensor:
    """A float32 bias, one value per output channel, and where it came from."""

    values: np.ndarray
    source: TensorSource = field(default_factory=TensorSource)


@dataclass(frozen=True, eq=False)
class Scenario:
    """One quantized layer to debug: settings, tensors, output quantization and engine."""

    name: str
    layer: Layer
    input: QuantizedTensor
    weight: QuantizedTensor
    bias: BiasTensor | None
    output: OutputQuant
    engine: str
    description: str = ""
    path: Path | None = None

    @property
    def output_shape(self) -> tuple[int, ...]:
        return output_shape(self.layer, self.input.shape, self.weight.shape)

    @property
    def bias_values(self) -> np.ndarray | None:
        return None if self.bias is None else self.bias.values

    def with_engine(self, engine: str) -> Scenario:
        return replace(self, engine=engine)
