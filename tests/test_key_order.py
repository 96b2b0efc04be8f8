"""Keys typed into a qparam field in a burst act in the order they were typed.

Over SSH keys often arrive together. Textual's ``Input`` inserts characters at once but runs
backspace only after the key has passed the busy screen, so "backspace, 4" could become
"4, backspace". The burst here is posted straight to the app, as the terminal driver does,
without waiting between keys.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from conftest import SEED
from pilot_helpers import wait_for_evaluation, wait_until
from qdebug_tui.app import QDebugApp

EDIT_KEYS = (("end", None), ("backspace", "\x7f"), ("backspace", "\x7f"), ("backspace", "\x7f"))


async def test_field_keys_keep_order():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        field = app.query_one("#input-zero-point", Input)
        field.focus()
        await pilot.pause()
        for typed in ("49", "57", "12", "80", "49"):
            for key, character in EDIT_KEYS + tuple((digit, digit) for digit in typed):
                app.post_message(events.Key(key, character))
            await wait_until(pilot, lambda: field.value == typed, f"the field to read {typed}")
            await pilot.app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.screen.scenario.input.qparams.zero_points == (49,), "zero point 49 in force")


async def test_grid_cursor_keys_keep_order():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        grid = app.query_one("#input-grid")
        grid.focus()
        await pilot.pause()
        # j moves the cursor down; the digits and enter must edit the cell it lands on.
        for key, character in (("j", "j"), ("7", "7"), ("7", "7"), ("enter", "\r"), ("l", "l"), ("9", "9"), ("enter", "\r")):
            app.post_message(events.Key(key, character))

        def input_q():
            return app.screen.scenario.input.q[0, 0]

        await wait_until(pilot, lambda: input_q()[1, 1] == 9, "9 in the input cell [1, 1]")
        assert input_q()[1, 0] == 77
        assert input_q()[0, 0] == 200
        assert input_q()[0, 1] == 200
