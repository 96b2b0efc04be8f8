"""Layer settings and geometry: output shapes, receptive fields, channel groups.

Conventions follow PyTorch. A conv input is (N, C_in, *spatial) and its weight is
(C_out, C_in / groups, *kernel). A transposed conv's weight is (C_in, C_out / groups, *kernel).
A linear input is (*batch, in_features) and its weight is (out_features, in_features).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator

# Kinds the scenario format accepts, mapped to the number of spatial dimensions.
LAYER_KINDS: dict[str, int] = {
    "conv1d": 1,
    "conv2d": 2,
    "conv3d": 3,
    "conv_transpose1d": 1,
    "conv_transpose2d": 2,
    "conv_transpose3d": 3,
    "linear": 0,
}


@dataclass(frozen=True)
class Layer:
    """A quantized conv or linear layer's settings, without its tensors.

    ``stride``, ``padding``, ``dilation`` and ``output_padding`` have one entry per spatial
    dimension and are empty for ``linear``; ``output_padding`` is all zeros except for
    transposed convolutions.
    """

    kind: str
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1
    relu: bool = False
    output_padding: tuple[int, ...] = ()

    @property
    def spatial_dims(self) -> int:
        """Number of spatial dimensions: 0 for linear, 1 to 3 for convolutions."""
        return LAYER_KINDS[self.kind]

    @property
    def is_conv(self) -> bool:
        return self.kind != "linear"

    @property
    def is_transposed(self) -> bool:
        return self.kind.startswith("conv_transpose")

    @property
    def weight_channel_axis(self) -> int:
        """The weight axis that indexes output channels: 1 for transposed conv, else 0."""
        return 1 if self.is_transposed else 0

    @classmethod
    def default(cls, kind: str) -> Layer:
        """Return a layer of ``kind`` with PyTorch's default settings."""
        dims = LAYER_KINDS[kind]
        return cls(kind, (1,) * dims, (0,) * dims, (1,) * dims, 1, False, (0,) * dims)

    def padding_after(self, dim: int) -> int:
        """Return the output padding of one spatial dimension (0 when not transposed)."""
        return self.output_padding[dim] if self.output_padding else 0


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


def transposed_output_length(length: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int) -> int:
    """Return the output length of one spatial dimension, as ``torch.nn.ConvTranspose2d`` documents it."""
    return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def out_channels(layer: Layer, weight_shape: tuple[int, ...]) -> int:
    """Return the number of output channels (output features for linear)."""
    if layer.is_transposed:
        return weight_shape[1] * layer.groups
    return weight_shape[0]


