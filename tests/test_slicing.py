"""Slices on screen, receptive fields, channel stepping and mismatch navigation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ISSUE_50720, ISSUE_76390
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.slicing import (
    SlicePosition,
    input_highlight,
    input_subtitle,
    locate_output,
    next_mismatch,
    output_index,
    step_in_channel,
    step_output_slice,
    weight_highlight,
    weight_in_channel,
)


def test_conv_receptive_field():
    scenario = load_scenario(ISSUE_50720)
    mask = input_highlight(scenario, SlicePosition(), 2, 0)
    expected = np.zeros((5, 5), dtype=bool)
    expected[2:5, 0:3] = True
    assert np.array_equal(mask, expected)
    assert weight_highlight(scenario, SlicePosition(), 2, 0) is None


def test_receptive_field_other_channel(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    position = SlicePosition(batch=1, in_channel=2, out_channel=3)
    mask = input_highlight(scenario, position, 0, 0)
    # Padding 1: output (0, 0) reads input rows 0..1 and columns 0..1.
    assert mask.sum() == 4
    assert mask[:2, :2].all()


def test_linear_highlights():
    scenario = load_scenario(ISSUE_76390)
    assert input_highlight(scenario, SlicePosition(), 0, 0).tolist() == [[True, True]]
    assert weight_highlight(scenario, SlicePosition(), 0, 0).tolist() == [[True, True]]


def test_step_channels_wrap(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    position = step_in_channel(scenario, SlicePosition(), -1)
    assert position.in_channel == 2
    position = SlicePosition(batch=0, out_channel=3)
    assert step_output_slice(scenario, position, 1) == SlicePosition(batch=1, out_channel=0)
    assert step_output_slice(scenario, SlicePosition(), -1) == SlicePosition(batch=1, out_channel=3)


def test_output_index_round_trip(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    for index in [(0, 0, 0, 0), (1, 3, 5, 6), (0, 2, 3, 1)]:
        position, row, column = locate_output(scenario, index, SlicePosition())
        assert output_index(scenario, position, row, column) == index


def test_linear_index_with_batch_dims():
    scenario = load_scenario(ISSUE_76390)
    assert output_index(scenario, SlicePosition(), 0, 0) == (0, 0)


@pytest.mark.parametrize(
    ("current", "forward", "expected"),
    [((0, 0), True, (0, 2)), ((0, 2), True, (1, 1)), ((1, 1), True, (0, 2)), ((0, 2), False, (1, 1)), ((1, 2), False, (1, 1)), ((0, 0), False, (1, 1))],
)
def test_next_mismatch_wraps(current, forward, expected):
    diff = np.array([[0, 0, 1], [0, -2, 0]])
    assert next_mismatch(diff, current, forward) == expected


def test_next_mismatch_none():
    assert next_mismatch(np.zeros((2, 2)), (0, 0)) is None


def test_group_channel_not_read(tmp_path):
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
    position = SlicePosition(in_channel=3, out_channel=0)
    assert weight_in_channel(scenario, position) == (1, False)
    assert "not read by oc=0" in input_subtitle(scenario, position)
    assert not input_highlight(scenario, position, 0, 0).any()
    assert weight_in_channel(scenario, SlicePosition(in_channel=3, out_channel=1)) == (1, True)
