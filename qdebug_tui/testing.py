"""Random quantized layers for property tests and soak runs of the emulators.

A :class:`LayerSpec` fixes the structure (kind, shapes, strides, quantization modes); the
tensor values come from a seeded NumPy generator. Hypothesis strategies draw specs in
``tests/strategies.py``; :func:`random_spec` draws them from NumPy for the soak script.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer, shape_problems
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.numerics.reference import exact_accumulators

FAMILIES = ("conv", "depthwise", "groupwise", "pointwise", "linear")
VALUE_MODES = ("full", "extreme", "narrow", "seven-bit", "sparse")
SCALE_MODES = ("normal", "normal", "normal", "power-of-two", "overflow")


@dataclass(frozen=True)
class LayerSpec:
    """The structure of a random layer; ``build_scenario`` fills in the values."""

    family: str
    batch: tuple[int, ...]
    groups: int
    channels_per_group: int
    outputs_per_group: int
    spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    relu: bool
    per_channel: bool
    weight_zero_points: str
    value_mode: str
    scale_mode: str
    bias_mode: str
    kind: str = "conv2d"
    output_padding: tuple[int, ...] = ()

    @property
    def is_conv(self) -> bool:
        return self.family != "linear"

    @property
    def is_transposed(self) -> bool:
        return self.kind.startswith("conv_transpose")

    def layer(self) -> Layer:
        if not self.is_conv:
            return Layer("linear", relu=self.relu)
        output_padding = self.output_padding or (0,) * len(self.stride)
        return Layer(self.kind, self.stride, self.padding, self.dilation, self.groups, self.relu, output_padding)

    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Return the input and weight shapes."""
        if not self.is_conv:
            return (*self.batch, self.channels_per_group), (self.outputs_per_group, self.channels_per_group)
        channels = self.groups * self.channels_per_group
        if self.is_transposed:
            return (self.batch[0], channels, *self.spatial), (channels, self.outputs_per_group, *self.kernel)
        return (self.batch[0], channels, *self.spatial), (self.groups * self.outputs_per_group, self.channels_per_group, *self.kernel)

    @property
    def out_channels(self) -> int:
        return self.outputs_per_group if not self.is_conv else self.groups * self.outputs_per_group

    def is_valid(self) -> bool:
        input_shape, weight_shape = self.shapes()
        if self.is_transposed and (self.relu or (self.per_channel and self.groups > 1)):
            return False
        return not shape_problems(self.layer(), input_shape, weight_shape, (self.out_channels,))


def build_scenario(spec: LayerSpec, engine: str, seed: int) -> Scenario:
    """Fill ``spec`` with values from ``np.random.default_rng(seed)``.

    The onednn engine gets symmetric weights, which it requires. The output scale is set from
    the exact accumulators so that outputs spread over the output range, except in the
    ``overflow`` scale mode, which makes |y| exceed 2^31 on purpose.
    """
    rng = np.random.default_rng(seed)
    input_shape, weight_shape = spec.shapes()
    out_channels = spec.out_channels
    input_zero_point = int(rng.integers(0, 256))
    input_q = _values(rng, spec.value_mode, 0, 255, input_shape, input_zero_point).astype(np.uint8)
    weight_q = _values(rng, spec.value_mode, -128, 127, weight_shape, 0).astype(np.int8)

    symmetric = engine == "onednn" or spec.weight_zero_points == "zero"
    channels = out_channels if spec.per_channel else 1
    zero_points = tuple(0 if symmetric else int(rng.integers(-40, 41)) for _ in range(channels))
    weight_scales = tuple(_scale(rng, spec.scale_mode, -4, -1) for _ in range(channels))
    input_scale = _scale(rng, spec.scale_mode, -3, 0)
    weight = QuantizedTensor(QINT8, QuantParams(weight_scales, zero_points, spec.layer().weight_channel_axis if spec.per_channel else None), weight_q)
    inputs = QuantizedTensor(QUINT8, QuantParams((input_scale,), (input_zero_point,)), input_q)

    accumulators = exact_accumulators(spec.layer(), inputs.centered(), weight.centered())
    spread = float(np.std(accumulators)) + 1.0
    mean_weight_scale = float(np.mean(weight_scales))
    if spec.scale_mode == "overflow":
        output_scale = input_scale * mean_weight_scale * 2.0**-30
    elif spec.scale_mode == "power-of-two":
        output_scale = 2.0 ** round(np.log2(input_scale * mean_weight_scale * spread / 40))
    else:
        output_scale = input_scale * mean_weight_scale * spread / 40 * 10 ** rng.uniform(-0.5, 0.5)
    output = OutputQuant(QUINT8, float(output_scale), int(rng.integers(0, 256)))
    bias = _bias(rng, spec.bias_mode, out_channels, output_scale, input_scale, weight_scales)
    return Scenario(f"random {spec.family}", spec.layer(), inputs, weight, bias, output, engine)