def output_shape(layer: Layer, input_shape: tuple[int, ...], weight_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Return the output shape; shapes must already have passed :func:`shape_problems`."""
    if not layer.is_conv:
        return (*input_shape[:-1], weight_shape[0])
    spatial = []
    for d in range(layer.spatial_dims):
        arguments = (input_shape[2 + d], weight_shape[2 + d], layer.stride[d], layer.padding[d], layer.dilation[d])
        if layer.is_transposed:
            spatial.append(transposed_output_length(*arguments, layer.padding_after(d)))
        else:
            spatial.append(conv_output_length(*arguments))
    return (input_shape[0], out_channels(layer, weight_shape), *spatial)


def shape_problems(
    layer: Layer,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
) -> list[tuple[str, object, str]]:
    """Check that the tensors fit the layer.

    Returns a list of (field path, value, what is allowed) triples; empty when all fits.
    """
    if 0 in input_shape or 0 in weight_shape:
        field, shape = ("input", input_shape) if 0 in input_shape else ("weight", weight_shape)
        return [(field, list(shape), "no dimension may be 0: the output would have no cells")]
    if layer.is_conv:
        return _conv_shape_problems(layer, input_shape, weight_shape, bias_shape)
    return _linear_shape_problems(input_shape, weight_shape, bias_shape)


def _linear_shape_problems(input_shape, weight_shape, bias_shape) -> list[tuple[str, object, str]]:
    problems: list[tuple[str, object, str]] = []
    if len(weight_shape) != 2:
        problems.append(("weight", list(weight_shape), "a linear weight has shape [out_features, in_features]"))
    if len(input_shape) < 1:
        problems.append(("input", list(input_shape), "a linear input has shape [*batch, in_features]"))
    if problems:
        return problems
    if input_shape[-1] != weight_shape[1]:
        problems.append((
            "input",
            list(input_shape),
            f"the last dimension must equal the weight's in_features, {weight_shape[1]}",
        ))
    if bias_shape is not None and bias_shape != (weight_shape[0],):
        problems.append(("bias", list(bias_shape), f"a bias of shape [{weight_shape[0]}] (one per output feature)"))
    return problems


def _conv_shape_problems(layer, input_shape, weight_shape, bias_shape) -> list[tuple[str, object, str]]:
    dims = layer.spatial_dims
    layout = "[C_in, C_out/groups, ...]" if layer.is_transposed else "[C_out, C_in/groups, ...]"
    problems: list[tuple[str, object, str]] = []
    if len(input_shape) != dims + 2:
        problems.append(("input", list(input_shape), f"a {layer.kind} input has {dims + 2} dimensions [N, C_in, ...]"))
    if len(weight_shape) != dims + 2:
        problems.append(("weight", list(weight_shape), f"a {layer.kind} weight has {dims + 2} dimensions {layout}"))
    if problems:
        return problems

    groups = layer.groups
    in_channels = input_shape[1]
    if in_channels % groups:
        problems.append(("layer.groups", groups, f"a divisor of the input channels, {in_channels}"))
    elif layer.is_transposed and weight_shape[0] != in_channels:
        problems.append(("weight", list(weight_shape), f"dimension 0 must equal the input channels, {in_channels}"))
    elif not layer.is_transposed and weight_shape[1] * groups != in_channels:
        problems.append((
            "weight",
            list(weight_shape),
            f"dimension 1 must be input channels / groups = {in_channels} / {groups} = {in_channels // groups}",
        ))
    if not layer.is_transposed and weight_shape[0] % groups:
        problems.append(("layer.groups", groups, f"a divisor of the output channels, {weight_shape[0]}"))
    channels = out_channels(layer, weight_shape)
    if bias_shape is not None and bias_shape != (channels,):
        problems.append(("bias", list(bias_shape), f"a bias of shape [{channels}] (one per output channel)"))
    problems += _spatial_problems(layer, input_shape, weight_shape)
    return problems


def _spatial_problems(layer, input_shape, weight_shape) -> list[tuple[str, object, str]]:
    dims = layer.spatial_dims
    if layer.is_transposed:
        for d in range(dims):
            if layer.padding_after(d) >= max(layer.stride[d], layer.dilation[d]):
                return [(
                    "layer.output_padding",
                    list(layer.output_padding),
                    "each entry must be smaller than the stride or the dilation of its dimension",
                )]
        lengths = [transposed_output_length(input_shape[2 + d], weight_shape[2 + d], layer.stride[d], layer.padding[d],
                                            layer.dilation[d], layer.padding_after(d)) for d in range(dims)]  # fmt: skip
        if min(lengths) < 1:
            return [("layer.padding", list(layer.padding), f"the padding leaves an output of length {lengths}, with no cells; use less padding")]
        return []
    spans = [layer.dilation[d] * (weight_shape[2 + d] - 1) + 1 for d in range(dims)]
    padded = [input_shape[2 + d] + 2 * layer.padding[d] for d in range(dims)]
    too_small = [d for d in range(dims) if padded[d] < spans[d]]
    if too_small:
        return [(
            "input",
            list(input_shape),
            f"the padded input {padded} is smaller than the dilated kernel {spans} in spatial dimension "
            f"{', '.join(map(str, too_small))}, so the output would have no cells; use a larger input or more padding",
        )]
    return []


def reduction_length(layer: Layer, weight_shape: tuple[int, ...]) -> int:
    """Return K, the number of products summed into one output cell (at most, for transposed conv)."""
    k = 1
    for size in weight_shape[1:] if not layer.is_transposed else (weight_shape[0] // layer.groups, *weight_shape[2:]):
        k *= size
    return k


def group_of_channel(layer: Layer, weight_shape: tuple[int, ...], out_channel: int) -> int:
    """Return the group an output channel belongs to."""
    return out_channel // (out_channels(layer, weight_shape) // layer.groups)


def receptive_field(
    layer: Layer,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    out_index: tuple[int, ...],
    every_tap: bool = False,
) -> list[Tap]:
    """Return the taps of one output cell in PyTorch's weight order (c_in_group, *kernel).

    For a transposed conv only the taps that reach the cell are listed: those whose input
    position ``(o + padding − k·dilation) / stride`` is a whole number inside the input. With
    ``every_tap`` the others are listed too, with ``input_index`` None, so that the list has
    one tap per reduction index, as the emulators' GEMM operands do.
    """
    return list(_iter_taps(layer, input_shape, weight_shape, out_index, every_tap))


def _iter_taps(layer, input_shape, weight_shape, out_index, every_tap=False) -> Iterator[Tap]:
    if not layer.is_conv:
        *batch, out_feature = out_index
        for k in range(weight_shape[1]):
            yield Tap((*batch, k), (out_feature, k))
        return
    if layer.is_transposed:
        yield from _iter_transposed_taps(layer, input_shape, weight_shape, out_index, every_tap)
        return

    n, oc, *out_pos = out_index
    channels_per_group = weight_shape[1]
    group = group_of_channel(layer, weight_shape, oc)
    for c in range(channels_per_group):
        for offsets in itertools.product(*(range(size) for size in weight_shape[2:])):
            position = tuple(
                out_pos[d] * layer.stride[d] - layer.padding[d] + offsets[d] * layer.dilation[d]
                for d in range(layer.spatial_dims)
            )
            inside = all(0 <= p < input_shape[2 + d] for d, p in enumerate(position))
            input_index = (n, group * channels_per_group + c, *position) if inside else None
            yield Tap(input_index, (oc, c, *offsets))


def _iter_transposed_taps(layer, input_shape, weight_shape, out_index, every_tap) -> Iterator[Tap]:
    n, oc, *out_pos = out_index
    in_per_group = weight_shape[0] // layer.groups
    out_per_group = weight_shape[1]
    group, oc_in_group = divmod(oc, out_per_group)
    for c in range(in_per_group):
        for offsets in itertools.product(*(range(size) for size in weight_shape[2:])):
            weight_index = (group * in_per_group + c, oc_in_group, *offsets)
            position = []
            for d in range(layer.spatial_dims):
                numerator = out_pos[d] + layer.padding[d] - offsets[d] * layer.dilation[d]
                if numerator % layer.stride[d]:
                    break
                position.append(numerator // layer.stride[d])
            else:
                if all(0 <= p < input_shape[2 + d] for d, p in enumerate(position)):
                    yield Tap((n, group * in_per_group + c, *position), weight_index)
                    continue
            if every_tap:
                yield Tap(None, weight_index)


def input_region(
    layer: Layer,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    out_index: tuple[int, ...],
) -> set[tuple[int, ...]]:
    """Return the input indices (not padding) that one output cell reads."""
    return {tap.input_index for tap in _iter_taps(layer, input_shape, weight_shape, out_index) if tap.input_index is not None}
