"""Mutated scenarios through the app's loader and the open dialog: always a message, never a traceback.

Most mutants go through the dialog's load function and the app's constructor directly, and a
sample goes through the real dialog with Pilot.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from conftest import SEED
from mutants import mutants, write_bad_tensor_files, write_mutant
from pilot_helpers import wait_for_evaluation, wait_until
from qdebug_tui.app import QDebugApp
from qdebug_tui.io.errors import ScenarioError
from qdebug_tui.screens.main import MainScreen
from qdebug_tui.screens.message import ErrorDialog
from qdebug_tui.screens.open_dialog import OpenDialog, OpenedScenario, read_scenario
from recorded_backend import RecordedKernelBackend

DIRECT_MUTANTS = 1000
PILOT_MUTANTS = 20


@pytest.fixture
def bad_folder(tmp_path):
    write_bad_tensor_files(tmp_path)
    return tmp_path


def assert_names_the_field(error: ScenarioError, path) -> None:
    """Check that every problem names its place in the file and what is allowed."""
    assert error.problems
    message = error.message()
    assert "Traceback" not in message
    for problem in error.problems:
        assert problem.expected
        located = problem.path or "line " in str(problem.value) or problem.value in (str(path), "nesting")
        assert located, problem
        assert f"{path}: {problem.describe()}" in message


@pytest.mark.filterwarnings("error")
def test_loaders_survive_1000_mutants(bad_folder):
    outcomes: Counter[str] = Counter()
    fields: Counter[str] = Counter()
    for number, text in enumerate(mutants(DIRECT_MUTANTS, seed=3)):
        path = write_mutant(bad_folder, f"m{number}.json", text)
        result = read_scenario(path)
        if isinstance(result, OpenedScenario):
            outcomes["opened"] += 1
            assert result.path == path
            app = QDebugApp(path, backend_loader=RecordedKernelBackend)
            assert app.scenario.name == result.scenario.name
            continue
        outcomes["rejected"] += 1
        assert_names_the_field(result, path)
        fields.update(problem.path.split(".")[0].split("[")[0] for problem in result.problems)
        with pytest.raises(ScenarioError) as caught:
            QDebugApp(path, backend_loader=RecordedKernelBackend)
        assert caught.value.message() == result.message()
    assert outcomes["rejected"] > 500
    assert outcomes["opened"] > 0
    # The mutations reach every part of a scenario, not only the top level.
    for field in ("input", "weight", "bias", "output", "layer", "engine"):
        assert fields[field] > 0, field


def test_bad_tensor_files_named(bad_folder, seed_document):
    cases = {
        "ragged.csv": "row 2 has 2 values but row 1 has 3",
        "text.csv": "'three' is not a number",
        "empty.csv": "has no numbers",
        "binary.csv": "not UTF-8 text",
        "nan.csv": "is not a finite number",
        "huge_header.npy": "the size limit",
        "truncated.npy": "is not a valid .npy file",
        "objects.npy": "never unpickles",
    }
    for name, reason in cases.items():
        seed_document["input"]["q"] = {"file": name}
        path = write_mutant(bad_folder, "bad_file.json", json.dumps(seed_document))
        result = read_scenario(path)
        assert isinstance(result, ScenarioError), name
        assert "input.q.file" in result.message(), name
        assert reason in result.message(), name


async def test_dialog_sample_of_mutants(bad_folder):
    start = bad_folder / "start.json"
    shutil.copy(SEED, start)
    app = QDebugApp(start, backend_loader=RecordedKernelBackend)
    outcomes: Counter[str] = Counter()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_evaluation(pilot)
        for number, text in enumerate(mutants(PILOT_MUTANTS, seed=4)):
            path = write_mutant(bad_folder, f"p{number}.json", text)
            expected = read_scenario(path)
            main_screen, scenario = app.screen, app.screen.scenario

            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: isinstance(app.screen, OpenDialog), "the open dialog")
            dialog = app.screen
            dialog.query_one("#open-path").value = str(path)
            await pilot.press("enter")

            if isinstance(expected, ScenarioError):
                outcomes["rejected"] += 1
                await wait_until(pilot, lambda: isinstance(app.screen, ErrorDialog), f"the error for mutant {number}")
                assert str(app.screen.query_one("#error-message").content) == expected.message()
                await pilot.press("escape")
                await wait_until(pilot, lambda: app.screen is dialog, "the open dialog again")
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
                assert app.screen is main_screen
                assert app.screen.scenario is scenario
            else:
                outcomes["opened"] += 1
                await wait_until(pilot, lambda: app.scenario_path == path, f"mutant {number} to open")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the new main screen")
                await wait_until(pilot, lambda: app.screen.results is not None, "the new scenario's results")
            assert app.is_running
        await app.workers.wait_for_complete()
    assert outcomes["rejected"] > PILOT_MUTANTS // 2


def test_nul_path_is_scenario_error(tmp_path):
    result = read_scenario(tmp_path / "a\0b.json")
    assert isinstance(result, ScenarioError)
    assert "the path is invalid" in result.message()