def _values(rng, mode: str, low: int, high: int, shape, zero_point: int) -> np.ndarray:
    if mode == "full":
        return rng.integers(low, high + 1, shape)
    if mode == "extreme":
        ends = rng.choice([low, high], shape)
        return np.where(rng.random(shape) < 0.5, ends, rng.integers(low, high + 1, shape))
    if mode == "seven-bit":
        return rng.integers(max(low, 0) if low >= 0 else -64, (127 if low >= 0 else 63) + 1, shape)
    if mode == "sparse":
        return np.where(rng.random(shape) < 0.6, zero_point, rng.integers(low, high + 1, shape))
    center = zero_point if low >= 0 else 0
    return np.clip(rng.integers(center - 20, center + 21, shape), low, high)


def _scale(rng, mode: str, low_exponent: float, high_exponent: float) -> float:
    if mode == "power-of-two":
        return float(2.0 ** int(rng.integers(round(low_exponent * 3.3), round(high_exponent * 3.3) + 1)))
    return float(10 ** rng.uniform(low_exponent, high_exponent))


def _bias(rng, mode: str, channels: int, output_scale: float, input_scale: float, weight_scales) -> BiasTensor | None:
    if mode == "none":
        return None
    if mode == "half-units":
        # Odd multiples of half an accumulator unit: rounding the bias to int32 is a tie.
        units = np.resize(np.asarray(weight_scales, dtype=np.float64), channels) * input_scale
        values = (rng.integers(-50, 51, channels) + 0.5) * units
    else:
        values = rng.normal(0.0, 30.0 * output_scale, channels)
    return BiasTensor(values.astype(np.float32))


def random_spec(rng: np.random.Generator) -> LayerSpec:
    """Draw a valid layer structure from NumPy; the soak script's counterpart of the strategies."""
    while True:
        family = str(rng.choice(FAMILIES, p=[0.45, 0.12, 0.12, 0.11, 0.20]))
        spec = _random_spec(rng, family)
        if spec.is_valid():
            return spec


def _ints(rng, low: int, high: int, count: int = 2) -> tuple[int, ...]:
    return tuple(int(v) for v in rng.integers(low, high + 1, count))


