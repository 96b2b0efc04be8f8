"""Grid navigation: output cells to inputs and back, channel and depth stepping, mismatches."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ISSUE_50720, ISSUE_76390, SAMPLES
from qdebug_tui.core.slicing import SliceChoice
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.slicing import (
    input_highlight,
    input_matrix,
    input_subtitle,
    locate_output,
    next_mismatch,
    output_index,
    output_matrix,
    output_subtitle,
    step_depth,
    step_in_channel,
    step_output_slice,
    weight_highlight,
    weight_matrix,
    weight_qparam_channel,
    weight_subtitle,
)


def test_conv2d_receptive_field():
    scenario = load_scenario(ISSUE_50720)
    mask = input_highlight(scenario, SliceChoice(), 2, 0)
    expected = np.zeros((5, 5), dtype=bool)
    expected[2:5, 0:3] = True
    assert np.array_equal(mask, expected)
    assert weight_highlight(scenario, SliceChoice(), 2, 0).all()


def test_padding_taps_not_highlighted(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    choice = SliceChoice(batch=(1,), out_channel=3, in_channel=2)
    # Padding 1: output (0, 0) reads input rows 0..1 and columns 0..1 of the selected channel.
    mask = input_highlight(scenario, choice, 0, 0)
    assert mask.sum() == 4
    assert mask[:2, :2].all()
    weights = weight_highlight(scenario, choice, 0, 0)
    assert weights.tolist() == [[False, False, False], [False, True, True], [False, True, True]]


def test_linear_highlights():
    scenario = load_scenario(ISSUE_76390)
    assert input_highlight(scenario, SliceChoice(), 0, 0).tolist() == [[True, True]]
    assert weight_highlight(scenario, SliceChoice(), 0, 0).tolist() == [[True, True]]


def test_conv1d_grid_rows_are_channels():
    scenario = load_scenario(SAMPLES / "pytorch_issue_76390_conv1d.json")
    choice = SliceChoice()
    assert input_matrix(scenario, scenario.input.q, choice).shape == scenario.input.shape[1:]
    assert output_matrix(scenario, np.zeros(scenario.output_shape), choice).shape == scenario.output_shape[1:]
    index = output_index(scenario, choice, 0, 0)
    assert index == (0, 0, 0)
    located, row, column = locate_output(scenario, index, choice)
    assert (located.out_channel, row, column) == (0, 0, 0)
    assert input_highlight(scenario, choice, 0, 0).any()


def test_conv3d_depth_steps():
    scenario = load_scenario(SAMPLES / "conv3d.json")
    depths = scenario.output_shape[2]
    choice = step_depth(scenario, SliceChoice(), -1)
    assert choice.depth == depths - 1
    assert f"d={depths - 1}" in output_subtitle(scenario, choice)
    index = output_index(scenario, choice, 1, 2)
    assert index[2] == depths - 1
    located, row, column = locate_output(scenario, index, SliceChoice())
    assert located.depth == depths - 1
    assert (row, column) == (1, 2)


def test_conv_transpose_weight_slice():
    scenario = load_scenario(SAMPLES / "conv_transpose2d.json")
    choice = SliceChoice(out_channel=1)
    assert weight_subtitle(scenario, choice).startswith("ic=")
    assert weight_matrix(scenario, scenario.weight.q, choice).shape == scenario.weight.shape[2:]
    assert weight_qparam_channel(scenario, choice) == 1 % scenario.weight.shape[scenario.layer.weight_channel_axis]
    assert input_highlight(scenario, choice, 0, 0).shape == scenario.input.shape[2:]


def test_step_channels_wrap(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    assert step_in_channel(scenario, SliceChoice(), -1).in_channel == 2
    choice = SliceChoice(batch=(0,), out_channel=3)
    assert step_output_slice(scenario, choice, 1) == SliceChoice(batch=(1,), out_channel=0)
    assert step_output_slice(scenario, SliceChoice(), -1) == SliceChoice(batch=(1,), out_channel=3)


def test_output_index_round_trip(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    for index in [(0, 0, 0, 0), (1, 3, 5, 6), (0, 2, 3, 1)]:
        choice, row, column = locate_output(scenario, index, SliceChoice())
        assert output_index(scenario, choice, row, column) == index


def test_linear_batch_dims_round_trip():
    scenario = load_scenario(SAMPLES / "linear_sequence.json")
    shape = scenario.output_shape
    last = tuple(size - 1 for size in shape)
    choice, row, column = locate_output(scenario, last, SliceChoice())
    assert output_index(scenario, choice, row, column) == last
    assert choice.out_channel == shape[-1] - 1
    if len(shape) > 2:
        stepped = step_output_slice(scenario, SliceChoice(), -1)
        assert stepped.batch == tuple(size - 1 for size in shape[:-2])


def test_linear_output_index():
    scenario = load_scenario(ISSUE_76390)
    assert output_index(scenario, SliceChoice(), 0, 0) == (0, 0)


@pytest.mark.parametrize(
    ("current", "forward", "expected"),
    [((0, 0), True, (0, 2)), ((0, 2), True, (1, 1)), ((1, 1), True, (0, 2)), ((0, 2), False, (1, 1)), ((1, 2), False, (1, 1)), ((0, 0), False, (1, 1))],
)
def test_next_mismatch_wraps(current, forward, expected):
    diff = np.array([[0, 0, 1], [0, -2, 0]])
    assert next_mismatch(diff, current, forward) == expected


def test_next_mismatch_none():
    assert next_mismatch(np.zeros((2, 2)), (0, 0)) is None


def test_grouped_in_channel_is_in_group(tmp_path):
    from scenario_factory import write_scenario

    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "grouped",
        "layer": {"kind": "conv2d", "groups": 2},
        "input": {"dtype": "quint8", "scale": 1.0, "zero_point": 0, "q": {"file": "x.npy"}},
        "weight": {"dtype": "qint8", "scale": 1.0, "zero_point": 0, "q": {"file": "w.npy"}},
        "output": {"dtype": "quint8", "scale": 1.0, "zero_point": 0},
        "engine": "fbgemm",
    }
    path = write_scenario(tmp_path, "grouped", document, {"x.npy": np.ones((1, 4, 3, 3), np.uint8), "w.npy": np.ones((2, 2, 1, 1), np.int8)})
    scenario = load_scenario(path)
    choice = SliceChoice(out_channel=1, in_channel=1)
    assert "c=3 of 4" in input_subtitle(scenario, choice)
    mask = input_highlight(scenario, choice, 0, 0)
    assert mask[0, 0]
    assert mask.sum() == 1
    assert step_in_channel(scenario, choice, 1).in_channel == 0
