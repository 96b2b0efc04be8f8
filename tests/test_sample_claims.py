"""Each sample's description makes claims about the real kernels; these tests hold them to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

# (sample, engine): (mismatched cells, max |Δ| in LSB) on this AVX512-VNNI CPU.
NATIVE = {
    ("seed_conv2d.json", "x86"): (0, 0),
    ("per_channel_conv2d.json", "x86"): (1, 1),
    ("per_channel_conv2d.json", "qnnpack"): (1, 1),
    ("linear_bias_relu.json", "onednn"): (1, 1),
    ("mobilenet_depthwise_128.json", "x86"): (2412, 58),
    ("depthwise_multiplier2.json", "fbgemm"): (63, 24),
    ("depthwise_multiplier2.json", "x86"): (0, 0),
    ("conv_transpose2d.json", "onednn"): (123, 77),
    ("conv_transpose2d.json", "fbgemm"): (0, 0),
    ("depthwise_border.json", "fbgemm"): (0, 0),
    ("conv3d.json", "fbgemm"): (0, 0),
    ("linear_sequence.json", "x86"): (0, 0),
}

# The same under FBGEMM_ENABLE_INSTRUCTIONS=AVX2.
AVX2 = {
    ("seed_conv2d.json", "x86"): (1, 7),
    ("pytorch_issue_50720.json", "fbgemm"): (1, 15),
    ("pytorch_issue_76390_conv1d.json", "fbgemm"): (1, 32),
    ("pytorch_issue_76390_conv1d.json", "x86"): (0, 0),
    ("per_channel_conv2d.json", "x86"): (43, 27),
    ("depthwise_border.json", "fbgemm"): (50, 16),
    ("conv3d.json", "fbgemm"): (0, 0),
    ("conv_transpose2d.json", "fbgemm"): (25, 27),
    ("linear_sequence.json", "fbgemm"): (7, 75),
    ("forum_csv_32x32.json", "x86"): (182, 32),
}


def summaries(env_extra: dict[str, str]) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("FBGEMM_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA")}
    env.update(env_extra)
    result = subprocess.run(
        [sys.executable, str(HERE / "sample_summaries.py")], capture_output=True, text=True, env=env, timeout=600, check=True
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def native():
    return summaries({})


@pytest.fixture(scope="module")
def avx2():
    return summaries({"FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"})


@pytest.mark.parametrize(("sample", "engine"), sorted(NATIVE))
def test_native_claim(native, sample, engine):
    mismatched, max_diff, error = native[sample][engine]
    assert error is None
    assert (mismatched, max_diff) == NATIVE[(sample, engine)]


@pytest.mark.parametrize(("sample", "engine"), sorted(AVX2))
def test_avx2_claim(avx2, sample, engine):
    mismatched, max_diff, error = avx2[sample][engine]
    assert error is None
    assert (mismatched, max_diff) == AVX2[(sample, engine)]


def test_qnnpack_conv_transpose3d_differs(native):
    mismatched, _, _ = native["qnnpack_conv_transpose3d.json"]["qnnpack"]
    assert mismatched > 0
    assert native["qnnpack_conv_transpose3d.json"]["fbgemm"][0] == 0


def test_onednn_rejects_asymmetric_weights(native):
    assert "symmetric" in native["seed_conv2d.json"]["onednn"][2]
    assert "symmetric" in native["per_channel_conv2d.json"]["onednn"][2]
