"""The line under the grids that shows a cell edit: the text typed, the range, and the reason it is invalid."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from qdebug_tui.core.dtypes import QDtype
from qdebug_tui.io.errors import Problem

# Shown after the typed text, where the next character goes.
TEXT_CURSOR = "▏"


class CellEditBar(Vertical):
    """Shows the edit of one input or weight cell while the grid collects the keys.

    Hidden while no edit is open. The grid owns the typed text, and this bar only displays
    it. Next to the text are the cell's index, its old value and the dtype's range, and under
    it the reason when the value is invalid.
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="cell-edit-row"):
            yield Label("", id="cell-edit-text", markup=False)
            yield Label("", id="cell-edit-hint", markup=False)
        yield Static("", id="cell-edit-problem", markup=False)

    def on_mount(self) -> None:
        self.display = False

    def show_edit(self, tensor_name: str, index: tuple[int, ...], dtype: QDtype, current: int, text: str, problem: Problem | None) -> None:
        """Show the edit of ``tensor_name[index]`` with ``text`` typed so far, and the problem with it if any."""
        position = ", ".join(str(i) for i in index)
        self.query_one("#cell-edit-text", Label).update(f"{tensor_name}[{position}]: {current} → {text}{TEXT_CURSOR}")
        hint = f"{dtype.name} {dtype.qmin}…{dtype.qmax} · enter applies · esc cancels"
        self.query_one("#cell-edit-hint", Label).update(hint)
        reason = self.query_one("#cell-edit-problem", Static)
        if problem is None:
            reason.display = False
        else:
            reason.update(f"✗ {problem.describe()}; the value stays as it was")
            reason.display = True
        self.set_class(problem is not None, "-invalid")
        self.display = True

    def hide(self) -> None:
        self.display = False
