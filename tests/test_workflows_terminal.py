"""The edit, save and quit workflow of the installed ``qdebug`` in a real terminal (tmux)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SEED
from qdebug_tui.io.scenario_file import load_scenario
from test_terminal import QDEBUG, split_panes, tmux, wait_for_screen  # noqa: F401  (tmux is a fixture)


def first_input_cell(screen: str) -> str:
    """Return the text of the input grid's cell (0, 0), from the first data row of the left pane."""
    for line in screen.splitlines():
        panes = split_panes(line)
        if len(panes) == 3 and panes[0].lstrip("│┃").startswith("0 "):
            return panes[0].lstrip("│┃").split()[1]
    return ""


def first_weight_cell(screen: str) -> str:
    """Return the text of the weight grid's cell (0, 0), from the first data row of the middle pane."""
    for line in screen.splitlines():
        panes = split_panes(line)
        if len(panes) == 3 and panes[1].startswith("0 "):
            return panes[1].split()[1]
    return ""


@pytest.mark.skipif(not Path(QDEBUG).exists(), reason="the qdebug console script is not installed")
def test_edit_save_quit_in_tmux(tmux, tmp_path):
    scenario = tmp_path / "case.json"
    shutil.copy(SEED, scenario)
    command = f"{QDEBUG} {scenario}; echo qdebug exited with status $?; sleep 600"
    tmux(
        "new-session", "-d", "-s", "qdebug", "-x", "80", "-y", "24",
        "-e", f"XDG_STATE_HOME={tmp_path / 'state'}", "-e", "TERM=xterm-256color", command,
    )  # fmt: skip
    wait_for_screen(tmux, lambda text: "mismatched" in text, "the grids and summary")

    # Two shift+tabs move from the output grid to the input grid; the digits and enter
    # follow in the same burst.
    tmux("send-keys", "-t", "qdebug", "BTab", "BTab", "1", "2", "8", "Enter")
    screen = wait_for_screen(
        tmux, lambda text: first_input_cell(text) == "128" and "case.json · modified · ctrl+s saves" in text, "the edited cell and the marker"
    )
    assert "Traceback" not in screen

    tmux("send-keys", "-t", "qdebug", "C-s")
    wait_for_screen(tmux, lambda text: "modified" not in text.splitlines()[0] and "Saved" in text, "the save")
    assert load_scenario(scenario).input.q[0, 0, 0, 0] == 128

    tmux("send-keys", "-t", "qdebug", "C-z")
    wait_for_screen(
        tmux,
        lambda text: first_input_cell(text) == "200" and "modified" in text.splitlines()[0] and "Undid input.q[0][0][0][0]" in text,
        "the undo",
    )

    # enter, the digits and enter again in one burst on the weight grid.
    tmux("send-keys", "-t", "qdebug", "Tab", "Enter", "-", "5", "Enter")
    wait_for_screen(tmux, lambda text: "weight" in text and first_weight_cell(text) == "-5", "the weight cell to read -5")

    tmux("send-keys", "-t", "qdebug", "C-q")
    wait_for_screen(tmux, lambda text: "Unsaved changes" in text, "the unsaved-changes prompt")
    tmux("send-keys", "-t", "qdebug", "Escape")
    wait_for_screen(tmux, lambda text: "Unsaved changes" not in text, "the prompt to close")
    tmux("send-keys", "-t", "qdebug", "C-q")
    wait_for_screen(tmux, lambda text: "Unsaved changes" in text, "the prompt again")
    tmux("send-keys", "-t", "qdebug", "s")
    screen = wait_for_screen(tmux, lambda text: "qdebug exited with status" in text, "qdebug to exit")
    assert "qdebug exited with status 0" in screen
    saved = load_scenario(scenario)
    assert saved.input.q[0, 0, 0, 0] == 200
    assert saved.weight.q[0, 0, 0, 0] == -5
