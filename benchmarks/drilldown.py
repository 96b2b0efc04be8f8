"""Drill-down open: through the real app, and its two steps in process.

``open`` runs the app under Textual's Pilot with the layer loaded and evaluated, puts the
output grid's cursor on the middle cell and presses enter. The time runs from the key press
to the end of the first frame that shows the drill-down screen with that cell's trace, as
:class:`benchmarks.edits.FrameClock` times an edit. The first opening also starts the
drill-down's worker process for the real kernel, which imports torch on the other core; it
is reported on its own as ``first_open``, and the median is taken over the later openings.

``trace`` and ``render`` time ``trace_cell`` and the Rich rendering that ``qdebug explain``
prints, in process and per instruction-set form, to show where the time of an opening goes.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

from rich.console import Console

from benchmarks.edits import EDIT_TIMEOUT_SECONDS, FrameClock
from benchmarks.measure import Sample, time_calls
from benchmarks.startup import TERMINAL_SIZE
from qdebug_tui.app import QDebugApp
from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.evaluation import evaluate
from qdebug_tui.screens.drilldown import DrillDownScreen
from qdebug_tui.trace import trace_cell
from qdebug_tui.trace.rich_view import render_trace
from qdebug_tui.widgets.tensor_grid import TensorGrid

CONSOLE_WIDTH = 120
POLL_SECONDS = 0.005


def middle_cell(scenario: Scenario) -> tuple[int, ...]:
    """Return the output cell in the middle of every axis, away from any padding."""
    return tuple(size // 2 for size in scenario.output_shape)


def trace_timings(scenario: Scenario, backend: QuantizedBackend, isa: str, repeats: int) -> dict[str, Sample]:
    """Time the trace of the middle cell and its Rich rendering for ``isa``, in process.

    The float path's and the real kernel's values for the cell are computed once beforehand,
    as the app has them from its last evaluation.
    """
    cell = middle_cell(scenario)
    evaluation = evaluate(scenario, backend)
    values = {
        "float_q": int(evaluation.float_path.q[cell]),
        "float_real": float(evaluation.float_path.real[cell]),
        "quantized_q": None if evaluation.quantized.q is None else int(evaluation.quantized.q[cell]),
        "quantized_source": "the real kernel in this process",
    }

    def trace():
        return trace_cell(scenario, cell, isa, **values)

    traced = trace()

    def render() -> None:
        console = Console(file=io.StringIO(), width=CONSOLE_WIDTH, color_system="truecolor", highlight=False)
        console.print(render_trace(traced))

    return {"trace": time_calls(trace, repeats), "render": time_calls(render, repeats)}


def _trace_shown(app: QDebugApp) -> bool:
    screen = app.screen
    return isinstance(screen, DrillDownScreen) and screen.trace is not None and screen.trace.index == screen.cell


async def _wait_for(condition, description: str) -> None:
    """Poll ``condition``; a plain sleep, because Pilot's pause waits on every widget."""
    deadline = time.monotonic() + EDIT_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {EDIT_TIMEOUT_SECONDS} s waiting for {description}")
        await asyncio.sleep(POLL_SECONDS)


async def _time_openings(path: Path, openings: int) -> dict:
    app = QDebugApp(path)
    clock = FrameClock(app)
    timings = []
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        main = app.screen
        await _wait_for(lambda: main.results is not None and main.results.evaluation is not None, "the first evaluation")
        await app.workers.wait_for_complete()
        grid = app.query_one("#output-grid", TensorGrid)
        grid.focus()
        grid.cursor = (grid._slice.rows // 2, grid._slice.columns // 2)
        await pilot.pause()
        for _ in range(openings):
            clock.arm(lambda: _trace_shown(app))
            started = time.perf_counter()
            await pilot.press("enter")
            finished = await clock.wait()
            timings.append((finished - started) * 1000)
            drilldown = app.screen
            # The real kernel's run for the cell arrives from the worker process; let it finish
            # before the next opening, as a user reading the screen would.
            await _wait_for(lambda: drilldown.final, "the drill-down's real-kernel run")
            await pilot.press("escape")
            await _wait_for(lambda: app.screen is main, "the main screen")
            await pilot.pause()
    later = timings[1:] or timings
    return {"first_open": timings[0], "open": Sample.of(later)}


def open_timings(path: Path, openings: int) -> dict:
    """Open the drill-down of the middle output cell ``openings`` times in the app on ``path``."""
    return asyncio.run(_time_openings(path, openings))
