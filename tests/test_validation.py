"""Every kind of mistake in a scenario file gets a message naming the field, value and fix."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from conftest import SEED, run_qdebug, write_scenario
from qdebug_tui.commands.common import InvalidInput, check_engine_available
from qdebug_tui.io.errors import ScenarioError
from qdebug_tui.io.scenario_file import load_scenario, parse_scenario


def problems_of(document: dict, tmp_path=None, **kwargs) -> list:
    text = json.dumps(document)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="case.json", base_dir=tmp_path, **kwargs)
    return caught.value.problems


def only_problem(document: dict, tmp_path=None, **kwargs):
    problems = problems_of(document, tmp_path, **kwargs)
    assert len(problems) == 1, [p.describe() for p in problems]
    return problems[0]


def test_malformed_json_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "qdebug-scenario",\n  "version": 1,,\n}')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = caught.value.message()
    assert str(path) in message
    assert message.startswith(f"{path}: malformed JSON at line 3, column 16: Expecting property name")
    assert message.endswith("; fix the file's syntax")
    assert "is invalid" not in message


def test_empty_scale_message(seed_document, tmp_path):
    seed_document["input"]["scale"] = ""
    path = write_scenario(tmp_path, seed_document)
    result = run_qdebug("report", str(path))
    assert result.returncode == 2
    assert f'{path}: input.scale: "" is not a number; give a positive number such as 0.0125' in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_field(seed_document):
    del seed_document["output"]
    problem = only_problem(seed_document)
    assert problem.path == "output"
    assert "required" in problem.expected


def test_missing_nested_field(seed_document):
    del seed_document["input"]["zero_point"]
    problem = only_problem(seed_document)
    assert problem.path == "input.zero_point"


def test_unknown_field_suggests_close_name(seed_document):
    seed_document["wieght"] = seed_document["weight"]
    problem = only_problem(seed_document)
    assert problem.path == "wieght"
    assert 'did you mean "weight"' in problem.expected


def test_duplicate_key_is_reported():
    text = SEED.read_text().replace('"engine": "x86"', '"engine": "x86", "engine": "fbgemm"')
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert [p.path for p in caught.value.problems] == ["engine"]


@pytest.mark.parametrize(
    ("field", "value", "expected_text"),
    [
        ("scale", 0, "number > 0"),
        ("scale", -0.5, "number > 0"),
        ("scale", "0.1", "give a positive number"),
        ("scale", 1e-45, "float32"),
        ("zero_point", 33.5, "integer"),
        ("zero_point", 256, "[0, 255]"),
        ("zero_point", -1, "[0, 255]"),
        ("zero_point", True, "integer"),
    ],
)
def test_input_qparams_checked(seed_document, field, value, expected_text):
    seed_document["input"][field] = value
    problem = only_problem(seed_document)
    assert problem.path == f"input.{field}"
    assert problem.value == value
    assert expected_text in problem.expected


def test_nan_scale_rejected():
    text = SEED.read_text().replace('"scale": 0.02091', '"scale": NaN')
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    (problem,) = caught.value.problems
    assert problem.path == "output.scale"
    assert "finite" in problem.expected


def test_output_zero_point_300_rejected(seed_document):
    seed_document["output"]["zero_point"] = 300
    problem = only_problem(seed_document)
    assert problem.path == "output.zero_point"
    assert problem.value == 300
    assert "[0, 255] for quint8" in problem.expected


def test_qint8_output_zero_point_range(seed_document):
    seed_document["output"].update(dtype="qint8", zero_point=128)
    problem = only_problem(seed_document)
    assert "[-128, 127] for qint8" in problem.expected


def test_weight_zero_point_range(seed_document):
    seed_document["weight"]["zero_point"] = -129
    assert only_problem(seed_document).path == "weight.zero_point"


def test_q_not_integer_names_element(seed_document):
    seed_document["input"]["q"][0][0][2][3] = 200.5
    problem = only_problem(seed_document)
    assert problem.path == "input.q[0][0][2][3]"
    assert problem.value == 200.5
    assert "integer" in problem.expected


def test_q_out_of_range_names_element(seed_document):
    seed_document["weight"]["q"][0][0][4][1] = 128
    problem = only_problem(seed_document)
    assert problem.path == "weight.q[0][0][4][1]"
    assert "[-128, 127] for qint8" in problem.expected


def test_q_not_a_number(seed_document):
    seed_document["input"]["q"][0][0][1][1] = "200"
    problem = only_problem(seed_document)
    assert problem.path == "input.q[0][0][1][1]"
    assert "not a string" in problem.expected


def test_ragged_nested_list(seed_document):
    seed_document["input"]["q"][0][0][3] = [200, 200]
    problem = only_problem(seed_document)
    assert problem.path == "input.q[0][0][3]"
    assert "ragged" in problem.expected


def test_real_values_not_finite():
    text = SEED.read_text().replace('"q": [[[[200, 200, 200, 200, 200]', '"real": [[[[Infinity, 2.0, 2.0, 2.0, 2.0]')
    text = text.replace('"q": [[[[200', '"real": [[[[2.0')
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    paths = [p.path for p in caught.value.problems]
    assert paths == ["input.real[0][0][0][0]"]


def test_both_q_and_real(seed_document):
    seed_document["input"]["real"] = seed_document["input"]["q"]
    problem = only_problem(seed_document)
    assert problem.path == "input"
    assert 'exactly one of "q"' in problem.expected


def test_qint8_activations_rejected(seed_document):
    seed_document["input"]["dtype"] = "qint8"
    problem = only_problem(seed_document)
    assert problem.path == "input.dtype"
    assert "no PyTorch CPU engine accepts qint8 activations" in problem.expected


def test_unknown_engine(seed_document):
    seed_document["engine"] = "tensorrt"
    problem = only_problem(seed_document)
    assert problem.path == "engine"
    assert '"qnnpack"' in problem.expected


def test_engine_missing_from_build_is_invalid_input(seed_document):
    scenario = parse_scenario(json.dumps(seed_document))
    with pytest.raises(InvalidInput) as caught:
        check_engine_available(scenario, ("qnnpack",))
    assert "'x86' is not available" in str(caught.value)
    assert "--engine" in str(caught.value)


def test_unknown_layer_kind(seed_document):
    seed_document["layer"]["kind"] = "conv4d"
    problem = only_problem(seed_document)
    assert problem.path == "layer.kind"
    assert "'conv2d'" in problem.expected


def test_stride_list_length(seed_document):
    seed_document["layer"]["stride"] = [1, 1, 1]
    problem = only_problem(seed_document)
    assert problem.path == "layer.stride"
    assert "list of 2" in problem.expected


def test_linear_rejects_conv_settings():
    document = json.loads((SEED.parent / "pytorch_issue_76390_linear.json").read_text())
    document["layer"]["stride"] = 2
    problem = only_problem(document)
    assert problem.path == "layer.stride"
    assert "unknown field" in problem.expected


def test_input_channels_must_match_weight(seed_document):
    seed_document["weight"]["q"] = [[[[1, 2], [3, 4]]] * 2]
    problem = only_problem(seed_document)
    assert problem.path == "weight"
    assert "input channels / groups" in problem.expected


def test_groups_must_divide_channels(seed_document):
    seed_document["layer"]["groups"] = 2
    problems = problems_of(seed_document)
    assert problems[0].path == "layer.groups"
    assert "divisor of the input channels, 1" in problems[0].expected


def test_bias_length(seed_document):
    seed_document["bias"] = [0.0, 1.0]
    problem = only_problem(seed_document)
    assert problem.path == "bias"
    assert "shape [1]" in problem.expected


def test_output_without_cells(seed_document):
    seed_document["input"]["q"] = [[[[200] * 3] * 3]]
    problem = only_problem(seed_document)
    assert problem.path == "input"
    assert "no cells" in problem.expected


def test_per_channel_list_length(seed_document):
    seed_document["weight"]["scale"] = [0.1, 0.2]
    problem = only_problem(seed_document)
    assert problem.path == "weight.scale"
    assert "list of 1 values, one per output channel" in problem.expected


def test_per_channel_element_checked(seed_document):
    seed_document["weight"]["q"] = [seed_document["weight"]["q"][0]] * 3
    seed_document["weight"]["zero_point"] = [0, 0, 200]
    seed_document["bias"] = None
    problem = only_problem(seed_document)
    assert problem.path == "weight.zero_point[2]"


def test_activation_per_channel_rejected(seed_document):
    seed_document["input"]["scale"] = [0.1]
    problem = only_problem(seed_document)
    assert problem.path == "input.scale"
    assert "per tensor" in problem.expected


def test_several_problems_reported_together(seed_document):
    seed_document["input"]["scale"] = 0
    seed_document["output"]["zero_point"] = 300
    seed_document["engine"] = "gpu"
    paths = sorted(p.path for p in problems_of(seed_document))
    assert paths == ["engine", "input.scale", "output.zero_point"]


def test_wrong_format_name(seed_document):
    seed_document["format"] = "onnx"
    problem = only_problem(seed_document)
    assert problem.path == "format"


def test_newer_version_asks_for_upgrade(seed_document):
    seed_document["version"] = 2
    problem = only_problem(seed_document)
    assert "upgrade qdebug" in problem.expected


# Tensor files --------------------------------------------------------------------------------


def file_document(seed_document: dict, reference: dict) -> dict:
    seed_document["input"]["q"] = reference
    return seed_document


def test_missing_tensor_file(seed_document, tmp_path):
    problem = only_problem(file_document(seed_document, {"file": "absent.npy"}), tmp_path)
    assert problem.path == "input.q.file"
    assert "does not exist" in problem.expected
    assert str(tmp_path / "absent.npy") in problem.expected


def test_unreadable_tensor_file(seed_document, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    problem = only_problem(file_document(seed_document, {"file": "folder.csv", "shape": [1, 1, 5, 5]}), tmp_path)
    assert problem.path == "input.q.file"
    assert "cannot read" in problem.expected


def test_ragged_csv_names_row(seed_document, tmp_path):
    (tmp_path / "x.csv").write_text("1,2,3\n4,5\n")
    problem = only_problem(file_document(seed_document, {"file": "x.csv", "shape": [1, 1, 2, 3]}), tmp_path)
    assert problem.path == "input.q.file"
    assert "row 2 has 2 values but row 1 has 3" in problem.expected


def test_non_numeric_csv_names_cell(seed_document, tmp_path):
    (tmp_path / "x.csv").write_text("1,2,3\n4,five,6\n")
    problem = only_problem(file_document(seed_document, {"file": "x.csv", "shape": [1, 1, 2, 3]}), tmp_path)
    assert "row 2, column 2: 'five' is not a number" in problem.expected


def test_csv_size_differs_from_shape(seed_document, tmp_path):
    (tmp_path / "x.csv").write_text("1,2,3\n4,5,6\n")
    problem = only_problem(file_document(seed_document, {"file": "x.csv", "shape": [1, 1, 5, 5]}), tmp_path)
    assert problem.path == "input.q.shape"
    assert "contains 6 numbers" in problem.expected
    assert "needs 25" in problem.expected


def test_size_limit_says_how_to_raise_it(seed_document):
    problem = problems_of(seed_document, max_elements=10)[0]
    assert problem.path == "input.q"
    assert "QDEBUG_MAX_ELEMENTS" in problem.expected
    assert "--max-elements" in problem.expected


def test_size_limit_checked_from_npy_header(seed_document, tmp_path):
    np.save(tmp_path / "big.npy", np.zeros((1, 1, 40, 40), dtype=np.uint8))
    problem = only_problem(file_document(seed_document, {"file": "big.npy"}), tmp_path, max_elements=1000)
    assert "size limit" in problem.expected


def test_pickled_npy_is_not_loaded(seed_document, tmp_path):
    marker = tmp_path / "executed"
    array = np.empty(1, dtype=object)
    array[0] = _Boom(str(marker))
    with (tmp_path / "evil.npy").open("wb") as handle:
        np.save(handle, array, allow_pickle=True)
    problem = only_problem(file_document(seed_document, {"file": "evil.npy"}), tmp_path)
    assert "never unpickles" in problem.expected
    assert not marker.exists()


class _Boom:
    """An object whose unpickling would create a file, to prove nothing is unpickled."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_npy_with_nan_rejected(seed_document, tmp_path):
    values = np.full((1, 1, 5, 5), 2.0)
    values[0, 0, 1, 2] = np.nan
    np.save(tmp_path / "x.npy", values)
    seed_document["input"].pop("q")
    seed_document["input"]["real"] = {"file": "x.npy"}
    problem = only_problem(seed_document, tmp_path)
    assert "element [0, 0, 1, 2]" in problem.expected
    assert "not a finite number" in problem.expected


