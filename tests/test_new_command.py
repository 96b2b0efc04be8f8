"""``qdebug new`` turns CSV and .npy files into a scenario, validated like any load."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLES
from qdebug_tui.cli import main
from qdebug_tui.io.scenario_file import load_scenario


@pytest.fixture
def forum_files(tmp_path):
    for name in ("forum_input_32x32.csv", "forum_weight_5x5.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path


def forum_arguments(folder, out="case.json", *extra):
    return [
        "new",
        str(folder / out),
        "--input", str(folder / "forum_input_32x32.csv"),
        "--input-scale", "0.012728",
        "--input-zero-point", "33",
        "--weight", str(folder / "forum_weight_5x5.csv"),
        "--weight-scale", "0.00292",
        "--weight-zero-point", "-11",
        "--output-scale", "0.02091",
        *extra,
    ]  # fmt: skip


def test_new_from_two_csv_files(forum_files, capsys):
    assert main(forum_arguments(forum_files)) == 0
    printed = capsys.readouterr().out
    assert f"qdebug {forum_files / 'case.json'}" in printed
    scenario = load_scenario(forum_files / "case.json")
    assert scenario.input.shape == (1, 1, 32, 32)
    assert scenario.weight.shape == (1, 1, 5, 5)
    assert scenario.weight.q[0, 0, 2, 0] == -128
    assert scenario.output_shape == (1, 1, 28, 28)
    document = json.loads((forum_files / "case.json").read_text())
    assert document["input"]["q"] == {"file": "forum_input_32x32.csv", "shape": [1, 1, 32, 32]}


def test_new_refuses_to_overwrite(forum_files, capsys):
    assert main(forum_arguments(forum_files)) == 0
    before = (forum_files / "case.json").read_bytes()
    assert main(forum_arguments(forum_files, "case.json", "--engine", "qnnpack")) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (forum_files / "case.json").read_bytes() == before
    assert main(forum_arguments(forum_files, "case.json", "--engine", "qnnpack", "--force")) == 0
    assert load_scenario(forum_files / "case.json").engine == "qnnpack"


def test_new_names_the_flag_of_a_bad_value(forum_files, capsys):
    arguments = forum_arguments(forum_files)
    arguments[arguments.index("--weight-scale") + 1] = "0"
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert "weight.scale (--weight-scale): 0 is invalid" in error
    assert not (forum_files / "case.json").exists()


def test_new_reports_missing_file(forum_files, capsys):
    arguments = forum_arguments(forum_files)
    arguments[arguments.index("--input") + 1] = str(forum_files / "absent.csv")
    assert main(arguments) == 2
    assert "--input" in capsys.readouterr().err


def test_new_with_npy_real_values_per_channel(tmp_path):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "x.npy", rng.integers(0, 256, (1, 2, 6, 6)).astype(np.uint8))
    np.save(tmp_path / "w.npy", rng.normal(0, 0.05, (3, 2, 3, 3)).astype(np.float32))
    np.savetxt(tmp_path / "b.csv", [[0.1, -0.2, 0.3]], delimiter=",")
    arguments = [
        "new", str(tmp_path / "s.json"),
        "--input", str(tmp_path / "x.npy"), "--input-scale", "0.02", "--input-zero-point", "128",
        "--weight", str(tmp_path / "w.npy"), "--weight-real", "--weight-scale", "0.001,0.002,0.0015",
        "--bias", str(tmp_path / "b.csv"),
        "--output-scale", "0.1", "--output-zero-point", "64",
        "--padding", "1", "--relu", "--engine", "fbgemm",
    ]  # fmt: skip
    assert main(arguments) == 0
    scenario = load_scenario(tmp_path / "s.json")
    assert scenario.weight.qparams.scales == (0.001, 0.002, 0.0015)
    assert scenario.weight.qparams.per_channel
    assert scenario.bias.values.tolist() == pytest.approx([0.1, -0.2, 0.3])
    assert scenario.layer.relu
    assert scenario.layer.padding == (1, 1)


def test_new_linear_csv_shapes(tmp_path):
    np.savetxt(tmp_path / "x.csv", [[255, 255]], delimiter=",", fmt="%d")
    np.savetxt(tmp_path / "w.csv", [[113, 113]], delimiter=",", fmt="%d")
    arguments = [
        "new", str(tmp_path / "l.json"), "--layer", "linear",
        "--input", str(tmp_path / "x.csv"), "--input-scale", "1", "--input-zero-point", "144",
        "--weight", str(tmp_path / "w.csv"), "--weight-scale", "1",
        "--output-scale", "1",
    ]  # fmt: skip
    assert main(arguments) == 0
    scenario = load_scenario(tmp_path / "l.json")
    assert scenario.input.shape == (1, 2)
    assert scenario.output_shape == (1, 1)


@pytest.mark.parametrize("tensor", ["input", "weight"])
def test_new_fractions_name_real_flag(tmp_path, capsys, tensor):
    np.savetxt(tmp_path / "fractions.csv", [[0.5, 1.25], [3, 4]], delimiter=",")
    np.savetxt(tmp_path / "integers.csv", [[1, 2], [3, 4]], delimiter=",", fmt="%d")
    files = {"input": "integers.csv", "weight": "integers.csv", tensor: "fractions.csv"}
    arguments = [
        "new", str(tmp_path / "f.json"),
        "--input", str(tmp_path / files["input"]), "--input-scale", "0.1",
        "--weight", str(tmp_path / files["weight"]), "--weight-scale", "0.1",
        "--output-scale", "0.1",
    ]  # fmt: skip
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert f"(add --{tensor}-real if the file contains real values)" in error
    assert 'use "real"' not in error
    assert not (tmp_path / "f.json").exists()


def clipping_files(folder):
    rng = np.random.default_rng(1)
    real_input = rng.uniform(-0.2, 2.0, (32, 32))
    np.savetxt(folder / "x.csv", real_input, delimiter=",")
    np.savetxt(folder / "w.csv", rng.integers(-20, 21, (5, 5)), delimiter=",", fmt="%d")
    return real_input


def clipping_arguments(folder, input_scale):
    return [
        "new", str(folder / "clip.json"), "--force",
        "--input", str(folder / "x.csv"), "--input-real", "--input-scale", input_scale, "--input-zero-point", "10",
        "--weight", str(folder / "w.csv"), "--weight-scale", "0.0005",
        "--output-scale", "0.05",
    ]  # fmt: skip


def test_new_warns_about_clipped_values(tmp_path, capsys):
    real_input = clipping_files(tmp_path)
    expected = int(np.count_nonzero((np.rint(real_input / 0.005 + 10) < 0) | (np.rint(real_input / 0.005 + 10) > 255)))
    assert expected > 100
    assert main(clipping_arguments(tmp_path, "0.005")) == 0
    captured = capsys.readouterr()
    assert f"Created {tmp_path / 'clip.json'}" in captured.out
    assert (
        f"warning: {expected} of 1024 input values fell outside 0..255 after quantization and were clipped; "
        "--input-scale 0.0187 or larger keeps them" in captured.err
    )
    assert "weight values" not in captured.err
    assert (tmp_path / "clip.json").exists()


def test_new_suggested_scale_clips_nothing(tmp_path, capsys):
    clipping_files(tmp_path)
    assert main(clipping_arguments(tmp_path, "0.0187")) == 0
    assert "warning" not in capsys.readouterr().err
