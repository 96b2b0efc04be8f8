"""``qdebug report`` as a user runs it: tables, JSON, slices, exit codes."""

from __future__ import annotations

import json

from conftest import AVX2, SAMPLES, run_qdebug, write_scenario

SEED = SAMPLES / "seed_conv2d.json"


def test_text_report_shows_the_case():
    result = run_qdebug("report", str(SEED), "--engine", "fbgemm", env_extra=AVX2)
    assert result.returncode == 0
    text = result.stdout
    assert "Forum case" in text
    assert "input [1, 1, 5, 5] quint8" in text
    assert "weight [1, 1, 5, 5] qint8" in text
    assert "-128" in text
    assert "-125" in text
    assert "7*" in text  # the differing cell is marked without colour
    assert "mismatched 1 / 1 cells" in text
    assert "FBGEMM_ENABLE_INSTRUCTIONS=AVX2" in text


def test_json_has_every_documented_key():
    result = run_qdebug("report", str(SEED), "--json")
    document = json.loads(result.stdout)
    for key in ("engine", "torch", "cpu", "output_shape", "float_path", "quantized_path", "reference", "mismatches", "summary"):
        assert key in document
    assert document["cpu"]["isa"]
    assert set(document["summary"]) >= {"cells", "mismatched", "max_abs_diff", "sqnr_db"}
    assert document["output_shape"] == [1, 1, 1, 1]
    assert document["float_path"]["real"][0][0][0][0] < 0


def test_json_reports_kernel_error():
    document = json.loads(run_qdebug("report", str(SEED), "--json", "--engine", "onednn").stdout)
    assert "symmetric" in document["quantized_path"]["error"]
    assert document["summary"]["sqnr_db"] is None


def test_fail_on_mismatch_exit_status():
    assert run_qdebug("report", str(SEED), "--fail-on-mismatch").returncode == 0
    assert run_qdebug("report", str(SEED), "--fail-on-mismatch", env_extra=AVX2).returncode == 1


def test_slice_picks_output_channel():
    result = run_qdebug("report", str(SAMPLES / "per_channel_conv2d.json"), "--slice", "0,2,1")
    assert result.returncode == 0
    assert "weight oc=2 of 4 ic=1 of 3" in result.stdout
    assert "input n=0 c=1 of 3" in result.stdout
    assert "output n=0 c=2 of 4" in result.stdout
    assert "(channel 2)" in result.stdout


def test_slice_out_of_range_is_invalid_input():
    result = run_qdebug("report", str(SAMPLES / "per_channel_conv2d.json"), "--slice", "0,9")
    assert result.returncode == 2
    assert "out_channel 9 is out of range; expected 0 to 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_slice_not_numbers():
    result = run_qdebug("report", str(SEED), "--slice", "a,b")
    assert result.returncode == 2
    assert "--slice 'a,b' is invalid" in result.stderr


def test_csv_scenario_reports():
    result = run_qdebug("report", str(SAMPLES / "forum_csv_32x32.json"), "--json")
    document = json.loads(result.stdout)
    assert document["output_shape"] == [1, 1, 28, 28]


def test_unknown_engine_option_rejected():
    result = run_qdebug("report", str(SEED), "--engine", "cuda")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_report_notes_clipped_values(seed_document, tmp_path):
    seed_document["input"] = {"dtype": "quint8", "scale": 0.01, "zero_point": 0, "real": [[[[-1.0, 0.5, 3.0, 2.0, 0.1]] * 5]]}
    path = write_scenario(tmp_path, seed_document)
    result = run_qdebug("report", str(path))
    assert result.returncode == 0, result.stderr
    note = (
        "10 of 25 input values fell outside 0..255 after quantization and were clipped; "
        "input.scale 0.0118 or larger keeps the positive ones; negative values need input.zero_point above 0"
    )
    assert note in " ".join(result.stdout.split())
    document = json.loads(run_qdebug("report", str(path), "--json").stdout)
    assert note in document["notes"]


def test_report_integers_no_clip_note():
    document = json.loads(run_qdebug("report", str(SEED), "--json").stdout)
    assert not any("clipped" in note for note in document["notes"])


def test_rejected_layer_is_not_a_pass():
    result = run_qdebug("report", str(SEED), "--engine", "onednn", "--fail-on-mismatch")
    text = " ".join(result.stdout.split())
    assert result.returncode == 1
    assert "ONEDNN only supports symmetric quantization of weight" in text
    assert "Fix: set weight.zero_point to 0, or run engine x86, fbgemm or qnnpack (--engine)." in text
    assert "not compared: the quantized path failed" in text
    assert "mismatched 0" not in text


def test_rejected_layer_exits_0_by_default():
    result = run_qdebug("report", str(SEED), "--engine", "onednn")
    assert result.returncode == 0


def test_json_of_rejected_layer():
    document = json.loads(run_qdebug("report", str(SEED), "--json", "--engine", "onednn").stdout)
    assert document["summary"]["compared"] is False
    assert document["summary"]["mismatched"] is None
    assert document["summary"]["max_abs_diff"] is None
    assert "set weight.zero_point to 0" in document["quantized_path"]["failure"]
