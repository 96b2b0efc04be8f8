"""Undo, redo, value edits and the unsaved-changes marker of the main screen.

:class:`ScenarioEdits` is a mixin of :class:`~qdebug_tui.screens.main.MainScreen`. It uses
the screen's ``scenario``, ``keep_real``, ``position``, ``_committed``, ``_debounce``,
``_accept``, ``_cache``, ``_show_inputs`` and ``start_recompute``. Its message handlers follow
Textual's naming convention, because ``@on`` decorators are collected only from widget classes.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Static

from qdebug_tui.core.scenario import Scenario
from qdebug_tui.core.slicing import SliceChoice
from qdebug_tui.editing import FIELDS_BY_ID
from qdebug_tui.history import EditHistory, EditState
from qdebug_tui.io.errors import Problem
from qdebug_tui.output_view import OutputView
from qdebug_tui.slicing import weight_qparam_channel
from qdebug_tui.value_edits import apply_value, cell_index, element_path
from qdebug_tui.widgets.cell_edit_bar import CellEditBar
from qdebug_tui.widgets.editable_grid import EditableTensorGrid
from qdebug_tui.widgets.qparams_bar import QParamsBar

# Texts on the way to a valid value that are not marked invalid while the user types.
INCOMPLETE_TEXTS = ("", "-", "+")


class ScenarioEdits:
    """The edit history of one scenario, and what has changed since it was read or saved."""

    def _init_edits(self, scenario: Scenario) -> None:
        self.history = EditHistory(EditState(scenario, False))
        self.saved_scenario = scenario
        self._pending_group: str | None = None

    async def replace_scenario(self, scenario: Scenario) -> None:
        """Show another scenario on this screen, with a new history; the loaded backend stays.

        The widgets are composed again, so that no field, mark or cursor of the old
        scenario remains.
        """
        if self._debounce is not None:
            self._debounce.stop()
        self.scenario = scenario
        self.results = None
        self._seconds = None
        self._cache.clear()
        self._init_edits(scenario)
        self.set_reactive(type(self).view, OutputView.QUANTIZED)
        self.set_reactive(type(self).keep_real, False)
        self.set_reactive(type(self).position, SliceChoice())
        await self.recompose()
        if self.backend_error is not None:
            summary_text = self.backend_error
        else:
            summary_text = "loading torch…" if self.backend is None else "computing…"
        self._draw_scenario(summary_text)
        self.start_recompute()

    # Unsaved changes -----------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        """True when the scenario in force is not the one last read or saved."""
        return self.scenario is not self.saved_scenario

    def mark_saved(self, scenario: Scenario) -> None:
        """Record that ``scenario`` is what the file on disk now contains."""
        self.saved_scenario = scenario
        self._show_file_status()

    def _show_file_status(self) -> None:
        name = self.app.scenario_path.name
        # The footer has no room for ctrl+s at 80 columns, so the marker names the key.
        text = f"{name} · modified · ctrl+s saves" if self.modified else name
        status = self.query_one("#file-status", Static)
        if str(status.content) != text:
            status.update(text)
            status.set_class(self.modified, "-modified")

    # Recording -----------------------------------------------------------------------------

    def _record(self, label: str, group: str | None = None) -> None:
        self.history.record(EditState(self.scenario, self.keep_real, label), group)
        self._show_file_status()

    def _commit_other_group(self, group: str | None) -> None:
        """Start the recompute of a pending edit now when the next edit belongs to another field.

        The pending edits are then always keystrokes of one field, so that rejecting a value
        typed there reverts only that field.
        """
        pending = self.scenario is not self._committed
        if pending and (group is None or group != self._pending_group):
            if self._debounce is not None:
                self._debounce.stop()
            self.start_recompute()
        self._pending_group = group

    def _record_mode_change(self) -> None:
        self._commit_other_group(None)
        self._record("edit mode")

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # Leaving a field ends its group: its pending edit is computed now, and typing there
        # again later is a separate undo step.
        self._commit_other_group(None)
        self.history.seal()

    # Undo and redo -------------------------------------------------------------------------

    def action_undo(self) -> None:
        """Take back the last edit: a qparam, a value, the engine or the edit mode.

        Invalid text in a qparam field is the latest change, so it goes first: the fields
        show the values in force again.
        """
        self._cancel_cell_edit()
        problems = self.query_one(QParamsBar).problems
        if problems:
            self._restore(self.history.present)
            self.notify(f"Undid the invalid value of {', '.join(problem.path for problem in problems.values())}")
            return
        step = self.history.undo()
        if step is None:
            self.notify("nothing to undo", severity="warning")
            return
        undone, present = step
        self._restore(present)
        self.notify(f"Undid {undone.label}")

    def action_redo(self) -> None:
        """Apply again the last edit taken back."""
        self._cancel_cell_edit()
        state = self.history.redo()
        if state is None:
            self.notify("nothing to redo", severity="warning")
            return
        self._restore(state)
        self.notify(f"Redid {state.label}")

    def _restore(self, state: EditState) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.scenario = state.scenario
        self._pending_group = None
        bar = self.query_one(QParamsBar)
        for widget_id in bar.problems:
            bar.set_problem(FIELDS_BY_ID[widget_id], None)
        bar.show_values(self.scenario, weight_qparam_channel(self.scenario, self.position))
        self.keep_real = state.keep_real
        self._show_inputs()
        self._show_file_status()
        self.start_recompute()

    # Value edits ---------------------------------------------------------------------------

    def on_editable_tensor_grid_edit_changed(self, message: EditableTensorGrid.EditChanged) -> None:
        problem = None
        if message.text.strip() not in INCOMPLETE_TEXTS:
            problem = self._check_cell_value(message.grid, message.text)
        self._show_cell_edit(message.grid, message.text, problem)

    def on_editable_tensor_grid_edit_submitted(self, message: EditableTensorGrid.EditSubmitted) -> None:
        tensor_name, index = self._edited_cell(message.grid, message.cell)
        edited = apply_value(self.scenario, tensor_name, index, message.text)
        if isinstance(edited, Problem):
            self._show_cell_edit(message.grid, message.text, edited)
            return
        message.grid.end_edit()
        self.query_one(CellEditBar).hide()
        if edited is not self.scenario:
            self._accept(edited, element_path(tensor_name, index))

    def on_editable_tensor_grid_edit_cancelled(self, message: EditableTensorGrid.EditCancelled) -> None:
        self.query_one(CellEditBar).hide()

    def _edited_cell(self, grid: EditableTensorGrid, cell: tuple[int, int] | None = None) -> tuple[str, tuple[int, ...]]:
        """Return the tensor and index of ``cell`` of ``grid``, by default the cell under its cursor."""
        tensor_name = "input" if grid.id == "input-grid" else "weight"
        row, column = grid.cursor if cell is None else cell
        return tensor_name, cell_index(self.scenario, tensor_name, self.position, row, column)

    def _check_cell_value(self, grid: EditableTensorGrid, text: str) -> Problem | None:
        tensor_name, index = self._edited_cell(grid)
        checked = apply_value(self.scenario, tensor_name, index, text)
        return checked if isinstance(checked, Problem) else None

    def _show_cell_edit(self, grid: EditableTensorGrid, text: str, problem: Problem | None) -> None:
        tensor_name, index = self._edited_cell(grid)
        tensor = self.scenario.input if tensor_name == "input" else self.scenario.weight
        self.query_one(CellEditBar).show_edit(tensor_name, index, tensor.dtype, int(tensor.q[index]), text, problem)

    def _cancel_cell_edit(self) -> None:
        for grid in self.query(EditableTensorGrid):
            grid.cancel_edit()
