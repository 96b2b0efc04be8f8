"""``qdebug explain`` on conv1d, conv3d and transposed samples, checked against the real ops."""

from __future__ import annotations

import pytest
from test_explain_command import SAMPLES, json_trace

from qdebug_tui.io.scenario_file import load_scenario


def test_issue_76390_conv1d_avx2_is_223(capsys):
    status, document = json_trace(capsys, str(SAMPLES / "pytorch_issue_76390_conv1d.json"), "--cell", "0,0,0", "--isa", "avx2")
    assert status == 0
    assert document["float_path"]["q"] == 255
    assert document["quantized_path"]["q"] == 223
    assert document["output_q"] == 223
    assert document["cause"] == "int16-saturation"
    assert document["backend"]["saturated_pairs"] == 1
    assert [term["input_index"] for term in document["terms"]] == [[0, 0, 0], [0, 1, 0]]
    assert [term["weight_index"] for term in document["terms"]] == [[0, 0, 0], [0, 1, 0]]


def test_issue_76390_conv1d_native_is_255(capsys):
    status, document = json_trace(capsys, str(SAMPLES / "pytorch_issue_76390_conv1d.json"), "--cell", "0,0,0")
    assert status == 0
    assert document["quantized_path"]["q"] == 255
    assert document["output_q"] == 255


@pytest.mark.parametrize("cell", [(0, 0, 0, 0, 0), (0, 1, 1, 2, 3)])
def test_conv3d_cells_match_real_kernel(capsys, backend, cell):
    scenario = load_scenario(SAMPLES / "conv3d.json")
    real = backend.run(scenario).q
    status, document = json_trace(capsys, str(SAMPLES / "conv3d.json"), "--cell", ",".join(map(str, cell)))
    assert status == 0
    assert document["quantized_path"]["q"] == int(real[cell])
    assert document["output_q"] == int(real[cell])
    assert all(len(term["weight_index"]) == 5 for term in document["terms"])
    assert all(term["input_index"] is None or len(term["input_index"]) == 5 for term in document["terms"])


def test_conv3d_border_cell_lists_padding(capsys):
    status, document = json_trace(capsys, str(SAMPLES / "conv3d.json"), "--cell", "0,0,0,0,0", "--all-terms")
    assert status == 0
    padded = [term for term in document["terms"] if term["input_index"] is None]
    assert padded, "a corner cell of a padded conv3d reads padding"
    scenario = load_scenario(SAMPLES / "conv3d.json")
    assert all(term["q_x"] == scenario.input.qparams.zero_points[0] for term in padded)


def test_conv_transpose2d_wrong_kernel_is_kernel_mismatch(capsys):
    scenario = load_scenario(SAMPLES / "conv_transpose2d.json")
    status, document = json_trace(capsys, str(SAMPLES / "conv_transpose2d.json"), "--cell", "0,0,1,1")
    assert status == 0
    real, model = document["quantized_path"]["q"], document["output_q"]
    assert real != model
    assert document["cause"] == "kernel-mismatch"
    assert f"returned {real}" in document["explanation"]
    assert str(model) in document["explanation"]
    assert scenario.input.shape[1] != scenario.output_shape[1]


def test_conv_transpose2d_terms_follow_stride(capsys):
    """A transposed conv's tap reaches input (o + padding − k) / stride; the other taps are padding."""
    scenario = load_scenario(SAMPLES / "conv_transpose2d.json")
    status, document = json_trace(capsys, str(SAMPLES / "conv_transpose2d.json"), "--cell", "0,0,1,1", "--engine", "fbgemm", "--all-terms")
    assert status == 0
    layer = scenario.layer
    for term in document["terms"]:
        channel, _, kh, kw = term["weight_index"]
        numerators = (1 + layer.padding[0] - kh * layer.dilation[0], 1 + layer.padding[1] - kw * layer.dilation[1])
        inside = all(n % s == 0 and 0 <= n // s < size for n, s, size in zip(numerators, layer.stride, scenario.input.shape[2:]))
        if inside:
            assert term["input_index"] == [0, channel, numerators[0] // layer.stride[0], numerators[1] // layer.stride[1]]
        else:
            assert term["input_index"] is None
    assert document["cause"] != "kernel-mismatch"
    assert document["quantized_path"]["q"] == document["output_q"]
    assert any("reach no input" in note and f"raw activation {scenario.input.qparams.zero_points[0]}" in note for note in document["backend"]["notes"])


def test_qnnpack_conv_transpose3d_first_slice_matches(capsys):
    status, document = json_trace(capsys, str(SAMPLES / "qnnpack_conv_transpose3d.json"), "--cell", "0,0,0,0,0")
    assert status == 0
    assert document["quantized_path"]["q"] == document["output_q"]


def test_qnnpack_conv_transpose3d_later_slices_are_kernel_mismatch(capsys):
    scenario = load_scenario(SAMPLES / "qnnpack_conv_transpose3d.json")
    depth = scenario.output_shape[2]
    assert depth > 1
    causes = []
    for d in range(1, depth):
        status, document = json_trace(capsys, str(SAMPLES / "qnnpack_conv_transpose3d.json"), "--cell", f"0,0,{d},0,0")
        assert status == 0
        if document["quantized_path"]["q"] != document["output_q"]:
            assert document["cause"] == "kernel-mismatch"
            assert "conv_transpose3d" in document["explanation"]
        causes.append(document["cause"])
    assert "kernel-mismatch" in causes
