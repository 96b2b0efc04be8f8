"""The output grid: a tensor grid whose ``enter`` requests the drill-down of the selected cell."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message

from qdebug_tui.widgets.ordered_input import run_own_binding
from qdebug_tui.widgets.tensor_grid import TensorGrid


class OutputGrid(TensorGrid):
    """A :class:`TensorGrid` that posts :class:`CellSelected` on ``enter``.

    The input and weight grids use ``enter`` to edit a value; here it opens the cell's trace.
    """

    BINDINGS = [
        Binding(
            "enter", "select_cell", "Trace cell", id="output-grid.trace-cell",
            tooltip="Open the drill-down screen: the selected output cell's accumulator math, step by step",
        ),
    ]

    class CellSelected(Message):
        """Posted when ``enter`` is pressed on a cell of the output grid."""

        def __init__(self, grid: OutputGrid, row: int, column: int) -> None:
            super().__init__()
            self.grid = grid
            self.row = row
            self.column = column

        @property
        def control(self) -> OutputGrid:
            return self.grid

    async def on_key(self, event: events.Key) -> None:
        # The cursor moves before a following enter arrives, so enter traces the cell it lands on.
        await run_own_binding(self, event)

    def action_select_cell(self) -> None:
        self.post_message(self.CellSelected(self, *self.cursor))
