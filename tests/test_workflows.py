"""Pilot tests of the scenario workflows: value edits, undo and redo, save, quit, open.

Each test works on copies of the sample files in a temporary folder, and waits for
conditions and workers, never for a fixed time.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import Input, Select

from conftest import SAMPLES, SEED
from pilot_helpers import cell_text, wait_for_evaluation, wait_for_recompute, wait_until
from qdebug_tui.app import QDebugApp
from qdebug_tui.cli import main as qdebug_main
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.screens.confirm import ReplaceFileDialog, UnsavedChangesDialog
from qdebug_tui.screens.drilldown import DrillDownScreen
from qdebug_tui.screens.main import MainScreen
from qdebug_tui.screens.message import ErrorDialog
from qdebug_tui.screens.open_dialog import OpenDialog, display_path
from qdebug_tui.screens.save_as import SaveAsDialog
from recorded_backend import RecordedKernelBackend

SIZE = (120, 40)


@pytest.fixture
def seed_copy(tmp_path):
    path = tmp_path / "seed.json"
    shutil.copy(SEED, path)
    return path


@pytest.fixture
def forum_copy(tmp_path):
    for name in ("forum_csv_32x32.json", "forum_input_32x32.csv", "forum_weight_5x5.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path / "forum_csv_32x32.json"


def make_app(path, **options) -> QDebugApp:
    return QDebugApp(path, backend_loader=RecordedKernelBackend, **options)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).content)


def notifications(app) -> str:
    return "\n".join(str(notification.message) for notification in app._notifications)


async def type_value(pilot, grid_id: str, *keys: str) -> None:
    """Focus a grid and press ``keys`` there, as a user typing over the cell under the cursor."""
    pilot.app.screen.query_one(f"#{grid_id}").focus()
    await pilot.pause()
    await pilot.press(*keys)
    await pilot.pause()


async def type_qparam(pilot, widget_id: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#{widget_id}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def assert_undo_steps(pilot, zero_points: list[int]) -> None:
    """Press ctrl+z once per entry and check the output zero point after each press."""
    for expected in zero_points:
        await pilot.press("ctrl+z")
        assert pilot.app.screen.scenario.output.zero_point == expected


async def wait_for_screen(pilot, screen_type, description: str):
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, screen_type), description)
    await pilot.pause()
    return pilot.app.screen


# Value edits --------------------------------------------------------------------------------


async def test_typed_digits_replace_input(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "right", "1", "2", "8")
        assert "input[0, 0, 0, 1]: 200 → 128" in text_of(app, "#cell-edit-text")
        await pilot.press("enter")
        await wait_for_recompute(pilot, lambda results: results.scenario.input.q[0, 0, 0, 1] == 128, "input 128")

        assert app.screen.scenario.input.q[0, 0, 0, 1] == 128
        assert app.screen.scenario.input.q[0, 0, 0, 0] == 200
        assert not app.screen.query_one("#cell-edit").display
        assert app.focused.id == "input-grid"
        assert "modified" in text_of(app, "#file-status")


async def test_enter_then_number_edits_weight(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "weight-grid", "down", "enter")
        assert app.screen.query_one("#cell-edit").display
        await pilot.press("-", "7", "enter")
        await wait_for_recompute(pilot, lambda results: results.scenario.weight.q[0, 0, 1, 0] == -7, "weight -7")
        assert app.screen.scenario.weight.q.dtype == np.int8


@pytest.mark.parametrize(
    ("grid_id", "keys", "reason"),
    [
        ("input-grid", ("3", "0", "0"), "expected an integer in [0, 255] for quint8"),
        ("input-grid", ("-", "1"), "expected an integer in [0, 255] for quint8"),
        ("weight-grid", ("1", "2", "8"), "expected an integer in [-128, 127] for qint8"),
        ("weight-grid", ("1", ".", "5"), "not a fraction"),
    ],
)
async def test_out_of_range_value_rejected(seed_copy, grid_id, keys, reason):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        before_scenario, before_results = app.screen.scenario, app.screen.results
        await type_value(pilot, grid_id, *keys, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()

        problem = text_of(app, "#cell-edit-problem")
        assert reason in problem
        assert "the value stays as it was" in problem
        assert app.screen.query_one("#cell-edit").has_class("-invalid")
        assert app.screen.scenario is before_scenario
        assert app.screen.results is before_results
        assert not app.screen.modified

        for _ in keys:
            await pilot.press("backspace")
        await pilot.press("5", "enter")
        name = grid_id.removesuffix("-grid")
        await wait_for_recompute(pilot, lambda results: getattr(results.scenario, name).q[0, 0, 0, 0] == 5, "value 5")
        assert not app.screen.query_one("#cell-edit").display


async def test_escape_cancels_value_edit(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        before = app.screen.scenario
        await type_value(pilot, "input-grid", "9", "escape")
        assert not app.screen.query_one("#cell-edit").display
        await type_value(pilot, "input-grid", "9", "down")
        assert not app.screen.query_one("#cell-edit").display
        assert app.screen.query_one("#input-grid").cursor == (1, 0)
        assert app.screen.scenario is before
        assert app.screen.history.can_undo is False


async def test_output_grid_not_editable(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        main = app.screen
        before = main.scenario
        await type_value(pilot, "output-grid", "5", "enter")
        # enter on the output grid opens the drill-down instead of an edit.
        assert isinstance(app.screen, DrillDownScreen)
        assert not main.query_one("#cell-edit").display
        assert main.scenario is before


# Undo and redo ------------------------------------------------------------------------------


async def test_undo_redo_every_edit_kind(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        screen = app.screen
        original = screen.scenario

        await type_qparam(pilot, "output-zero-point", "128")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 128, "zero point 128")
        screen.query_one(Select).value = "fbgemm"
        await wait_for_recompute(pilot, lambda results: results.scenario.engine == "fbgemm", "engine fbgemm")
        await type_value(pilot, "input-grid", "7", "enter")
        await wait_for_recompute(pilot, lambda results: results.scenario.input.q[0, 0, 0, 0] == 7, "input 7")
        await pilot.press("t")
        assert screen.keep_real

        expected_undos = [
            ("edit mode", lambda s: not screen.keep_real),
            ("input.q[0][0][0][0]", lambda s: s.input.q[0, 0, 0, 0] == 200),
            ("engine", lambda s: s.engine == "x86" and screen.query_one(Select).value == "x86"),
            ("output.zero_point", lambda s: s.output.zero_point == 0 and screen.query_one("#output-zero-point", Input).value == "0"),
        ]
        for label, check in expected_undos:
            await pilot.press("ctrl+z")
            await pilot.pause()
            assert f"Undid {label}" in notifications(app)
            assert check(screen.scenario), label
        assert screen.scenario is original
        await wait_for_recompute(pilot, lambda results: results.scenario is original, "the original scenario")
        assert not screen.modified
        await pilot.press("ctrl+z")
        assert "nothing to undo" in notifications(app)

        for _ in range(4):
            await pilot.press("ctrl+y")
        await pilot.pause()
        assert screen.scenario.output.zero_point == 128
        assert screen.scenario.engine == "fbgemm"
        assert screen.scenario.input.q[0, 0, 0, 0] == 7
        assert screen.keep_real
        assert screen.query_one("#output-zero-point", Input).value == "128"
        assert "keep real values" in text_of(app, "#edit-mode")
        await wait_for_recompute(pilot, lambda results: results.scenario is screen.scenario, "the redone scenario")


async def test_typed_field_is_one_undo(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_qparam(pilot, "output-zero-point", "128")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 128, "zero point 128")
        await pilot.press("ctrl+z")
        assert app.screen.scenario.output.zero_point == 0
        assert not app.screen.history.can_undo


async def test_leaving_field_splits_undo(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        screen = app.screen
        await type_qparam(pilot, "output-zero-point", "5")
        screen.query_one("#output-grid").focus()
        await pilot.pause()
        await type_qparam(pilot, "output-zero-point", "6")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 6, "zero point 6")
        await assert_undo_steps(pilot, [5, 0])


async def test_typing_pause_splits_undo(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_qparam(pilot, "output-zero-point", "12")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 12, "zero point 12")
        # The recompute after the pause ended the step, so the next digit starts a new one.
        await pilot.press("3")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 123, "zero point 123")
        await assert_undo_steps(pilot, [12, 0])


async def test_enter_splits_undo(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_qparam(pilot, "output-zero-point", "5")
        await pilot.press("enter")
        await type_qparam(pilot, "output-zero-point", "6")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 6, "zero point 6")
        await assert_undo_steps(pilot, [5, 0])


async def test_invalid_qparam_leaves_history_in_step(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_qparam(pilot, "output-zero-point", "300")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.history.present.scenario is screen.scenario
        assert screen.scenario.output.zero_point in (0, 3, 30)
        in_force = screen.scenario

        # The first undo takes back the invalid text: the field shows the value in force.
        await pilot.press("ctrl+z")
        assert screen.scenario is in_force
        assert not screen.query_one("#output-zero-point", Input).has_class("-invalid")
        assert screen.query_one("#output-zero-point", Input).value == str(in_force.output.zero_point)
        assert "Undid the invalid value of output.zero_point" in notifications(app)

        # Typing "3" and "30" may have been computed on a slow machine: one more undo at most.
        if screen.history.can_undo:
            await pilot.press("ctrl+z")
        assert not screen.history.can_undo
        assert screen.scenario.output.zero_point == 0
        assert screen.query_one("#output-zero-point", Input).value == "0"


# Save and reload ----------------------------------------------------------------------------


async def test_save_then_reload_keeps_edits(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "weight-grid", "right", "right", "1", "0", "0", "enter")
        await type_qparam(pilot, "input-scale", "0.02")
        screen = app.screen
        screen.query_one(Select).value = "qnnpack"
        await wait_for_recompute(pilot, lambda results: results.scenario.engine == "qnnpack", "engine qnnpack")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.modified, "the save")
        assert "modified" not in text_of(app, "#file-status")
        assert f"Saved {seed_copy}" in notifications(app)
        edited = screen.scenario

    reloaded = make_app(seed_copy)
    async with reloaded.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        scenario = reloaded.screen.scenario
        assert scenario.weight.q[0, 0, 0, 2] == 100
        np.testing.assert_array_equal(scenario.weight.q, edited.weight.q)
        assert scenario.input.qparams.scales == (0.02,)
        assert scenario.engine == "qnnpack"
        assert reloaded.screen.query_one(Select).value == "qnnpack"
        assert reloaded.screen.query_one("#input-scale", Input).value == "0.02"


async def test_save_note_names_new_npy(forum_copy):
    app = make_app(forum_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "9", "enter")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not app.screen.modified, "the save")
        assert "input.q was edited, so it is saved to forum_csv_32x32.input-q.npy" in notifications(app)
    assert load_scenario(forum_copy).input.q[0, 0, 0, 0] == 9


async def test_failed_save_keeps_file(seed_copy, monkeypatch):
    """Simulated: os.replace raises, as a rename onto the scenario file can fail."""
    before = seed_copy.read_bytes()

    def failing_replace(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "9", "enter")
        monkeypatch.setattr(os, "replace", failing_replace)
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, ErrorDialog, "the error dialog")
        message = str(dialog.query_one("#error-message").content)
        assert f"{seed_copy} was not saved: Permission denied" in message
        assert "The scenario file on disk is as it was" in message
        await pilot.press("enter")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.screen.modified
        assert "modified" in text_of(app, "#file-status")
    assert seed_copy.read_bytes() == before
    assert [path.name for path in seed_copy.parent.iterdir()] == ["seed.json"]


async def test_save_as_from_palette(seed_copy):
    target = seed_copy.parent / "copy.json"
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "4", "enter")
        await pilot.press("ctrl+p")
        await pilot.press(*"save as")
        await wait_until(pilot, lambda: "Save as" in first_palette_hit(app), "the palette hit")
        await pilot.press("enter")
        dialog = await wait_for_screen(pilot, SaveAsDialog, "the save-as dialog")
        assert dialog.query_one("#save-as-path", Input).value == str(seed_copy)
        dialog.query_one("#save-as-path", Input).value = "copy.json"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.scenario_path == target, "the new path")
        await wait_until(pilot, lambda: not app.screen.modified, "the save")
        assert text_of(app, "#file-status") == "copy.json"
        assert load_scenario(target).input.q[0, 0, 0, 0] == 4
        assert load_scenario(seed_copy).input.q[0, 0, 0, 0] == 200

        await type_value(pilot, "input-grid", "5", "enter")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not app.screen.modified, "the second save")
        assert load_scenario(target).input.q[0, 0, 0, 0] == 5


async def test_save_as_confirms_replace(seed_copy):
    other = seed_copy.parent / "other.json"
    other.write_text("keep me")
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await pilot.app.run_action("save_as")
        dialog = await wait_for_screen(pilot, SaveAsDialog, "the save-as dialog")
        dialog.query_one("#save-as-path", Input).value = str(other)
        await pilot.press("enter")
        await wait_for_screen(pilot, ReplaceFileDialog, "the replace question")
        await pilot.press("escape")
        await wait_for_screen(pilot, SaveAsDialog, "the save-as dialog again")
        assert other.read_text() == "keep me"
        dialog.query_one("#save-as-path", Input).value = "notes.txt"
        await pilot.press("enter")
        await pilot.pause()
        assert "must end in .json" in str(dialog.query_one("#save-as-status").content)
        await pilot.press("escape")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.scenario_path == seed_copy


async def test_bundled_sample_save_asks_path(seed_copy):
    before = seed_copy.read_bytes()
    app = make_app(seed_copy, bundled=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "4", "enter")
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, SaveAsDialog, "the save-as dialog")
        assert dialog.query_one("#save-as-path", Input).value == os.path.join(os.getcwd(), "seed.json")
        await pilot.press("escape")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.screen.modified
    assert seed_copy.read_bytes() == before


def first_palette_hit(app) -> str:
    lists = app.screen.query("CommandList")
    if not lists or lists.first().option_count == 0:
        return ""
    return str(lists.first().get_option_at_index(0).prompt)


# Quit ---------------------------------------------------------------------------------------


async def test_quit_without_changes_exits(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, "the app to exit")


@pytest.mark.parametrize("key", ["s", "d", "escape"])
async def test_quit_prompt_choices(seed_copy, key):
    before = seed_copy.read_bytes()
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "1", "1", "enter")
        await pilot.press("ctrl+q")
        dialog = await wait_for_screen(pilot, UnsavedChangesDialog, "the unsaved-changes prompt")
        assert "seed.json has unsaved changes. Save them before quitting?" in str(dialog.query_one("#choice-question").content)
        await pilot.press(key)
        if key == "escape":
            await wait_for_screen(pilot, MainScreen, "the main screen")
            assert app.is_running
            assert app.screen.modified
            assert app.screen.scenario.input.q[0, 0, 0, 0] == 11
        else:
            await wait_until(pilot, lambda: not app.is_running, "the app to exit")
    if key == "s":
        assert load_scenario(seed_copy).input.q[0, 0, 0, 0] == 11
    else:
        assert seed_copy.read_bytes() == before


async def test_quit_prompt_buttons(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "1", "enter")
        await pilot.press("ctrl+q")
        await wait_for_screen(pilot, UnsavedChangesDialog, "the unsaved-changes prompt")
        await pilot.press("right", "enter")
        await wait_until(pilot, lambda: not app.is_running, "the app to exit after Discard")
    assert load_scenario(seed_copy).input.q[0, 0, 0, 0] == 200


# Open ---------------------------------------------------------------------------------------


async def open_dialog(pilot) -> OpenDialog:
    await pilot.press("ctrl+o")
    return await wait_for_screen(pilot, OpenDialog, "the open dialog")


async def submit_path(pilot, dialog: OpenDialog, path) -> None:
    dialog.query_one("#open-path", Input).value = str(path)
    dialog.query_one("#open-path", Input).focus()
    await pilot.press("enter")


async def test_open_good_file(seed_copy):
    other = seed_copy.parent / "issue.json"
    shutil.copy(SAMPLES / "pytorch_issue_50720.json", other)
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, "issue.json")
        await wait_until(pilot, lambda: app.scenario_path == other, "the new file")
        await wait_for_screen(pilot, MainScreen, "the new main screen")
        await wait_for_evaluation(pilot)
        assert app.screen.scenario.name == load_scenario(other).name
        assert text_of(app, "#scenario-name") == app.screen.scenario.name
        assert text_of(app, "#file-status") == "issue.json"
        assert f"Opened {other}" in notifications(app)
        assert len(app.screen_stack) == 1
        assert len(app.screen.query("#input-grid")) == 1
        assert not app.screen.history.can_undo
        assert not app.screen.modified
        opened_input = app.screen.scenario.input.q
        assert cell_text(app.screen.query_one("#input-grid"), 0, 0).strip() == str(int(opened_input[0, 0, 0, 0]))


async def test_open_bad_file_shows_cli_message(seed_copy, capsys):
    bad = seed_copy.parent / "bad.json"
    document = json.loads(seed_copy.read_text())
    document["output"]["zero_point"] = 300
    document["weight"]["q"][0][0][4][1] = 128
    bad.write_text(json.dumps(document))
    assert qdebug_main([str(bad)]) == 2
    cli_message = capsys.readouterr().err.strip()

    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        main_screen, scenario = app.screen, app.screen.scenario
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, bad)
        error = await wait_for_screen(pilot, ErrorDialog, "the error dialog")
        shown = str(error.query_one("#error-message").content)
        assert shown == cli_message
        assert "output.zero_point: 300 is invalid" in shown
        assert "weight.q[0][0][4][1]: 128 is invalid" in shown

        await pilot.press("escape")
        await wait_for_screen(pilot, OpenDialog, "the open dialog again")
        assert "bad.json was not opened" in str(dialog.query_one("#open-status").content)
        await pilot.press("escape")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.screen is main_screen
        assert app.screen.scenario is scenario
        assert app.scenario_path == seed_copy
        assert not app.screen.modified


async def test_open_missing_path(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        scenario = app.screen.scenario
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, "no/such/file.json")
        error = await wait_for_screen(pilot, ErrorDialog, "the error dialog")
        assert "the file does not exist; check the path" in str(error.query_one("#error-message").content)
        await pilot.press("enter")
        await wait_for_screen(pilot, OpenDialog, "the open dialog again")
        await submit_path(pilot, dialog, "")
        assert "type the path" in str(dialog.query_one("#open-status").content)
        await pilot.press("escape")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.screen.scenario is scenario


async def test_open_folder_path_moves_tree(seed_copy):
    sub = seed_copy.parent / "cases"
    sub.mkdir()
    shutil.copy(SAMPLES / "conv3d.json", sub / "deep.json")
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, "cases")
        await wait_until(pilot, lambda: dialog.folder == sub, "the folder change")
        assert f"showing {display_path(sub)}" in str(dialog.query_one("#open-status").content)
        await submit_path(pilot, dialog, "deep.json")
        await wait_until(pilot, lambda: app.scenario_path == sub / "deep.json", "the file in the folder")


async def test_open_from_tree(seed_copy):
    (seed_copy.parent / "notes.txt").write_text("not a scenario")
    shutil.copy(SAMPLES / "conv3d.json", seed_copy.parent / "a_conv3d.json")
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        dialog = await open_dialog(pilot)
        tree = dialog.query_one("#open-tree")
        await wait_until(pilot, lambda: len(tree.root.children) == 2, "the tree's files")
        labels = [str(node.label) for node in tree.root.children]
        assert labels == ["a_conv3d.json", "seed.json"]
        tree.focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.scenario_path == seed_copy.parent / "a_conv3d.json", "the chosen file")


@pytest.mark.parametrize("answer", ["escape", "d"])
async def test_open_asks_about_unsaved(seed_copy, answer):
    other = seed_copy.parent / "issue.json"
    shutil.copy(SAMPLES / "pytorch_issue_50720.json", other)
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "3", "enter")
        edited = app.screen.scenario
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, other)
        prompt = await wait_for_screen(pilot, UnsavedChangesDialog, "the unsaved-changes prompt")
        assert "Save them before opening issue.json?" in str(prompt.query_one("#choice-question").content)
        await pilot.press(answer)
        if answer == "escape":
            await wait_for_screen(pilot, MainScreen, "the main screen")
            assert app.screen.scenario is edited
            assert app.scenario_path == seed_copy
        else:
            await wait_until(pilot, lambda: app.scenario_path == other, "the new file")
            await wait_for_screen(pilot, MainScreen, "the new main screen")
            assert not app.screen.modified
            assert load_scenario(seed_copy).input.q[0, 0, 0, 0] == 200


def test_display_path_shortens_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert display_path(tmp_path / "cases") == os.path.join("~", "cases")
    assert display_path(tmp_path.parent) == str(tmp_path.parent)
    monkeypatch.chdir(tmp_path)
    assert display_path(Path("cases")) == os.path.join("~", "cases")


# Unexpected input and errors ------------------------------------------------------------------


async def test_nul_in_paths_rejected(seed_copy):
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        scenario = app.screen.scenario
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, "bad\0name.json")
        error = await wait_for_screen(pilot, ErrorDialog, "the error dialog")
        assert "the path is invalid" in str(error.query_one("#error-message").content)
        await pilot.press("escape")
        await wait_for_screen(pilot, OpenDialog, "the open dialog again")
        await pilot.press("escape")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.screen.scenario is scenario

        await pilot.app.run_action("save_as")
        save_as = await wait_for_screen(pilot, SaveAsDialog, "the save-as dialog")
        save_as.query_one("#save-as-path", Input).value = "bad\0name.json"
        await pilot.press("enter")
        await pilot.pause()
        assert "NUL character" in str(save_as.query_one("#save-as-status").content)
        await pilot.press("escape")
        await wait_for_screen(pilot, MainScreen, "the main screen")


async def test_unexpected_save_error_shown(seed_copy, monkeypatch):
    before = seed_copy.read_bytes()

    def broken_save(scenario, path):
        raise RuntimeError("writer bug on purpose")

    monkeypatch.setattr("qdebug_tui.workflows.save_scenario", broken_save)
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "4", "enter")
        await pilot.press("ctrl+s")
        error = await wait_for_screen(pilot, ErrorDialog, "the error dialog")
        message = str(error.query_one("#error-message").content)
        assert "RuntimeError: writer bug on purpose" in message
        assert "The scenario on screen is unchanged" in message
        await pilot.press("enter")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.is_running
        assert app.screen.modified
        assert app.screen.scenario.input.q[0, 0, 0, 0] == 4
    assert seed_copy.read_bytes() == before


async def test_save_onto_folder_fails_cleanly(seed_copy):
    """Real failure: the scenario's path became a folder while the app ran."""
    app = make_app(seed_copy)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await type_value(pilot, "input-grid", "4", "enter")
        seed_copy.unlink()
        seed_copy.mkdir()
        (seed_copy / "inside.txt").write_text("kept")
        await pilot.press("ctrl+s")
        error = await wait_for_screen(pilot, ErrorDialog, "the error dialog")
        assert "was not saved: this is a folder" in str(error.query_one("#error-message").content)
        await pilot.press("enter")
        await wait_for_screen(pilot, MainScreen, "the main screen")
        assert app.screen.modified
    assert sorted(path.name for path in seed_copy.parent.iterdir()) == ["seed.json"]
    assert (seed_copy / "inside.txt").read_text() == "kept"
