"""Typed integers for single input and weight elements, and the cell-to-index map."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from conftest import SAMPLES, SEED
from qdebug_tui.core.slicing import SliceChoice, conv_slice_bounds, tensor_slices
from qdebug_tui.editing import QParamField, apply_qparam
from qdebug_tui.io.errors import Problem
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.slicing import input_matrix, weight_matrix
from qdebug_tui.value_edits import apply_value, cell_index, element_path
from scenario_factory import linear_with_real_values, multi_channel_conv, multi_channel_conv1d

LAYER_SAMPLES = [
    "seed_conv2d.json",
    "conv3d.json",
    "conv_transpose2d.json",
    "pytorch_issue_76390_conv1d.json",
    "linear_sequence.json",
    "pytorch_issue_76390_linear.json",
    "depthwise_multiplier2.json",
]


def choices(scenario):
    """A few slice choices of the scenario, the first and last of each kind."""
    if not scenario.layer.is_conv:
        leading = scenario.output_shape[:-2]
        return [SliceChoice(batch=tuple(index)) for index in itertools.islice(np.ndindex(*leading), 3)] or [SliceChoice()]
    bounds = conv_slice_bounds(scenario)
    return [
        SliceChoice(),
        SliceChoice(batch=(bounds["batch"] - 1,), out_channel=bounds["out_channel"] - 1, in_channel=bounds["in_channel"] - 1, depth=bounds.get("depth", 1) - 1),
    ]


@pytest.mark.parametrize("sample", LAYER_SAMPLES)
def test_cell_index_matches_grid(sample):
    scenario = load_scenario(SAMPLES / sample)
    for choice in choices(scenario):
        for tensor_name, to_matrix in (("input", input_matrix), ("weight", weight_matrix)):
            tensor = getattr(scenario, tensor_name)
            numbered = np.arange(tensor.q.size).reshape(tensor.shape)
            grid = to_matrix(scenario, numbered, choice)
            for row, column in np.ndindex(*grid.shape):
                index = cell_index(scenario, tensor_name, choice, row, column)
                assert len(index) == len(tensor.shape)
                assert numbered[index] == grid[row, column], (tensor_name, choice, row, column)


def test_cell_index_conv1d_rows_are_channels(tmp_path):
    scenario = load_scenario(multi_channel_conv1d(tmp_path))
    assert cell_index(scenario, "input", SliceChoice(), 2, 7) == (0, 2, 7)
    assert cell_index(scenario, "weight", SliceChoice(out_channel=3), 1, 2) == (3, 1, 2)
    assert tensor_slices(scenario, SliceChoice(out_channel=3)).weight == (3,)


def test_value_replaced():
    seed = load_scenario(SEED)
    edited = apply_value(seed, "input", (0, 0, 1, 2), "128")
    assert not isinstance(edited, Problem)
    assert edited.input.q[0, 0, 1, 2] == 128
    assert edited.input.q.dtype == np.uint8
    assert seed.input.q[0, 0, 1, 2] == 200
    assert edited.input.source.kind == "edited"
    assert edited.weight is seed.weight
    assert np.count_nonzero(edited.input.q != seed.input.q) == 1


def test_weight_accepts_negative():
    seed = load_scenario(SEED)
    edited = apply_value(seed, "weight", (0, 0, 0, 0), " -128 ")
    assert edited.weight.q[0, 0, 0, 0] == -128
    assert edited.weight.q.dtype == np.int8


def test_unchanged_value_returns_same():
    seed = load_scenario(SEED)
    assert apply_value(seed, "input", (0, 0, 0, 0), "200") is seed


@pytest.mark.parametrize(
    ("tensor_name", "text", "reason"),
    [
        ("input", "256", "expected an integer in [0, 255] for quint8"),
        ("input", "-1", "expected an integer in [0, 255] for quint8"),
        ("weight", "128", "expected an integer in [-128, 127] for qint8"),
        ("weight", "-129", "expected an integer in [-128, 127] for qint8"),
        ("input", "1.5", "not a fraction"),
        ("input", "abc", "not a string"),
        ("input", "", "not a string"),
        ("input", "inf", "not a finite number"),
        ("input", "nan", "not a finite number"),
    ],
)
def test_invalid_value_rejected(tensor_name, text, reason):
    seed = load_scenario(SEED)
    problem = apply_value(seed, tensor_name, (0, 0, 0, 1), text)
    assert isinstance(problem, Problem)
    assert problem.path == f"{tensor_name}.q[0][0][0][1]"
    assert reason in problem.describe()


def test_element_path_format():
    assert element_path("weight", (3, 0, 2)) == "weight.q[3][0][2]"


def test_other_tensor_raises():
    with pytest.raises(ValueError, match="not editable"):
        apply_value(load_scenario(SEED), "output", (0,), "1")


def test_real_values_follow_edit(tmp_path):
    scenario = load_scenario(linear_with_real_values(tmp_path))
    assert scenario.input.q.tolist() == [[15, 20, 5, 30]]
    edited = apply_value(scenario, "input", (0, 1), "40")
    assert edited.input.real.dtype == np.float32
    assert edited.input.real[0, 1] == np.float32(3.0)
    assert edited.input.real[0, 0] == scenario.input.real[0, 0]
    assert scenario.input.real[0, 1] == np.float32(1.0)

    # Keep-real-values edits start from the edited element's new real value.
    rescaled = apply_qparam(edited, QParamField("input", "scale"), "0.2", keep_real=True)
    assert rescaled.input.q.tolist() == [[12, 25, 8, 20]]


def test_per_channel_real_value_uses_channel(tmp_path):
    scenario = load_scenario(multi_channel_conv(tmp_path))
    weight = scenario.weight
    real = weight.q.astype(np.float32) * np.float32(0.5)
    scenario = replace(scenario, weight=replace(weight, real=real))
    edited = apply_value(scenario, "weight", (3, 0, 0, 0), "8")
    assert edited.weight.real[3, 0, 0, 0] == np.float32(2.0)


def test_requantize_marks_file_integers_edited(tmp_path):
    scenario = load_scenario(multi_channel_conv(tmp_path))
    assert scenario.input.source.kind == "npy"
    rescaled = apply_qparam(scenario, QParamField("input", "scale"), "0.5", keep_real=True)
    assert not np.array_equal(rescaled.input.q, scenario.input.q)
    assert rescaled.input.source.kind == "edited"
    assert rescaled.input.source.file == "multi_x.npy"
    kept = apply_qparam(scenario, QParamField("input", "scale"), "0.5", keep_real=False)
    assert kept.input.source.kind == "npy"