def _random_spec(rng, family: str) -> LayerSpec:
    common = dict(
        relu=bool(rng.random() < 0.3),
        per_channel=bool(rng.random() < 0.5),
        weight_zero_points=str(rng.choice(["zero", "nonzero"])),
        value_mode=str(rng.choice(VALUE_MODES)),
        scale_mode=str(rng.choice(SCALE_MODES)),
        bias_mode=str(rng.choice(["none", "normal", "normal", "half-units"])),
    )
    if family == "linear":
        batch = _ints(rng, 1, 4, int(rng.integers(1, 3)))
        return LayerSpec(family, batch, 1, int(rng.integers(1, 80)), int(rng.integers(1, 40)), (), (), (), (), (), **common)
    batch = (int(rng.integers(1, 3)),)
    spatial = _ints(rng, 1, 10)
    if family == "depthwise":
        size = int(rng.choice([3, 5, 7]))
        groups = int(rng.choice([8, 16, 24]))
        stride = (int(rng.choice([1, 2])),) * 2
        return LayerSpec(family, batch, groups, 1, int(rng.choice([1, 2])), spatial, (size, size), stride,
                         ((size - 1) // 2,) * 2, (1, 1), **common)
    if family == "groupwise":
        channels = int(rng.choice([2, 4, 8, 16]))
        stride = (int(rng.choice([1, 2])),) * 2
        return LayerSpec(family, batch, int(rng.integers(1, 17)), channels, channels, spatial, (3, 3), stride,
                         (1, 1), (1, 1), **common)
    if family == "pointwise":
        return LayerSpec(family, batch, int(rng.choice([1, 1, 2])), int(rng.integers(1, 20)), int(rng.integers(1, 12)),
                         spatial, (1, 1), (1, 1), (0, 0), (1, 1), **common)
    return LayerSpec(family, batch, int(rng.choice([1, 1, 1, 2, 3, 4])), int(rng.integers(1, 9)), int(rng.integers(1, 7)),
                     spatial, _ints(rng, 1, 5), _ints(rng, 1, 3), _ints(rng, 0, 3), _ints(rng, 1, 2), **common)


def random_kind_spec(rng: np.random.Generator, kind: str) -> LayerSpec:
    """Draw a valid layer structure of any layer kind, with 1-D, 2-D or 3-D spatial shapes.

    Conv kinds mix general, depthwise (channel multiplier 1 or 2), groupwise-shaped and
    pointwise layers; transposed kinds get an output padding below their stride or dilation.
    """
    from qdebug_tui.core.layers import LAYER_KINDS

    dims = LAYER_KINDS[kind]
    while True:
        spec = _random_kind_spec(rng, kind, dims)
        if spec.is_valid():
            return spec


def _random_kind_spec(rng, kind: str, dims: int) -> LayerSpec:
    transposed = kind.startswith("conv_transpose")
    common = dict(
        relu=bool(rng.random() < 0.3) and not transposed,
        per_channel=bool(rng.random() < 0.5),
        weight_zero_points=str(rng.choice(["zero", "nonzero"])),
        value_mode=str(rng.choice(VALUE_MODES)),
        scale_mode=str(rng.choice(SCALE_MODES)),
        bias_mode=str(rng.choice(["none", "normal", "normal", "half-units"])),
        kind=kind,
    )
    if dims == 0:
        batch = _ints(rng, 1, 4, int(rng.integers(1, 4)))
        return LayerSpec("linear", batch, 1, int(rng.integers(1, 80)), int(rng.integers(1, 40)), (), (), (), (), (), **common)
    # Keep the number of output cells moderate: 3-D layers get smaller sides.
    side = {1: 16, 2: 9, 3: 5}[dims]
    batch = (int(rng.integers(1, 3)),)
    spatial = _ints(rng, 1, side, dims)
    families = ["conv", "conv", "depthwise", "groupwise", "pointwise"]
    if kind == "conv_transpose2d":
        families.append("direct")
    family = str(rng.choice(families))
    if family == "direct":
        # The shapes of FBGEMM's direct transposed conv2d kernel.
        channels = int(rng.choice([8, 16]))
        kernel = (2, int(rng.integers(1, 7)))
        stride = (int(rng.choice([1, 2])), int(rng.choice([1, 2])))
        spec = LayerSpec(family, batch, 1, channels, int(rng.choice([8, 16])), spatial, kernel, stride, (0, 0), (1, 1), **common)
    elif family == "depthwise":
        size = int(rng.choice([3, 5] if dims == 3 else [3, 5, 7]))
        stride = (int(rng.choice([1, 2])),) * dims
        spec = LayerSpec(family, batch, int(rng.choice([8, 16])), 1, int(rng.choice([1, 2])), spatial, (size,) * dims,
                         stride, ((size - 1) // 2,) * dims, (1,) * dims, **common)
    elif family == "groupwise":
        channels = int(rng.choice([2, 4, 8, 16]))
        stride = (int(rng.choice([1, 2])),) * dims
        spec = LayerSpec(family, batch, int(rng.integers(1, 9)), channels, channels, spatial, (3,) * dims, stride,
                         (1,) * dims, (1,) * dims, **common)
    elif family == "pointwise":
        spec = LayerSpec(family, batch, int(rng.choice([1, 1, 2])), int(rng.integers(1, 20)), int(rng.integers(1, 12)),
                         spatial, (1,) * dims, (1,) * dims, (0,) * dims, (1,) * dims, **common)
    else:
        kernel_max = 3 if dims == 3 else 5
        spec = LayerSpec(family, batch, int(rng.choice([1, 1, 1, 2, 3, 4])), int(rng.integers(1, 9)), int(rng.integers(1, 7)),
                         spatial, _ints(rng, 1, kernel_max, dims), _ints(rng, 1, 3, dims), _ints(rng, 0, 2, dims),
                         _ints(rng, 1, 2, dims), **common)
    if transposed:
        output_padding = tuple(int(rng.integers(0, max(s, d))) if rng.random() < 0.3 else 0 for s, d in zip(spec.stride, spec.dilation))
        spec = replace(spec, output_padding=output_padding)
    return spec
