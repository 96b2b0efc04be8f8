"""Edit-to-highlight through the real app, driven by Textual's Pilot.

Each edit sets a qparam field's text and presses enter, as a user does after typing a value.
The time runs from setting the text to the end of the first frame whose output grid shows the
results of the new value, with its difference marks. Pilot's headless driver builds every
frame but writes nothing, so the clock also turns each frame into the escape sequences a
terminal would receive. The write to the terminal itself is not included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual._compositor import CompositorUpdate
from textual.app import App
from textual.widgets import Input

from benchmarks.measure import Sample
from benchmarks.startup import TERMINAL_SIZE
from qdebug_tui.app import QDebugApp
from qdebug_tui.core.scenario import Scenario

# Upper bound on one edit; only reached when the app never shows the result.
EDIT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class EditKind:
    """A qparam field, the values typed into it in turn, and how to read the value back."""

    field_id: str
    texts: Callable[[int], str]
    value_in: Callable[[Scenario], float]


EDIT_KINDS = {
    # Output qparams change neither the float layer's output nor the exact accumulators.
    "output-scale": EditKind("output-scale", lambda i: f"{0.5 + 0.001 * (i + 1):.3f}", lambda s: s.output.scale),
    # An input zero point changes the reference, the float path and the kernel's input.
    "input-zero-point": EditKind("input-zero-point", lambda i: str(11 + i % 40), lambda s: s.input.qparams.zero_points[0]),
}


class FrameClock:
    """Times the first frame after a condition on the app holds."""

    def __init__(self, app: App) -> None:
        self._condition: Callable[[], bool] | None = None
        self._done = asyncio.Event()
        self.time = 0.0
        display = app._display

        def timed_display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is None or self._condition is None:
                return
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
            if self._condition():
                self.time = time.perf_counter()
                self._condition = None
                self._done.set()

        app._display = timed_display

    def arm(self, condition: Callable[[], bool]) -> None:
        self._done.clear()
        self._condition = condition

    async def wait(self) -> float:
        await asyncio.wait_for(self._done.wait(), EDIT_TIMEOUT_SECONDS)
        return self.time


async def _time_edits(path: Path, kind: EditKind, edits: int, warmup: int) -> dict:
    app = QDebugApp(path)
    clock = FrameClock(app)
    totals, computes = [], []
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = app.screen
        while screen.results is None or screen.results.evaluation is None:
            await pilot.pause(0.02)
        await app.workers.wait_for_complete()
        field = app.query_one(f"#{kind.field_id}", Input)
        field.focus()
        await pilot.pause()
        for index in range(warmup + edits):
            text = kind.texts(index)
            expected = float(text)

            def shown() -> bool:
                results = screen.results
                return results is not None and results.evaluation is not None and kind.value_in(results.scenario) == expected

            clock.arm(shown)
            started = time.perf_counter()
            field.value = text
            await pilot.press("enter")
            finished = await clock.wait()
            if index >= warmup:
                totals.append((finished - started) * 1000)
                computes.append(screen._seconds * 1000)
            await app.workers.wait_for_complete()
            await pilot.pause()
    return {"edit_to_highlight": Sample.of(totals), "recompute": Sample.of(computes)}


def edit_latency(path: Path, kind: str, edits: int, warmup: int = 2) -> dict:
    """Run the app on ``path`` and time ``edits`` edits of one kind after ``warmup`` untimed ones."""
    return asyncio.run(_time_edits(path, EDIT_KINDS[kind], edits, warmup))
