"""First paint and peak memory of the installed ``qdebug``, next to a bare ``import torch``.

First paint is the time from launching ``qdebug`` in a tmux pane to the write that puts
values in both the input and the output grid; the output then shows the exact reference,
which needs no torch. Ready is the time to the summary of the first full evaluation,
which needs torch. Peak RSS is the process's VmHWM once it is ready.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import Sample
from benchmarks.terminal import TmuxTerminal, peak_rss_mb

# The terminal size of every run: wider than the 80×24 minimum, as on most SSH clients.
TERMINAL_SIZE = (120, 40)
QDEBUG = shutil.which("qdebug") or str(Path(sys.executable).with_name("qdebug"))


def import_torch(repeats: int) -> Sample:
    """Time ``python -c "import torch"`` from start to exit, in the Python that runs qdebug."""
    timings = []
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        timings.append((time.monotonic() - started) * 1000)
    return Sample.of(timings)


def startup(scenario: Path | None, repeats: int) -> dict:
    """Launch ``qdebug [scenario]`` ``repeats`` times; return first paint, ready and peak RSS.

    Without ``scenario`` the bundled forum case opens, as after ``pip install``. Every launch
    times the first paint; only the last one waits for the first evaluation, so ready and
    peak RSS come from that launch alone.
    """
    command = QDEBUG if scenario is None else f"{QDEBUG} {scenario}"
    first_paint = []
    with tempfile.TemporaryDirectory() as state:
        environment = {"XDG_STATE_HOME": state, "TERM": "xterm-256color"}
        for launch in range(repeats):
            with TmuxTerminal(*TERMINAL_SIZE, command, environment) as terminal:
                painted, _ = terminal.wait_for(grids_drawn, "the input and output grids with values")
                first_paint.append((painted - terminal.started) * 1000)
                if launch == repeats - 1:
                    evaluated, _ = terminal.wait_for(evaluation_shown, "the summary of the first evaluation")
                    ready = (evaluated - terminal.started) * 1000
                    rss = peak_rss_mb(terminal.pane_pid())
    return {"first_paint": Sample.of(first_paint), "ready_ms": ready, "peak_rss_mb": rss}


def grids_drawn(screen: str) -> bool:
    """Return True when the input and the output grid both show a value in their first row."""
    return _first_row_has_value(screen, 0) and _first_row_has_value(screen, 2)


def evaluation_shown(screen: str) -> bool:
    return "mismatched" in screen or "quantized path failed" in screen


def _first_row_has_value(screen: str, pane: int) -> bool:
    """Return True when grid ``pane`` (0 input, 1 weight, 2 output) shows row 0 with a number."""
    for line in screen.splitlines():
        panes = re.split("[│┃]{2}", line)  # the focused pane has a heavy border
        if len(panes) != 3:
            continue
        tokens = panes[pane].strip("│┃ ").split()
        if len(tokens) > 1 and tokens[0] == "0" and _is_number(tokens[1].strip("^~!")):
            return True
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
