"""``qdebug explain`` as a user runs it: exit codes, messages, JSON and the Rich trace."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qdebug_tui.commands import explain
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.emulators import EMULATED_KINDS
from qdebug_tui.io.scenario_file import load_scenario

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
SEED = SAMPLES / "seed_conv2d.json"


def run_explain(*argv: str) -> int:
    """Parse ``argv`` as ``qdebug explain`` does and run it."""
    parser = argparse.ArgumentParser(prog="qdebug")
    explain.add_parser(parser.add_subparsers(dest="command"))
    return explain.run(parser.parse_args(["explain", *argv]))


def json_trace(capsys, *argv: str) -> tuple[int, dict]:
    status = run_explain(*argv, "--json")
    return status, json.loads(capsys.readouterr().out)


def test_seed_avx2_json(capsys):
    status, document = json_trace(capsys, str(SEED), "--cell", "0,0,0,0", "--isa", "avx2")
    assert status == 0
    assert document["accumulator"] == -13861
    assert document["backend"]["name"] == "fbgemm"
    assert document["backend"]["accumulator"] == 4003
    assert document["backend"]["saturated_pairs"] == 2
    assert document["output_q"] == 7
    assert document["quantized_path"]["q"] == 7
    assert document["float_path"]["q"] == 0
    assert document["cause"] == "int16-saturation"
    assert any("x86 dispatch reads cpuinfo" in note for note in document["notes"])


def test_seed_native_json(capsys):
    status, document = json_trace(capsys, str(SEED), "--cell", "0,0,0,0")
    assert status == 0
    assert document["quantized_path"]["q"] == 0
    assert document["backend"]["isa"] == "avx512-vnni"
    assert document["cause"] == "clamped"


def test_seed_rich_trace_shows_where_paths_part(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    status = run_explain(str(SEED), "--cell", "0,0,0,0", "--isa", "avx2")
    output = capsys.readouterr().out
    assert status == 0
    assert "they part here" in output
    assert "4003" in output
    assert "-13861" in output
    assert "int16-saturation" in output


def test_fail_on_mismatch_exits_one(capsys):
    assert run_explain(str(SEED), "--cell", "0,0,0,0", "--isa", "avx2", "--fail-on-mismatch", "--json") == 1
    assert run_explain(str(SEED), "--cell", "0,0,0,0", "--fail-on-mismatch", "--json") == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cell", "0,0,1,0"], "cell index 1 at position 2 is out of range 0..0"),
        (["--cell", "0,x"], "invalid --cell '0,x': expected 4 comma-separated integers"),
        (["--cell", "0,0,0"], "has 3 indices; the output shape [1, 1, 1, 1] needs 4"),
        (["--cell", "0,0,0,0", "--engine", "onednn"], "rejects a nonzero weight zero point"),
    ],
)
def test_invalid_input_exits_two(capsys, argv, message):
    status = run_explain(str(SEED), *argv)
    captured = capsys.readouterr()
    assert status == 2
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_missing_scenario_exits_two(capsys, tmp_path):
    status = run_explain(str(tmp_path / "absent.json"), "--cell", "0,0,0,0")
    assert status == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("isa", ["native", "avx2"])
@pytest.mark.parametrize("sample", sorted(path.name for path in SAMPLES.glob("*.json")))
def test_every_sample_and_engine_side_by_side(capsys, workers, sample, isa):
    """The real kernel's number, the emulated one and the exact one for cell 0 of every sample."""
    scenario = load_scenario(SAMPLES / sample)
    cell = tuple(0 for _ in scenario.output_shape)
    if scenario.layer.kind not in EMULATED_KINDS:
        assert run_explain(str(SAMPLES / sample), "--cell", ",".join(map(str, cell)), "--isa", isa) == 2
        assert "is not emulated yet" in capsys.readouterr().err
        return
    for engine in ENGINES:
        if engine == "onednn" and any(scenario.weight.qparams.zero_points):
            continue
        trace = explain.explain_cell(scenario.with_engine(engine), cell, isa, worker=workers[isa])
        assert trace.exact.q is not None
        if trace.cause == "kernel-mismatch":
            # A known wrong kernel (docs/numerics.md): both numbers are shown, never a silent pass.
            assert trace.quantized_q != trace.output_q or trace.quantized_q is None
            assert str(trace.output_q) in trace.explanation
            continue
        assert trace.quantized_q == trace.output_q, (engine, trace.notes)
        if trace.output_q != trace.float_path.q:
            assert trace.cause not in (None, "clamped")
            assert trace.steps


def test_explain_prints_nothing_on_stderr():
    code = (
        "import argparse, sys\n"
        "from qdebug_tui.commands import explain\n"
        "parser = argparse.ArgumentParser(prog='qdebug')\n"
        "explain.add_parser(parser.add_subparsers(dest='command'))\n"
        f"sys.exit(explain.run(parser.parse_args(['explain', {str(SEED)!r}, '--cell', '0,0,0,0', '--isa', 'avx2', '--json'])))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stderr == ""
    assert json.loads(result.stdout)["output_q"] == 7


def write_width_one_conv(path: Path, weight_shape, input_shape, stride, padding, dilation) -> Path:
    """Write a oneDNN conv whose input is 1 wide, the shape of oneDNN 3.12's padding bug."""
    rng = np.random.default_rng(3)
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": path.stem,
        "layer": {"kind": "conv2d", "stride": stride, "padding": padding, "dilation": dilation, "groups": 1, "relu": False},
        "input": {"dtype": "quint8", "scale": 0.02, "zero_point": 120, "q": rng.integers(0, 256, input_shape).tolist()},
        "weight": {"dtype": "qint8", "scale": 0.01, "zero_point": 0, "q": rng.integers(-128, 128, weight_shape).tolist()},
        "bias": None,
        "output": {"dtype": "quint8", "scale": 0.05, "zero_point": 100},
        "engine": "onednn",
    }
    path.write_text(json.dumps(document))
    return path


def test_wrong_kernel_result_is_kernel_mismatch(capsys, tmp_path):
    path = write_width_one_conv(tmp_path / "wrong.json", (1, 4, 1, 2), (2, 4, 4, 1), [1, 2], [2, 1], [2, 2])
    status, document = json_trace(capsys, str(path), "--cell", "0,0,2,0")
    assert status == 0
    assert document["quantized_path"]["q"] != document["exact"]["q"]
    assert document["output_q"] == document["exact"]["q"]
    assert document["cause"] == "kernel-mismatch"
    assert "entirely in the padding" in document["explanation"]


def test_crashing_kernel_is_kernel_mismatch(capsys, tmp_path):
    path = write_width_one_conv(tmp_path / "crash.json", (3, 3, 1, 1), (1, 3, 4, 1), [1, 2], [1, 1], [2, 2])
    status, document = json_trace(capsys, str(path), "--cell", "0,0,1,0")
    assert status == 0
    assert document["quantized_path"]["q"] is None
    assert document["cause"] == "kernel-mismatch"
    assert "crashed the process" in document["explanation"]
