"""Layer settings and geometry: output shapes, receptive fields, channel groups.

Conventions follow PyTorch: a conv input is (N, C_in, *spatial), a conv weight is
(C_out, C_in / groups, *kernel), a linear input is (*batch, in_features) and a linear weight
is (out_features, in_features).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator

# Kinds the scenario format accepts, mapped to the number of spatial dimensions.
LAYER_KINDS: dict[str, int] = {
    "conv2d": 2,
    "linear": 0,
}


@dataclass(frozen=True)
class Layer:
    """A quantized conv or linear layer's settings, without its tensors.

    ``stride``, ``padding`` and ``dilation`` hold one entry per spatial dimension and are
    empty for ``linear``.
    """

    kind: str
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1
    relu: bool = False

    @property
    def spatial_dims(self) -> int:
        """Number of spatial dimensions: 0 for linear, 2 for conv2d."""
        return LAYER_KINDS[self.kind]

    @property
    def is_conv(self) -> bool:
        return self.kind != "linear"

    @classmethod
    def default(cls, kind: str) -> Layer:
        """Return a layer of ``kind`` with PyTorch's default settings."""
        dims = LAYER_KINDS[kind]
        return cls(kind, (1,) * dims, (0,) * dims, (1,) * dims, 1, False)


@dataclass(frozen=True)
class Tap:
    """One term of an output cell's sum: which input element meets which weight element.

    ``input_index`` is None when the tap falls on padding, where quantized kernels that pad
    with the input zero point read that value.
    """

    input_index: tuple[int, ...] | None
    weight_index: tuple[int, ...]


def conv_output_length(length: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Return the output length of one spatial dimension, as ``torch.nn.Conv2d`` documents it."""
    return (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def output_shape(layer: Layer, input_shape: tuple[int, ...], weight_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Return the output shape; shapes must already have passed :func:`shape_problems`."""
    if not layer.is_conv:
        return (*input_shape[:-1], weight_shape[0])
    spatial = tuple(
        conv_output_length(input_shape[2 + d], weight_shape[2 + d], layer.stride[d], layer.padding[d], layer.dilation[d])
        for d in range(layer.spatial_dims)
    )
    return (input_shape[0], weight_shape[0], *spatial)


def shape_problems(
    layer: Layer,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
) -> list[tuple[str, object, str]]:
    """Check that the tensors fit the layer.

    Returns a list of (field path, value, what is allowed) triples; empty when all fits.
    """
    if layer.is_conv:
        return _conv_shape_problems(layer, input_shape, weight_shape, bias_shape)
    return _linear_shape_problems(input_shape, weight_shape, bias_shape)


def _linear_shape_problems(input_shape, weight_shape, bias_shape) -> list[tuple[str, object, str]]:
    problems: list[tuple[str, object, str]] = []
    if len(weight_shape) != 2:
        problems.append(("weight", list(weight_shape), "a linear weight has shape [out_features, in_features]"))
        return problems
    if len(input_shape) < 1:
        problems.append(("input", list(input_shape), "a linear input has shape [*batch, in_features]"))
        return problems
    if input_shape[-1] != weight_shape[1]:
        problems.append((
            "input",
            list(input_shape),
            f"the last dimension must equal the weight's in_features, {weight_shape[1]}",
        ))
    if bias_shape is not None and bias_shape != (weight_shape[0],):
        problems.append(("bias", list(bias_shape), f"a bias of shape [{weight_shape[0]}] (one per output feature)"))
    if 0 in input_shape or 0 in weight_shape:
        problems.append(("input", list(input_shape), "no dimension may be 0: the output would have no cells"))
    return problems


def _conv_shape_problems(layer, input_shape, weight_shape, bias_shape) -> list[tuple[str, object, str]]:
    dims = layer.spatial_dims
    problems: list[tuple[str, object, str]] = []
    if len(input_shape) != dims + 2:
        problems.append(("input", list(input_shape), f"a {layer.kind} input has {dims + 2} dimensions [N, C_in, ...]"))
    if len(weight_shape) != dims + 2:
        problems.append(("weight", list(weight_shape), f"a {layer.kind} weight has {dims + 2} dimensions [C_out, C_in/groups, ...]"))
    if problems:
        return problems
    if 0 in input_shape or 0 in weight_shape:
        problems.append(("input", list(input_shape), "no dimension may be 0: the output would have no cells"))
        return problems

    groups = layer.groups
    in_channels, out_channels = input_shape[1], weight_shape[0]
    if in_channels % groups:
        problems.append(("layer.groups", groups, f"a divisor of the input channels, {in_channels}"))
    elif weight_shape[1] * groups != in_channels:
        problems.append((
            "weight",
            list(weight_shape),
            f"dimension 1 must be input channels / groups = {in_channels} / {groups} = {in_channels // groups}",
        ))
    if out_channels % groups:
        problems.append(("layer.groups", groups, f"a divisor of the output channels, {out_channels}"))
    if bias_shape is not None and bias_shape != (out_channels,):
        problems.append(("bias", list(bias_shape), f"a bias of shape [{out_channels}] (one per output channel)"))

    spans = [layer.dilation[d] * (weight_shape[2 + d] - 1) + 1 for d in range(dims)]
    padded = [input_shape[2 + d] + 2 * layer.padding[d] for d in range(dims)]
    too_small = [d for d in range(dims) if padded[d] < spans[d]]
    if too_small:
        problems.append((
            "input",
            list(input_shape),
            f"the padded input {padded} is smaller than the dilated kernel {spans} in spatial dimension "
            f"{', '.join(map(str, too_small))}, so the output would have no cells; use a larger input or more padding",
        ))
    return problems


def reduction_length(layer: Layer, weight_shape: tuple[int, ...]) -> int:
    """Return K, the number of products summed into one output cell."""
    k = 1
    for size in weight_shape[1:]:
        k *= size
    return k


def group_of_channel(layer: Layer, weight_shape: tuple[int, ...], out_channel: int) -> int:
    """Return the group an output channel belongs to."""
    return out_channel // (weight_shape[0] // layer.groups)


def receptive_field(
    layer: Layer,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    out_index: tuple[int, ...],
) -> list[Tap]:
    """Return the taps of one output cell in PyTorch's weight order (c_in_group, *kernel)."""
    return list(_iter_taps(layer, input_shape, weight_shape, out_index))


def _iter_taps(layer, input_shape, weight_shape, out_index) -> Iterator[Tap]:
    if not layer.is_conv:
        *batch, out_feature = out_index
        for k in range(weight_shape[1]):
            yield Tap((*batch, k), (out_feature, k))
        return

    n, oc, *out_pos = out_index
    channels_per_group = weight_shape[1]
    group = group_of_channel(layer, weight_shape, oc)
    kernel = weight_shape[2:]
    for c in range(channels_per_group):
        for offsets in itertools.product(*(range(size) for size in kernel)):
            position = tuple(
                out_pos[d] * layer.stride[d] - layer.padding[d] + offsets[d] * layer.dilation[d]
                for d in range(layer.spatial_dims)
            )
            inside = all(0 <= p < input_shape[2 + d] for d, p in enumerate(position))
            input_index = (n, group * channels_per_group + c, *position) if inside else None
            yield Tap(input_index, (oc, c, *offsets))


def input_region(
    layer: Layer,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    out_index: tuple[int, ...],
) -> set[tuple[int, ...]]:
    """Return the input indices (not padding) that one output cell reads."""
    return {tap.input_index for tap in _iter_taps(layer, input_shape, weight_shape, out_index) if tap.input_index is not None}
