"""Scenario files round-trip through save and load, and keep their tensor file references."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLES
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.io.scenario_writer import save_scenario


def assert_same_scenario(a, b):
    assert a.name == b.name
    assert a.description == b.description
    assert a.layer == b.layer
    assert a.engine == b.engine
    assert a.output == b.output
    for left, right in ((a.input, b.input), (a.weight, b.weight)):
        assert left.dtype == right.dtype
        assert left.qparams == right.qparams
        np.testing.assert_array_equal(left.q, right.q)
        assert left.q.dtype == right.q.dtype
    if a.bias is None:
        assert b.bias is None
    else:
        np.testing.assert_array_equal(a.bias.values, b.bias.values)


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_round_trip(tmp_path, sample):
    for extra in SAMPLES.glob("*.csv"):
        shutil.copy(extra, tmp_path)
    original = load_scenario(SAMPLES / sample)
    saved = tmp_path / sample
    save_scenario(original, saved)
    assert_same_scenario(original, load_scenario(saved))


def test_round_trip_keeps_csv_reference(tmp_path):
    original = load_scenario(SAMPLES / "forum_csv_32x32.json")
    target = tmp_path / "copy.json"
    save_scenario(original, target)
    document = json.loads(target.read_text())
    assert document["input"]["q"]["file"].endswith("forum_input_32x32.csv")
    assert document["input"]["q"]["shape"] == [1, 1, 32, 32]
    assert_same_scenario(original, load_scenario(target))


def test_real_values_round_trip(tmp_path, seed_document):
    seed_document["input"].pop("q")
    seed_document["input"]["real"] = [[[[0.1, 0.2, -0.05, 1.0, 3.0]] * 5]]
    path = tmp_path / "real.json"
    path.write_text(json.dumps(seed_document))
    original = load_scenario(path)
    assert original.input.q[0, 0, 0].tolist() == [41, 49, 29, 112, 255]
    save_scenario(original, path)
    assert "real" in json.loads(path.read_text())["input"]
    assert_same_scenario(original, load_scenario(path))


def test_npy_reference(tmp_path, seed_document):
    np.save(tmp_path / "w.npy", np.array(seed_document["weight"]["q"], dtype=np.int8))
    seed_document["weight"]["q"] = {"file": "w.npy"}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(seed_document))
    scenario = load_scenario(path)
    assert scenario.weight.q[0, 0, 2, 0] == -128
    save_scenario(scenario, tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text())["weight"]["q"] == {"file": "w.npy"}


def test_saved_file_is_readable_json_grid(tmp_path):
    target = tmp_path / "seed.json"
    save_scenario(load_scenario(SAMPLES / "seed_conv2d.json"), target)
    text = target.read_text()
    assert "[9, -32, 17, 3, -67]" in text
