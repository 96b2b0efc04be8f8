"""Typed qparam edits: validation shared with the scenario reader, integers or real values kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SEED
from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.editing import FIELDS_BY_ID, apply_engine, apply_qparam, current_value, format_value, parse_typed
from qdebug_tui.io.errors import Problem, ScenarioError
from qdebug_tui.io.scenario_file import load_scenario, parse_scenario
from qdebug_tui.io.validation import validate_scale, validate_zero_point


@pytest.fixture
def seed():
    return load_scenario(SEED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("128", 128), (" -11 ", -11), ("0.5", 0.5), ("1e-3", 0.001), ("abc", "abc"), ("", ""), ("nan", "nan")],
)
def test_parse_typed(text, expected):
    parsed = parse_typed(text)
    if expected == "nan":
        assert isinstance(parsed, float) and np.isnan(parsed)
    else:
        assert parsed == expected
        assert type(parsed) is type(expected)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(0.5, True), (1, True), (0, False), (-1.0, False), (float("inf"), False), (1e-40, False), ("x", False), (True, False)],
)
def test_validate_scale(value, accepted):
    result = validate_scale(value, "input.scale")
    assert isinstance(result, Problem) is not accepted


@pytest.mark.parametrize(
    ("value", "dtype", "accepted"),
    [(0, QUINT8, True), (255, QUINT8, True), (256, QUINT8, False), (-1, QUINT8, False), (-128, QINT8, True), (128, QINT8, False), (2.0, QUINT8, True), (2.5, QUINT8, False), ("3", QUINT8, False)],
)
def test_validate_zero_point(value, dtype, accepted):
    result = validate_zero_point(value, "output.zero_point", dtype)
    assert isinstance(result, Problem) is not accepted
    if accepted:
        assert result == int(value)


def test_reader_and_app_messages_match(seed):
    document = json.loads(SEED.read_text())
    document["output"]["zero_point"] = 300
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(json.dumps(document))
    typed = apply_qparam(seed, FIELDS_BY_ID["output-zero-point"], "300")
    assert isinstance(typed, Problem)
    assert raised.value.problems == [typed]


def test_output_zero_point_edit(seed):
    edited = apply_qparam(seed, FIELDS_BY_ID["output-zero-point"], "128")
    assert edited.output.zero_point == 128
    assert seed.output.zero_point == 0
    assert edited.input is seed.input


def test_scale_edit_keeps_integers(seed):
    edited = apply_qparam(seed, FIELDS_BY_ID["input-scale"], "0.5")
    assert edited.input.qparams.scales == (0.5,)
    assert np.array_equal(edited.input.q, seed.input.q)


def test_keep_real_requantizes(seed):
    edited = apply_qparam(seed, FIELDS_BY_ID["input-zero-point"], "0", keep_real=True)
    # The real values (200 - 33) * 0.012728 quantize to 167 with zero point 0.
    assert edited.input.qparams.zero_points == (0,)
    assert np.all(edited.input.q == 167)
    again = apply_qparam(edited, FIELDS_BY_ID["input-zero-point"], "33", keep_real=True)
    assert np.all(again.input.q == 200)


def test_keep_real_clamps_to_dtype(seed):
    edited = apply_qparam(seed, FIELDS_BY_ID["input-scale"], "0.001", keep_real=True)
    assert np.all(edited.input.q == 255)


def test_per_channel_edit_one_channel(multi_channel_path):
    scenario = load_scenario(multi_channel_path)
    field = FIELDS_BY_ID["weight-scale"]
    edited = apply_qparam(scenario, field, "0.125", channel=2)
    assert edited.weight.qparams.scales == (1.0, 1.0, 0.125, 0.25)
    assert current_value(edited, field, 2) == 0.125
    assert current_value(edited, field, 3) == 0.25
    problem = apply_qparam(scenario, FIELDS_BY_ID["weight-zero-point"], "999", channel=1)
    assert problem.path == "weight.zero_point[1]"


def test_engine_edit(seed):
    assert apply_engine(seed, "qnnpack").engine == "qnnpack"
    assert isinstance(apply_engine(seed, "tpu"), Problem)


def test_format_value_round_trips():
    assert format_value(0.012728) == "0.012728"
    assert float(format_value(0.1 + 0.2)) == 0.1 + 0.2
    assert format_value(-11) == "-11"


def test_empty_typed_scale_message(seed):
    problem = apply_qparam(seed, FIELDS_BY_ID["input-scale"], "")
    assert isinstance(problem, Problem)
    assert problem.describe() == 'input.scale: "" is not a number; give a positive number such as 0.0125'


@pytest.mark.parametrize("text", ["1e38", "1e11", "3e10"])
def test_overflowing_scale_typed_rejected(seed, text):
    problem = apply_qparam(seed, FIELDS_BY_ID["input-scale"], text)
    assert isinstance(problem, Problem)
    assert problem.path == "input.scale"
    assert "[1.18e-38, 1e10]" in problem.expected
    assert "overflows the float path" in problem.expected


def test_largest_scales_typed_accepted(seed):
    edited = apply_qparam(seed, FIELDS_BY_ID["input-scale"], "1e10")
    edited = apply_qparam(edited, FIELDS_BY_ID["weight-scale"], "1e10")
    assert not isinstance(edited, Problem)
    assert edited.input.qparams.scales == (1e10,)


def test_multiplier_outside_float32_typed_rejected(seed):
    large_input = apply_qparam(seed, FIELDS_BY_ID["input-scale"], "1e10")
    problem = apply_qparam(large_input, FIELDS_BY_ID["output-scale"], "1e-36")
    assert isinstance(problem, Problem)
    assert problem.path == "output.scale"
    assert problem.value == 1e-36
    assert "requantization multiplier" in problem.expected
    assert "choose an output.scale" in problem.expected
