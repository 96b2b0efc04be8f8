"""``qdebug report --isa``: the emulated kernel and the cause of every mismatch."""

from __future__ import annotations

import json

from conftest import SAMPLES, run_qdebug
from qdebug_tui.backends.worker import WorkerBackend
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT

SEED = SAMPLES / "seed_conv2d.json"


def test_report_avx2_names_saturation():
    result = run_qdebug("report", str(SEED), "--isa", "avx2", "--json")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    assert document["isa"] == "avx2"
    assert document["emulated"]["q"] == [[[[7]]]]
    assert document["emulated"]["backend"]["library"] == "fbgemm"
    assert document["emulated"]["backend"]["isa"] == "avx2"
    assert document["quantized_path"]["q"] == [[[[7]]]]
    assert document["mismatches"] == [
        {"index": [0, 0, 0, 0], "float_path": 0, "quantized_path": 7, "diff": 7, "cause": "int16-saturation"}
    ]
    assert any("x86 dispatch reads cpuinfo" in note for note in document["notes"])


def test_report_native_has_emulated_entry():
    document = json.loads(run_qdebug("report", str(SEED), "--json").stdout)
    assert document["isa"] == "native"
    assert document["emulated"]["q"] == document["quantized_path"]["q"]
    assert document["mismatches"] == []


def test_report_text_lists_cause():
    result = run_qdebug("report", str(SEED), "--isa", "avx2")
    assert result.returncode == 0
    assert "int16-saturation" in result.stdout
    assert "fbgemm im2col (avx2, int16 pair saturation)" in result.stdout


def test_report_every_mismatch_has_cause():
    document = json.loads(run_qdebug("report", str(SAMPLES / "depthwise_multiplier2.json"), "--json").stdout)
    assert document["mismatches"]
    assert all(mismatch["cause"] for mismatch in document["mismatches"])


def test_report_emulates_conv3d():
    result = run_qdebug("report", str(SAMPLES / "conv3d.json"), "--json")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    assert "error" not in document["emulated"]
    assert document["emulated"]["backend"]["library"] == "onednn"
    assert len(document["output_shape"]) == 5


def test_report_wrong_transposed_kernel_has_causes():
    result = run_qdebug("report", str(SAMPLES / "conv_transpose2d.json"), "--json")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    causes = [mismatch["cause"] for mismatch in document["mismatches"]]
    assert causes
    assert all(causes)
    # The kernel is known to be wrong here: no other model may take credit for its integers.
    assert set(causes) == {"kernel-mismatch"}


def test_avx2_json_describes_worker_kernel():
    document = json.loads(run_qdebug("report", str(SEED), "--isa", "avx2", "--json").stdout)
    assert document["isa"] == "avx2"
    assert document["backend"]["library"] == "fbgemm"
    assert document["backend"]["isa"] == "avx2 (forced)"


def test_avx2_text_describes_worker_kernel():
    result = run_qdebug("report", str(SEED), "--isa", "avx2")
    assert result.returncode == 0, result.stderr
    assert "kernel ISA  avx2 (forced): FBGEMM_ENABLE_INSTRUCTIONS=AVX2" in result.stdout


def test_worker_reports_its_environment():
    with WorkerBackend.for_isa("avx2") as worker:
        assert worker.kernel_environment() == AVX2_ENVIRONMENT
    with WorkerBackend.cpu_default() as worker:
        assert worker.kernel_environment() == {}
