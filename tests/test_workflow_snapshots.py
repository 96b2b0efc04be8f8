"""SVG screenshots of the workflow dialogs and the cell edit bar at 80×24.

The app opens ``cases/seed.json`` in a temporary folder that is also the home folder, so
that the dialogs show the same ``~/cases`` on every machine.
"""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import FIXED_FACTS, SEED
from pilot_helpers import wait_for_evaluation, wait_until
from qdebug_tui.app import QDebugApp
from qdebug_tui.screens.confirm import UnsavedChangesDialog
from qdebug_tui.screens.message import ErrorDialog
from qdebug_tui.screens.open_dialog import OpenDialog
from recorded_backend import RecordedKernelBackend

SIZE = (80, 24)


@pytest.fixture
def cases(tmp_path, monkeypatch):
    """A working folder with ``cases/seed.json``, ``cases/other.json`` and an invalid ``cases/bad.json``."""
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.json")
    shutil.copy(SEED, folder / "other.json")
    document = json.loads(SEED.read_text())
    document["output"]["zero_point"] = 300
    (folder / "bad.json").write_text(json.dumps(document))
    (folder / "notes.txt").write_text("not listed: only folders and .json files are")
    (folder / "more").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    return folder


def snapshot_app() -> QDebugApp:
    return QDebugApp("cases/seed.json", backend_loader=RecordedKernelBackend, fixed_facts=FIXED_FACTS)


async def open_dialog(pilot) -> None:
    await wait_for_evaluation(pilot)
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, OpenDialog), "the open dialog")
    tree = pilot.app.screen.query_one("#open-tree")
    await wait_until(pilot, lambda: len(tree.root.children) == 4, "the tree's entries")
    await pilot.pause()


class TestWorkflowScreens:
    def test_open_dialog(self, snap_compare, cases):
        assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_dialog)

    def test_invalid_file_message(self, snap_compare, cases):
        async def open_bad(pilot):
            await open_dialog(pilot)
            pilot.app.screen.query_one("#open-path").value = "bad.json"
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ErrorDialog), "the error dialog")
            await pilot.pause()

        assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_bad)

    def test_unsaved_changes_prompt(self, snap_compare, cases):
        async def edit_and_quit(pilot):
            await wait_for_evaluation(pilot)
            pilot.app.screen.query_one("#input-grid").focus()
            await pilot.press("1", "2", "8", "enter")
            await wait_until(pilot, lambda: pilot.app.screen.results.scenario.input.q[0, 0, 0, 0] == 128, "the edit")
            await pilot.app.workers.wait_for_complete()
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, UnsavedChangesDialog), "the prompt")
            await pilot.pause()

        assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=edit_and_quit)

    def test_rejected_cell_value(self, snap_compare, cases):
        async def type_invalid(pilot):
            await wait_for_evaluation(pilot)
            pilot.app.screen.query_one("#weight-grid").focus()
            await pilot.press("down", "2", "0", "0", "enter")
            await pilot.pause()

        assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=type_invalid)
