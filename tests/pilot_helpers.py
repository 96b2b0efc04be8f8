"""Helpers for Pilot tests: wait on conditions, read grid text."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from qdebug_tui.output_view import Results
from qdebug_tui.widgets.tensor_grid import TensorGrid

# Upper bound on polling rounds. Each round yields to the app for up to 50 ms, so the bound
# only matters when a condition never becomes true.
MAX_ROUNDS = 1200


async def wait_until(pilot: Pilot, condition: Callable[[], bool], description: str) -> None:
    """Let the app run until ``condition`` holds; fail naming ``description`` after MAX_ROUNDS rounds."""
    for _ in range(MAX_ROUNDS):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {description}")


async def wait_for_evaluation(pilot: Pilot) -> None:
    """Wait until torch has loaded and the latest recompute has been drawn."""
    screen = pilot.app.screen

    def evaluated() -> bool:
        return screen.backend is not None and screen.results is not None and screen.results.evaluation is not None

    await wait_until(pilot, evaluated, "the first evaluation")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for_recompute(pilot: Pilot, condition: Callable[[Results], bool], description: str) -> None:
    """Wait until the evaluated results on screen satisfy ``condition``, then for the workers.

    Typing "0.125" passes through "0.1" and "0.12", and a slow machine may compute those
    first, so the condition names the scenario the test waits for.
    """
    screen = pilot.app.screen

    def done() -> bool:
        results = screen.results
        return results is not None and results.evaluation is not None and condition(results)

    await wait_until(pilot, done, description)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def grid_lines(grid: TensorGrid) -> list[str]:
    """Return the text of every line the grid draws now."""
    return [grid.render_line(y).text for y in range(grid.scrollable_content_region.height)]


def cell_text(grid: TensorGrid, row: int, column: int) -> str:
    """Return one cell as drawn: saturation mark, value and difference mark."""
    start = grid.gutter_width + column * grid.cell_width
    line = grid.render_line(row - int(grid.scroll_offset.y) + 1).text
    return line[start - int(grid.scroll_offset.x) : start - int(grid.scroll_offset.x) + grid.cell_width]


async def open_drill_down(pilot: Pilot) -> None:
    """Press enter on the output grid and wait until the drill-down shows its final trace."""
    pilot.app.query_one("#output-grid").focus()
    await pilot.press("enter")
    await wait_for_drill_down(pilot)


async def wait_for_drill_down(pilot: Pilot) -> None:
    """Wait until the drill-down shows the trace of its cell with the real kernel's value from its own run."""
    from qdebug_tui.screens.drilldown import DrillDownScreen

    def settled() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, DrillDownScreen) or screen.trace is None or not screen.final:
            return False
        return (screen.trace.index, screen.trace.isa) == (screen.cell, screen.isa)

    await wait_until(pilot, settled, "the drill-down's trace")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
