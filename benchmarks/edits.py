"""Edit-to-highlight through the real app, driven by Textual's Pilot.

Each edit types a qparam value into its field, waits until the field is drawn and the app is
idle, as between a user's last keystroke and enter, and presses enter. The time runs from
enter to the end of the first frame whose output grid shows the results of the new value,
with its difference marks. Pilot's headless driver builds every frame but writes nothing,
so the clock also turns each frame into the escape sequences a terminal would receive. The
write to the terminal itself is not included.

Every edit changes the output integers, so that the result always needs a new frame: an
edit that left the screen as it was would wait for an unrelated redraw, such as the blink
of the field's cursor.
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
# The pause between typing the value and pressing enter. It is shorter than the debounce, so
# enter starts the recompute, and longer than two frames at Textual's 60 fps cap, so the frame
# that draws the typed text does not delay the next one.
TYPING_PAUSE_SECONDS = 0.05
# How often the clock checks for results that need no new frame.
POLL_SECONDS = 0.001


@dataclass(frozen=True)
class EditKind:
    """A qparam field, the value typed into it for each edit, and how to read the value back.

    ``text(index, first)`` is the text of edit ``index``, given the scenario the app opened with.
    """

    field_id: str
    text: Callable[[int, Scenario], str]
    value_in: Callable[[Scenario], float]


EDIT_KINDS = {
    # Output qparams change neither the float layer's output nor the exact accumulators. The
    # scale alternates between 1.5 times and two thirds of the file's, so every edit moves the
    # output integers.
    "output-scale": EditKind(
        "output-scale",
        lambda i, first: f"{first.output.scale * (1.5 if i % 2 == 0 else 1 / 1.5):.6g}",
        lambda s: s.output.scale,
    ),
    # An input zero point changes the reference, the float path and the kernel's input. Each
    # edit uses a new value, so no cached accumulators are reused.
    "input-zero-point": EditKind(
        "input-zero-point",
        lambda i, first: str((first.input.qparams.zero_points[0] + 1 + i) % 256),
        lambda s: s.input.qparams.zero_points[0],
    ),
}


class FrameClock:
    """Times the first frame after a condition on the app holds.

    When the condition holds and the screen has nothing left to redraw, because the new
    results look like the old ones, the time is taken then: no frame is needed to show them.
    """

    def __init__(self, app: App) -> None:
        self._app = app
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
                self._finish()

        app._display = timed_display

    def arm(self, condition: Callable[[], bool]) -> None:
        self._done.clear()
        self._condition = condition

    def _finish(self) -> None:
        self.time = time.perf_counter()
        self._condition = None
        self._done.set()

    def _nothing_to_draw(self) -> bool:
        # Textual 8.2's Screen keeps these flags until its next frame; they are private.
        screen = self._app.screen
        pending = (
            screen._dirty_widgets,
            screen._layout_required,
            screen._repaint_required,
            screen._scroll_required,
            screen._recompose_required,
        )
        return not any(pending)

    async def wait(self) -> float:
        deadline = time.monotonic() + EDIT_TIMEOUT_SECONDS
        while not self._done.is_set():
            if self._condition is not None and self._condition() and self._nothing_to_draw():
                self._finish()
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no frame showed the edit within {EDIT_TIMEOUT_SECONDS} s")
            await asyncio.sleep(POLL_SECONDS)
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
        first = screen.scenario
        field = app.query_one(f"#{kind.field_id}", Input)
        field.focus()
        await pilot.pause()
        for index in range(warmup + edits):
            text = kind.text(index, first)
            expected = float(text)

            def shown() -> bool:
                results = screen.results
                return results is not None and results.evaluation is not None and kind.value_in(results.scenario) == expected

            field.value = text
            await pilot.pause()
            await asyncio.sleep(TYPING_PAUSE_SECONDS)
            clock.arm(shown)
            started = time.perf_counter()
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
