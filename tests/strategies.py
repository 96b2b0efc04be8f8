"""Hypothesis strategies for random quantized layers (structure only; values come from a seed)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from qdebug_tui.testing import VALUE_MODES, LayerSpec, random_kind_spec


@st.composite
def layer_specs(draw, families=("conv", "conv", "conv", "depthwise", "groupwise", "pointwise", "linear", "linear")):
    """Draw a valid :class:`LayerSpec`, weighted towards general convs."""
    family = draw(st.sampled_from(families))
    common = dict(
        relu=draw(st.booleans()),
        per_channel=draw(st.booleans()),
        weight_zero_points=draw(st.sampled_from(["zero", "nonzero"])),
        value_mode=draw(st.sampled_from(VALUE_MODES)),
        scale_mode=draw(st.sampled_from(["normal", "normal", "normal", "power-of-two", "overflow"])),
        bias_mode=draw(st.sampled_from(["none", "normal", "half-units"])),
    )

    def pair(low: int, high: int) -> tuple[int, int]:
        return draw(st.tuples(st.integers(low, high), st.integers(low, high)))

    if family == "linear":
        batch = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple))
        spec = LayerSpec(family, batch, 1, draw(st.integers(1, 80)), draw(st.integers(1, 40)), (), (), (), (), (), **common)
    elif family == "depthwise":
        size = draw(st.sampled_from([3, 5, 7]))
        stride = (draw(st.sampled_from([1, 2])),) * 2
        spec = LayerSpec(
            family, (draw(st.integers(1, 2)),), draw(st.sampled_from([8, 16, 24])), 1, draw(st.sampled_from([1, 2])),
            pair(1, 10), (size, size), stride, ((size - 1) // 2,) * 2, (1, 1), **common,
        )
    elif family == "groupwise":
        channels = draw(st.sampled_from([2, 4, 8, 16]))
        stride = (draw(st.sampled_from([1, 2])),) * 2
        spec = LayerSpec(
            family, (draw(st.integers(1, 2)),), draw(st.integers(1, 16)), channels, channels,
            pair(1, 10), (3, 3), stride, (1, 1), (1, 1), **common,
        )
    elif family == "pointwise":
        spec = LayerSpec(
            family, (draw(st.integers(1, 2)),), draw(st.sampled_from([1, 1, 2])), draw(st.integers(1, 20)),
            draw(st.integers(1, 12)), pair(1, 10), (1, 1), (1, 1), (0, 0), (1, 1), **common,
        )
    else:
        spec = LayerSpec(
            family, (draw(st.integers(1, 2)),), draw(st.sampled_from([1, 1, 2, 3, 4])), draw(st.integers(1, 8)),
            draw(st.integers(1, 6)), pair(1, 10), pair(1, 5), pair(1, 3), pair(0, 3), pair(1, 2), **common,
        )
    assume(spec.is_valid())
    return spec


@st.composite
def kind_specs(draw, kinds=None):
    """Draw a valid :class:`LayerSpec` of any layer kind (1-D to 3-D convs, transposed, linear)."""
    from qdebug_tui.core.layers import LAYER_KINDS

    kind = draw(st.sampled_from(tuple(kinds or LAYER_KINDS)))
    seed = draw(st.integers(0, 2**32 - 1))
    return random_kind_spec(np.random.default_rng(seed), kind)
