"""The installed ``qdebug`` in a real terminal (tmux), and stderr kept off the screen."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import SEED

QDEBUG = shutil.which("qdebug") or str(Path(sys.executable).with_name("qdebug"))
# Polling bound for screen changes; torch's first import on a slow CPU takes several seconds.
SCREEN_TIMEOUT_SECONDS = 120


@pytest.fixture
def tmux():
    """Run tmux commands on a private server; the server is killed after the test."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    socket = f"qdebug-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> str:
        completed = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    yield run
    query = ["tmux", "-L", socket, "display-message", "-p", "#{socket_path}"]
    socket_path = subprocess.run(query, capture_output=True, text=True, timeout=30).stdout.strip()
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)
    if socket_path:
        Path(socket_path).unlink(missing_ok=True)


def wait_for_screen(tmux, condition, description: str) -> str:
    """Poll the pane's text until ``condition`` holds; fail with the last screen after the timeout."""
    deadline = time.monotonic() + SCREEN_TIMEOUT_SECONDS
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", "qdebug")
        if condition(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {description}; the screen was:\n{screen}")


def split_panes(line: str) -> list[str]:
    """Split a screen line at the borders between panes; the focused pane's border is heavy (┃)."""
    return re.split("[│┃]{2}", line)


def output_cell_row(screen: str) -> str:
    """Return the output grid's first data row: the text right of the second pane border.

    The header of column indices starts with spaces; a data row starts with its row index.
    """
    for line in screen.splitlines():
        panes = split_panes(line)
        if len(panes) == 3 and panes[2].startswith("0 "):
            return panes[2]
    return ""


@pytest.mark.skipif(not Path(QDEBUG).exists(), reason="the qdebug console script is not installed")
def test_installed_qdebug_in_tmux(tmux, tmp_path):
    state = tmp_path / "state"
    command = f"{QDEBUG}; echo qdebug exited with status $?; sleep 600"
    tmux(
        "new-session", "-d", "-s", "qdebug", "-x", "80", "-y", "24",
        "-e", f"XDG_STATE_HOME={state}", "-e", "TERM=xterm-256color", command,
    )

    screen = wait_for_screen(tmux, lambda text: "mismatched" in text and "200 200" in text, "the grids and summary")
    assert "Forum case" in screen
    assert "output  scale 0.02091" in screen
    assert "Traceback" not in screen

    # Seven tabs reach the output zero point; the digits follow in the same burst, as keys
    # typed ahead over a slow SSH link arrive.
    tmux("send-keys", "-t", "qdebug", *["Tab"] * 7, "1", "2", "8")

    screen = wait_for_screen(tmux, lambda text: "103" in output_cell_row(text), "the output cell to read 103")
    assert "zp 128" in screen
    assert "mismatched" in screen

    # The zero point edit is unsaved, so quitting asks first; discarding quits.
    tmux("send-keys", "-t", "qdebug", "C-q")
    screen = wait_for_screen(tmux, lambda text: "Unsaved changes" in text, "the unsaved-changes prompt")
    assert "seed_conv2d.json has unsaved changes. Save them before quitting?" in screen
    assert "Discard (d)" in screen
    tmux("send-keys", "-t", "qdebug", "d")
    screen = wait_for_screen(tmux, lambda text: "qdebug exited with status" in text, "qdebug to exit")
    assert "qdebug exited with status 0" in screen
    assert (state / "qdebug" / "qdebug.log").is_file()


def test_stderr_goes_to_log(tmp_path):
    script = textwrap.dedent(
        """
        import os, sys, warnings
        from qdebug_tui.terminal import open_log, stderr_to_log
        log, path = open_log()
        with log, stderr_to_log(log) as driver:
            os.write(2, b"C-level noise\\n")
            warnings.warn("python warning noise")
            print(driver.__name__, path)
        os.write(2, b"after restore\\n")
        """
    )
    environment = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "noise" not in completed.stderr
    assert "after restore" in completed.stderr
    log = (tmp_path / "qdebug" / "qdebug.log").read_text()
    assert "C-level noise" in log
    assert "python warning noise" in log
    assert "TerminalDriver" in completed.stdout


def test_invalid_file_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(SEED.read_text().replace('"zero_point": 0}', '"zero_point": 300}'))
    completed = subprocess.run([sys.executable, "-m", "qdebug_tui", str(bad)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "output.zero_point: 300 is invalid" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_missing_file_exits_2(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "qdebug_tui", str(tmp_path / "none.json")], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "does not exist" in completed.stderr


def test_bundled_scenario_is_packaged():
    import importlib.resources

    from qdebug_tui.commands.tui import BUNDLED_SCENARIO

    resource = importlib.resources.files("qdebug_tui.sample_data") / BUNDLED_SCENARIO
    assert resource.is_file()
    assert "Forum case" in resource.read_text(encoding="utf-8")


def verdict_text(screen: str) -> str:
    """Return the verdict box's text with its lines joined, as one paragraph."""
    lines = screen.splitlines()
    start = next(index for index, line in enumerate(lines) if "Verdict:" in line)
    body = []
    for line in lines[start + 1 :]:
        if line.startswith("╰"):
            break
        body.append(line.strip().strip("│").strip())
    return " ".join(body)


@pytest.mark.skipif(not Path(QDEBUG).exists(), reason="the qdebug console script is not installed")
def test_drill_down_in_tmux(tmux, tmp_path):
    state = tmp_path / "state"
    command = f"{QDEBUG}; echo qdebug exited with status $?; sleep 600"
    tmux(
        "new-session", "-d", "-s", "qdebug", "-x", "80", "-y", "24", "-c", str(tmp_path),
        "-e", f"XDG_STATE_HOME={state}", "-e", "TERM=xterm-256color", "-e", "FBGEMM_ENABLE_INSTRUCTIONS=AVX2", command,
    )
    screen = wait_for_screen(tmux, lambda text: "mismatched" in text and "^7!" in output_cell_row(text), "the cell that reads 7")

    tmux("send-keys", "-t", "qdebug", "Enter")
    screen = wait_for_screen(tmux, lambda text: "Verdict: int16-saturation" in text, "the drill-down's verdict")
    assert "Cell [0, 0, 0, 0] · x86 → FBGEMM im2col, AVX2 saturating" in screen
    assert "exact acc -13861 · kernel acc 4003 · kernel q 7 (model 7) · float path q 0" in screen
    verdict = verdict_text(screen)
    assert "200·(-67) + 200·(-97) = -32800 became -32768" in verdict
    assert "200·(-128) + 200·(-125) = -50600 became -32768" in verdict
    assert "Fix: 7-bit activations (reduce_range=True, 0..127), smaller adjacent weights, a CPU with AVX512-VNNI, or engine qnnpack." in verdict
    rows = [line.lstrip("█ ").split() for line in screen.splitlines() if line.rstrip().endswith(" ^")]  # █: the focus bar
    assert [row[0] for row in rows if row[0].isdigit()] == ["4", "5"]
    assert "Traceback" not in screen

    tmux("send-keys", "-t", "qdebug", "Escape")
    screen = wait_for_screen(tmux, lambda text: "^7!" in output_cell_row(text), "the main screen")
    tmux("send-keys", "-t", "qdebug", "C-q")
    screen = wait_for_screen(tmux, lambda text: "qdebug exited with status" in text, "qdebug to exit")
    assert "qdebug exited with status 0" in screen
