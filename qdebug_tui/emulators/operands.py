"""The raw 8-bit operands a kernel multiplies, and the order in which it sums them.

Every conv and linear layer is treated as one GEMM per group::

    acc[n, g, p, o] = Σ_k A[n, g, p, k] · W[g, k, o]

with ``A`` the raw uint8 activations of output position ``p`` (im2col patches, or the rows of
a linear input) and ``W`` the raw int8 weights of output channel ``o`` of group ``g``. ``k``
runs over PyTorch's weight order (channel in group, *kernel offsets).

A kernel's K order is a list of those ``k`` indices, with -1 for a zero slot the kernel adds
to align its operands. Pair-summing kernels add the products of slots (2i, 2i + 1).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.scenario import Scenario
from qdebug_tui.core.layers import Layer
from qdebug_tui.numerics.reference import conv_patches, transposed_as_conv

# An empty slot in a kernel's K order: the kernel multiplies 0 by 0 there.
ZERO_SLOT = -1


@dataclass(frozen=True)
class GemmOperands:
    """Raw operands of a layer as per-group GEMMs, in PyTorch's K order.

    ``activations`` is int32 (N, G, P, K) with padded taps holding ``padding_value``;
    ``weights`` is int32 (G, K, O). ``output_shape`` is the layer's output shape. A linear
    layer is one GEMM: N = G = 1 and P runs over the flattened batch dimensions.
    """

    activations: np.ndarray
    weights: np.ndarray
    padding_value: int
    output_shape: tuple[int, ...]
    is_conv: bool

    @property
    def reduction_length(self) -> int:
        return int(self.weights.shape[1])

    def to_output_layout(self, values: np.ndarray) -> np.ndarray:
        """Reshape a per-GEMM array (N, G, P, O) to the layer's output layout."""
        if not self.is_conv:
            return values.reshape(self.output_shape)
        batch, groups, positions, outputs = values.shape
        by_channel = values.transpose(0, 1, 3, 2).reshape(batch, groups * outputs, positions)
        return by_channel.reshape(self.output_shape)

    def gemm_index(self, out_index: tuple[int, ...]) -> tuple[int, int, int, int]:
        """Return (n, g, p, o) of one output cell."""
        outputs = self.weights.shape[2]
        if self.is_conv:
            n, channel, *spatial = out_index
            position = int(np.ravel_multi_index(tuple(spatial), self.output_shape[2:])) if spatial else 0
            return n, channel // outputs, position, channel % outputs
        *batch, channel = out_index
        position = int(np.ravel_multi_index(tuple(batch), self.output_shape[:-1])) if batch else 0
        return 0, 0, position, channel


def gemm_operands(scenario: Scenario, padding_value: int) -> GemmOperands:
    """Build the raw operands; padded conv taps hold ``padding_value``.

    FBGEMM and QNNPACK pad with the input zero point; oneDNN pads with a raw 0 and leaves the
    padded taps out of its zero-point compensation.
    """
    layer = scenario.layer
    raw_input = scenario.input.q.astype(np.int64)
    raw_weight = scenario.weight.q.astype(np.int64)
    out_shape = scenario.output_shape
    if not layer.is_conv:
        in_features = raw_weight.shape[1]
        activations = raw_input.reshape(1, 1, -1, in_features)
        weights = raw_weight.T.reshape(1, in_features, -1)
        return GemmOperands(activations.astype(np.int32), weights.astype(np.int32), padding_value, out_shape, False)

    shifted = (raw_input - padding_value).astype(np.float64)
    kernel = raw_weight.shape[2:]
    groups = layer.groups
    if layer.is_transposed:
        patches = transposed_patches(layer, shifted, raw_weight.shape)
        in_per_group, out_per_group = raw_weight.shape[0] // groups, raw_weight.shape[1]
        by_group = raw_weight.reshape(groups, in_per_group, out_per_group, -1).transpose(0, 1, 3, 2)
        weights = by_group.reshape(groups, -1, out_per_group)
    else:
        patches = conv_patches(layer, shifted, kernel)
        weights = raw_weight.reshape(groups, raw_weight.shape[0] // groups, -1).transpose(0, 2, 1)
    activations = np.rint(patches).astype(np.int32) + np.int32(padding_value)
    return GemmOperands(activations, np.ascontiguousarray(weights, dtype=np.int32), padding_value, out_shape, True)


def transposed_patches(layer: Layer, values: np.ndarray, weight_shape: tuple[int, ...]) -> np.ndarray:
    """Return a transposed conv's patches (N, G, P, K) with K in PyTorch's weight order.

    K runs over (input channel in group, *kernel offsets) of the (C_in, C_out/g, *k) weight.
    Tap ``t`` of output position ``o`` reads input ``(o + padding − t·dilation) / stride``
    when that is a whole number inside the input; every other tap (a zero inserted between
    inputs, or the border) is 0. Pass values shifted by the kernel's padding value.
    """
    kernel = tuple(weight_shape[2:])
    placeholder = np.zeros((weight_shape[0], weight_shape[1], *kernel))
    plain, stuffed, _ = transposed_as_conv(layer, values, placeholder)
    patches = conv_patches(plain, stuffed, kernel)  # K in (channel, flipped kernel) order
    batch, groups, positions, _ = patches.shape
    by_tap = patches.reshape(batch, groups, positions, -1, *kernel)
    flipped = np.flip(by_tap, axis=tuple(range(4, 4 + len(kernel))))
    return flipped.reshape(batch, groups, positions, -1)


def channels_last_order(channels_per_group: int, kernel: tuple[int, ...], multiple: int = 4) -> np.ndarray:
    """Return FBGEMM's im2col K order: k = (kernel offset, channel), channels fastest.

    The group's K is padded with zero slots to a multiple of ``multiple``, as FBGEMM pads the
    packed B matrix to its row interleave (4 for 32-bit accumulation).
    """
    taps = int(np.prod(kernel, dtype=np.int64)) if kernel else 1
    order = [channel * taps + tap for tap in range(taps) for channel in range(channels_per_group)]
    return _pad_order(order, multiple)


def per_tap_padded_order(channels_per_group: int, kernel: tuple[int, ...], multiple: int = 4) -> np.ndarray:
    """Return oneDNN's K order: per kernel offset, the channels padded to ``multiple``.

    Because every tap starts on an even slot, oneDNN's pairs never straddle two taps.
    """
    taps = int(np.prod(kernel, dtype=np.int64)) if kernel else 1
    padded_channels = -(-channels_per_group // multiple) * multiple
    order = []
    for tap in range(taps):
        for channel in range(padded_channels):
            order.append(channel * taps + tap if channel < channels_per_group else ZERO_SLOT)
    return np.asarray(order, dtype=np.int64)


def natural_order(length: int, multiple: int = 4) -> np.ndarray:
    """Return 0, 1, …, length − 1 padded with zero slots to a multiple of ``multiple``."""
    return _pad_order(list(range(length)), multiple)


def _pad_order(order: list[int], multiple: int) -> np.ndarray:
    padded = -(-len(order) // multiple) * multiple
    return np.asarray(order + [ZERO_SLOT] * (padded - len(order)), dtype=np.int64)


def kernel_offsets(kernel: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Return the kernel offsets in PyTorch's order (row-major), one per tap."""
    return list(itertools.product(*(range(size) for size in kernel)))