# Through the real command ---------------------------------------------------------------------


def test_report_exits_2_without_traceback(seed_document, tmp_path):
    seed_document["output"]["zero_point"] = 300
    path = write_scenario(tmp_path, seed_document)
    result = run_qdebug("report", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: output.zero_point: 300 is invalid" in result.stderr
    assert "[0, 255]" in result.stderr


def test_report_on_missing_file(tmp_path):
    result = run_qdebug("report", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_on_folder(tmp_path):
    result = run_qdebug("report", str(tmp_path))
    assert result.returncode == 2
    assert "folder" in result.stderr


def test_bias_beyond_float32_rejected(seed_document):
    seed_document["bias"] = [1e39]
    problem = only_problem(seed_document)
    assert problem.path == "bias[0]"
    assert "float32" in problem.expected


@pytest.mark.parametrize(("field", "value"), [("input", 1e38), ("weight", 2e10), ("output", 1e11)])
def test_scale_above_limit_rejected(seed_document, tmp_path, field, value):
    seed_document[field]["scale"] = value
    path = write_scenario(tmp_path, seed_document)
    result = run_qdebug("report", str(path))
    assert result.returncode == 2
    assert f"{path}: {field}.scale: {value!r} is invalid; expected a scale in [1.18e-38, 1e10]" in result.stderr
    assert "Traceback" not in result.stderr


def test_underflowing_scale_product_rejected(seed_document, tmp_path):
    seed_document["input"]["scale"] = 1e-20
    seed_document["weight"]["scale"] = 1e-20
    problem = only_problem(seed_document, tmp_path)
    assert problem.path == "weight.scale"
    assert "input.scale × weight.scale = 1e-40 is below float32's smallest normal number" in problem.expected


def test_overflowing_multiplier_rejected(seed_document, tmp_path):
    seed_document["input"]["scale"] = 1e10
    seed_document["output"]["scale"] = 1e-35
    problem = only_problem(seed_document, tmp_path)
    assert problem.path == "output.scale"
    assert "requantization multiplier" in problem.expected


def test_extreme_scales_report_no_nan(seed_document, tmp_path):
    seed_document["input"]["scale"] = 1e10
    seed_document["weight"]["scale"] = 1e10
    seed_document["output"]["scale"] = 1e-10
    path = write_scenario(tmp_path, seed_document)
    result = run_qdebug("report", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["sqnr_db"] is not None
    assert all(np.isfinite(document["float_path"]["real"][0][0][0]))


def test_unterminated_string_reason_reads_whole(tmp_path):
    path = tmp_path / "unterminated.json"
    path.write_text('{"format": "qdebug-scenario", "name": "x\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = caught.value.message()
    assert " at; " not in message
    assert message.endswith(": Invalid control character; fix the file's syntax")


def test_unterminated_string_names_its_start(tmp_path):
    path = tmp_path / "unterminated.json"
    path.write_text('{"format": "qdebug-scenario", "name": "x')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.message().endswith("malformed JSON at line 1, column 39: Unterminated string; fix the file's syntax")
