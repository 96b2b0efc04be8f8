"""The real quantized kernels on every engine, in this process and under FBGEMM's AVX2 path."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from conftest import AVX2, SAMPLES, run_qdebug
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.evaluation import evaluate
from qdebug_tui.io.scenario_file import load_scenario
from torch_modules import module_output

SEED = SAMPLES / "seed_conv2d.json"


def report_json(path, *options, env_extra=None) -> dict:
    result = run_qdebug("report", str(path), "--json", *options, env_extra=env_extra)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


@pytest.mark.parametrize("engine", ["x86", "fbgemm", "qnnpack"])
def test_seed_gives_zero_on_this_cpu(backend, engine):
    evaluation = evaluate(load_scenario(SEED).with_engine(engine), backend)
    assert evaluation.float_path.q.tolist() == [[[[0]]]]
    assert evaluation.quantized.q.tolist() == [[[[0]]]]
    assert evaluation.comparison.summary.mismatched == 0


def test_onednn_refusal_is_a_result(backend):
    evaluation = evaluate(load_scenario(SEED).with_engine("onednn"), backend)
    assert evaluation.quantized.q is None
    assert "ONEDNN only supports symmetric quantization of weight" in evaluation.quantized.error
    assert evaluation.comparison.summary.sqnr_db is None
    assert evaluation.float_path.q.tolist() == [[[[0]]]]


def test_x86_seed_dispatches_to_fbgemm(backend):
    evaluation = evaluate(load_scenario(SEED), backend)
    assert evaluation.facts.dispatch.library == "fbgemm"
    assert "weight zero point" in evaluation.facts.dispatch.reason


def test_qint8_output_is_reported_not_run(backend, seed_document):
    from qdebug_tui.io.scenario_file import parse_scenario

    seed_document["output"]["dtype"] = "qint8"
    evaluation = evaluate(parse_scenario(json.dumps(seed_document)), backend)
    assert evaluation.quantized.q is None
    assert "quint8" in evaluation.quantized.error


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.json")))
@pytest.mark.parametrize("engine", ENGINES)
def test_every_sample_runs_on_every_engine(backend, sample, engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluation = evaluate(load_scenario(SAMPLES / sample).with_engine(engine), backend)
    assert evaluation.float_path.q.shape == evaluation.scenario.output_shape
    if evaluation.quantized.ok:
        assert evaluation.quantized.q.shape == evaluation.scenario.output_shape
    else:
        assert engine == "onednn"


def test_seed_under_avx2_gives_7():
    document = report_json(SEED, "--engine", "fbgemm", env_extra=AVX2)
    assert document["float_path"]["q"] == [[[[0]]]]
    assert document["quantized_path"]["q"] == [[[[7]]]]
    assert document["mismatches"] == [
        {"index": [0, 0, 0, 0], "float_path": 0, "quantized_path": 7, "diff": 7, "cause": "int16-saturation"}
    ]
    assert document["backend"]["isa"].startswith("avx2")


def test_seed_x86_under_avx2_gives_7():
    document = report_json(SEED, env_extra=AVX2)
    assert document["engine"] == "x86"
    assert document["quantized_path"]["q"] == [[[[7]]]]


def test_issue_50720_under_avx2():
    document = report_json(SAMPLES / "pytorch_issue_50720.json", env_extra=AVX2)
    assert document["float_path"]["q"][0][0][1] == [0, 75, 135]
    assert document["quantized_path"]["q"][0][0][1] == [15, 75, 135]
    assert document["summary"]["mismatched"] == 1


def test_issue_76390_under_avx2():
    document = report_json(SAMPLES / "pytorch_issue_76390_linear.json", env_extra=AVX2)
    assert document["float_path"]["q"] == [[255]]
    assert document["quantized_path"]["q"] == [[223]]


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.json")))
@pytest.mark.parametrize("engine", ["x86", "fbgemm", "qnnpack"])
def test_ops_match_the_modules(backend, sample, engine):
    scenario = load_scenario(SAMPLES / sample).with_engine(engine)
    if (scenario.layer.kind, engine) == ("conv_transpose3d", "qnnpack"):
        pytest.skip("QNNPACK's conv_transpose3d output changes from run to run")
    np.testing.assert_array_equal(backend.run(scenario).q, module_output(scenario))
