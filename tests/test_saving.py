"""Saving edited scenarios: every field survives a reload, and a failed save changes nothing.

Failures are real where the machine allows: a target that is a folder, a tensor file name
taken by a folder. A rename that raises and a full disk are simulated by making
``os.replace`` or ``os.fsync`` raise, because a test cannot fill a real disk or break a
rename on purpose. A read-only folder is tested only when not running as root, because
root writes into read-only folders.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES
from qdebug_tui.cli import main
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.editing import QParamField, apply_engine, apply_qparam
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.io.scenario_writer import INLINE_LIMIT, save_scenario
from qdebug_tui.value_edits import apply_value
from scenario_factory import linear_with_real_values, multi_channel_conv


def assert_same_scenario(saved: Scenario, loaded: Scenario) -> None:
    """Check every field a scenario file contains."""
    assert loaded.name == saved.name
    assert loaded.description == saved.description
    assert loaded.layer == saved.layer
    assert loaded.engine == saved.engine
    assert loaded.output == saved.output
    for name in ("input", "weight"):
        left, right = getattr(saved, name), getattr(loaded, name)
        assert right.dtype == left.dtype, name
        assert right.qparams == left.qparams, name
        assert right.q.dtype == left.q.dtype, name
        np.testing.assert_array_equal(right.q, left.q, err_msg=name)
        if right.real is not None:
            # A file saves real values only while they still give these integers.
            np.testing.assert_array_equal(right.real, left.real, err_msg=name)
    if saved.bias is None:
        assert loaded.bias is None
    else:
        np.testing.assert_array_equal(loaded.bias.values, saved.bias.values)


def folder_listing(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def temporary_files(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.endswith(".tmp")]


@pytest.fixture
def forum_csv(tmp_path) -> Path:
    """The forum scenario with its two CSV files, copied into a temporary folder."""
    for name in ("forum_csv_32x32.json", "forum_input_32x32.csv", "forum_weight_5x5.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path / "forum_csv_32x32.json"


def edit_every_kind(scenario: Scenario) -> Scenario:
    """Apply one edit of each kind: qparams, engine, an input value, a weight value."""
    scenario = apply_qparam(scenario, QParamField("output", "zero_point"), "17")
    scenario = apply_qparam(scenario, QParamField("weight", "scale"), "0.125")
    scenario = apply_qparam(scenario, QParamField("input", "zero_point"), "40", keep_real=True)
    scenario = apply_engine(scenario, "qnnpack")
    input_index = (0,) * scenario.input.q.ndim
    weight_index = (0,) * scenario.weight.q.ndim
    scenario = apply_value(scenario, "input", input_index, str(255 - int(scenario.input.q[input_index])))
    scenario = apply_value(scenario, "weight", weight_index, str(-1 - int(scenario.weight.q[weight_index])))
    return scenario


@pytest.mark.parametrize("sample", sorted(path.name for path in SAMPLES.glob("*.json")))
def test_edited_sample_round_trip(tmp_path, sample):
    for extra in SAMPLES.glob("*.csv"):
        shutil.copy(extra, tmp_path)
    edited = edit_every_kind(load_scenario(SAMPLES / sample))
    target = tmp_path / sample
    save_scenario(edited, target)
    assert_same_scenario(edited, load_scenario(target))
    assert temporary_files(tmp_path) == []


def test_edited_csv_tensor_goes_to_new_npy(forum_csv):
    folder = forum_csv.parent
    csv_before = (folder / "forum_input_32x32.csv").read_bytes()
    scenario = load_scenario(forum_csv)
    edited = apply_value(scenario, "input", (0, 0, 3, 4), "7")

    notes = save_scenario(edited, forum_csv)

    document = json.loads(forum_csv.read_text())
    assert document["input"]["q"] == {"file": "forum_csv_32x32.input-q.npy"}
    assert document["weight"]["q"]["file"] == "forum_weight_5x5.csv"
    assert notes == ["input.q was edited, so it is saved to forum_csv_32x32.input-q.npy; forum_input_32x32.csv is unchanged"]
    assert (folder / "forum_input_32x32.csv").read_bytes() == csv_before
    saved = np.load(folder / "forum_csv_32x32.input-q.npy", allow_pickle=False)
    assert saved.dtype == np.uint8
    assert saved.shape == (1, 1, 32, 32)
    reloaded = load_scenario(forum_csv)
    assert reloaded.input.q[0, 0, 3, 4] == 7
    assert_same_scenario(edited, reloaded)


def test_repeated_saves_keep_referenced_file(forum_csv):
    folder = forum_csv.parent
    scenario = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
    save_scenario(scenario, forum_csv)
    first = folder / "forum_csv_32x32.input-q.npy"
    first_bytes = first.read_bytes()

    reopened = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "2")
    notes = save_scenario(reopened, forum_csv)
    # The file on disk referred to the first .npy, so the new values went to another name.
    assert "forum_csv_32x32.input-q.2.npy" in notes[0]
    assert first.read_bytes() == first_bytes
    assert load_scenario(forum_csv).input.q[0, 0, 0, 0] == 2

    third = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "3")
    save_scenario(third, forum_csv)
    assert json.loads(forum_csv.read_text())["input"]["q"] == {"file": "forum_csv_32x32.input-q.npy"}
    assert load_scenario(forum_csv).input.q[0, 0, 0, 0] == 3
    assert sorted(path.name for path in folder.glob("*.npy")) == ["forum_csv_32x32.input-q.2.npy", "forum_csv_32x32.input-q.npy"]


def test_same_content_reuses_npy(forum_csv):
    edited = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
    save_scenario(edited, forum_csv)
    npy = forum_csv.parent / "forum_csv_32x32.input-q.npy"
    modified = npy.stat().st_mtime_ns
    again = apply_value(load_scenario(forum_csv), "weight", (0, 0, 0, 0), "5")
    save_scenario(again, forum_csv)
    assert npy.stat().st_mtime_ns == modified
    assert json.loads(forum_csv.read_text())["input"]["q"] == {"file": "forum_csv_32x32.input-q.npy"}


def test_edited_inline_stays_inline(tmp_path):
    edited = apply_value(load_scenario(SAMPLES / "seed_conv2d.json"), "weight", (0, 0, 1, 1), "100")
    notes = save_scenario(edited, tmp_path / "seed.json")
    assert notes == []
    assert "[-97, 100, 47, 84, -56]" in (tmp_path / "seed.json").read_text()


def test_large_edited_inline_goes_to_npy(tmp_path, seed_document):
    seed_document["input"]["q"] = np.full((1, 1, 70, 70), 3).tolist()
    path = tmp_path / "big.json"
    path.write_text(json.dumps(seed_document))
    edited = apply_value(load_scenario(path), "input", (0, 0, 69, 69), "9")
    assert edited.input.q.size > INLINE_LIMIT
    notes = save_scenario(edited, path)
    assert notes == ["input.q was edited and has 4,900 elements, so it is saved to big.input-q.npy"]
    assert load_scenario(path).input.q[0, 0, 69, 69] == 9


def test_keep_integers_edit_of_real_values(tmp_path):
    scenario = load_scenario(linear_with_real_values(tmp_path))
    rescaled = apply_qparam(scenario, QParamField("input", "scale"), "0.3")
    path = tmp_path / "linear_real.json"
    save_scenario(rescaled, path)
    document = json.loads(path.read_text())
    assert "real" not in document["input"]
    assert document["input"]["q"] == [[15, 20, 5, 30]]
    assert_same_scenario(rescaled, load_scenario(path))


def test_save_as_other_folder_rewrites_references(forum_csv, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    save_scenario(load_scenario(forum_csv), other / "copy.json")
    document = json.loads((other / "copy.json").read_text())
    assert document["input"]["q"]["file"] == os.path.join("..", "forum_input_32x32.csv")
    assert_same_scenario(load_scenario(forum_csv), load_scenario(other / "copy.json"))


# Failures -----------------------------------------------------------------------------------


def test_folder_path_fails_cleanly(forum_csv):
    folder = forum_csv.parent
    target = folder / "taken.json"
    target.mkdir()
    edited = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
    before = folder_listing(folder)
    with pytest.raises(IsADirectoryError):
        save_scenario(edited, target)
    assert folder_listing(folder) == before
    assert target.is_dir()


def test_npy_name_taken_by_folder(forum_csv):
    folder = forum_csv.parent
    (folder / "forum_csv_32x32.input-q.npy").mkdir()
    before = folder_listing(folder)
    edited = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
    with pytest.raises(IsADirectoryError):
        save_scenario(edited, forum_csv)
    assert folder_listing(folder) == before
    assert temporary_files(folder) == []


def test_rename_failure_keeps_old_file(forum_csv, monkeypatch):
    """Simulated: os.replace raises for the scenario file, after the new .npy was renamed."""
    folder = forum_csv.parent
    before = folder_listing(folder)
    real_replace = os.replace

    def replace_except_json(source, target):
        if str(target).endswith(".json"):
            raise OSError(errno.EIO, "simulated rename failure", str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_except_json)
    edited = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
    with pytest.raises(OSError, match="simulated rename failure"):
        save_scenario(edited, forum_csv)
    assert folder_listing(folder) == before
    assert temporary_files(folder) == []


def test_full_disk_keeps_old_file(forum_csv, monkeypatch):
    """Simulated: fsync raises ENOSPC, as a full disk reports a failed write."""
    folder = forum_csv.parent
    before = folder_listing(folder)

    def no_space(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    edited = apply_qparam(load_scenario(forum_csv), QParamField("output", "zero_point"), "5")
    with pytest.raises(OSError) as caught:
        save_scenario(edited, forum_csv)
    assert caught.value.errno == errno.ENOSPC
    assert folder_listing(folder) == before
    assert temporary_files(folder) == []


def test_read_only_folder_keeps_old_file(forum_csv):
    folder = forum_csv.parent
    before = folder_listing(folder)
    folder.chmod(0o500)
    try:
        probe = folder / "probe"
        try:
            probe.write_bytes(b"")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("running as root: a read-only folder does not stop writes; the folder-path tests cover a real failure")
        edited = apply_qparam(load_scenario(forum_csv), QParamField("output", "zero_point"), "5")
        with pytest.raises(PermissionError):
            save_scenario(edited, forum_csv)
    finally:
        folder.chmod(0o700)
    assert folder_listing(folder) == before
    assert temporary_files(folder) == []


def test_unchanged_scenario_keeps_references(forum_csv):
    scenario = load_scenario(forum_csv)
    notes = save_scenario(replace(scenario, engine="fbgemm"), forum_csv)
    assert notes == []
    document = json.loads(forum_csv.read_text())
    assert document["input"]["q"] == {"file": "forum_input_32x32.csv", "shape": [1, 1, 32, 32]}
    assert document["engine"] == "fbgemm"
    assert not list(forum_csv.parent.glob("*.npy"))


def test_per_channel_edits_round_trip(tmp_path):
    scenario = load_scenario(multi_channel_conv(tmp_path))
    edited = apply_qparam(scenario, QParamField("weight", "scale"), "0.375", channel=2)
    edited = apply_value(edited, "weight", (1, 2, 0, 1), "-7")
    path = tmp_path / "multi_channel.json"
    notes = save_scenario(edited, path)
    assert notes == ["weight.q was edited, so it is saved to multi_channel.weight-q.npy; multi_w.npy is unchanged"]
    document = json.loads(path.read_text())
    assert document["weight"]["scale"] == [1.0, 1.0, 0.375, 0.25]
    assert document["weight"]["axis"] == 0
    assert document["input"]["q"] == {"file": "multi_x.npy"}
    assert_same_scenario(edited, load_scenario(path))


def test_save_keeps_permission_bits(forum_csv):
    forum_csv.chmod(0o640)
    edited = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
    save_scenario(edited, forum_csv)
    assert forum_csv.stat().st_mode & 0o777 == 0o640


def test_new_files_follow_umask(forum_csv):
    previous = os.umask(0o027)
    try:
        edited = apply_value(load_scenario(forum_csv), "input", (0, 0, 0, 0), "1")
        target = forum_csv.parent / "new.json"
        save_scenario(edited, target)
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o640
    assert (forum_csv.parent / "new.input-q.npy").stat().st_mode & 0o777 == 0o640


def test_edited_real_input_file_name(tmp_path):
    np.savetxt(tmp_path / "x.csv", np.linspace(0.0, 2.0, 25).reshape(5, 5), delimiter=",")
    np.savetxt(tmp_path / "w.csv", np.arange(-12, 13).reshape(5, 5), delimiter=",", fmt="%d")
    arguments = [
        "new", str(tmp_path / "case.json"),
        "--input", str(tmp_path / "x.csv"), "--input-real", "--input-scale", "0.01",
        "--weight", str(tmp_path / "w.csv"), "--weight-scale", "0.01",
        "--output-scale", "0.1",
    ]  # fmt: skip
    assert main(arguments) == 0
    scenario = load_scenario(tmp_path / "case.json")
    edited = apply_value(scenario, "input", (0, 0, 1, 1), "7")

    notes = save_scenario(edited, tmp_path / "case.json")

    document = json.loads((tmp_path / "case.json").read_text())
    assert document["input"]["real"] == {"file": "case.input-real.npy"}
    assert notes == ["input.real was edited, so it is saved to case.input-real.npy; x.csv is unchanged"]
    assert load_scenario(tmp_path / "case.json").input.q[0, 0, 1, 1] == 7
