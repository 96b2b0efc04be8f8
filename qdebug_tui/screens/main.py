"""The main screen: input, weight and output grids, the qparams bar and the summary."""

from __future__ import annotations

import logging
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.cell_paths import paths_from_evaluation
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.editing import FIELDS_BY_ID, apply_engine, apply_qparam
from qdebug_tui.emulators import EmulationError, check_supported
from qdebug_tui.grid_data import GridSlice
from qdebug_tui.io.errors import Problem
from qdebug_tui.output_view import OutputView, Results, output_slice
from qdebug_tui.recompute import RecomputeCache, compute_reference, compute_results
from qdebug_tui.screens.drilldown import DrillDownScreen
from qdebug_tui.screens.main_edits import ScenarioEdits
from qdebug_tui.screens.palette import MainScreenCommands
from qdebug_tui.core.slicing import SliceChoice
from qdebug_tui.slicing import (
    input_highlight,
    input_matrix,
    input_subtitle,
    locate_output,
    next_mismatch,
    output_index,
    output_subtitle,
    shape_text,
    shows_in_channels,
    step_depth,
    step_in_channel,
    step_output_slice,
    weight_highlight,
    weight_matrix,
    weight_qparam_channel,
    weight_subtitle,
)
from qdebug_tui.widgets.cell_edit_bar import CellEditBar
from qdebug_tui.widgets.editable_grid import EditableTensorGrid
from qdebug_tui.widgets.output_grid import OutputGrid
from qdebug_tui.widgets.pane_widths import share_widths
from qdebug_tui.widgets.qparams_bar import QParamsBar
from qdebug_tui.widgets.summary import Summary
from qdebug_tui.widgets.tensor_grid import TensorGrid
from qdebug_tui.widgets.text_update import update_text

# Seconds after the last keystroke in a field before both paths are recomputed.
DEBOUNCE_SECONDS = 0.15

# Columns a pane adds around its grid: two borders and a vertical scrollbar.
PANE_FRAME_WIDTH = 3
# Narrowest pane a grid gets; its title wraps onto more lines when it is longer.
PANE_MIN_WIDTH = 16

logger = logging.getLogger(__name__)


class MainScreen(ScenarioEdits, Screen):
    """Shows one scenario and recomputes it after every valid edit; edits can be undone."""

    COMMANDS = Screen.COMMANDS | {MainScreenCommands}

    BINDINGS = [
        # Help first: at 80 columns the footer has room for only the first few keys.
        Binding("question_mark", "help", "Help", id="main.help", tooltip="List every key"),
        Binding("n", "mismatch(1)", "Next Δ", id="main.next-mismatch", tooltip="Move to the next cell where the two paths differ"),
        Binding("N", "mismatch(-1)", "Prev Δ", show=False, id="main.previous-mismatch", tooltip="Move to the previous cell where the two paths differ"),
        Binding("v", "cycle_view", "View", id="main.cycle-view", tooltip="Cycle the output grid: quantized q, float q, Δ in LSB, float value"),
        Binding("t", "toggle_keep_real", "Ints/reals", id="main.toggle-keep-real", tooltip="Switch what input and weight edits keep: the integers or the real values"),
        Binding("left_square_bracket", "in_channel(-1)", "Prev channel", show=False, id="main.previous-channel", tooltip="Show the previous input channel"),
        Binding("right_square_bracket", "in_channel(1)", "Channel", key_display="[ ]", id="main.next-channel", tooltip="Show the next input channel"),
        Binding("left_curly_bracket", "output_slice(-1)", "Prev out slice", show=False, id="main.previous-output-slice", tooltip="Show the previous output channel, then batch"),
        Binding("right_curly_bracket", "output_slice(1)", "Out ch", key_display="{ }", id="main.next-output-slice", tooltip="Show the next output channel, then batch"),
        Binding("left_parenthesis", "depth(-1)", "Prev depth", show=False, id="main.previous-depth", tooltip="Show the previous output depth of a 3-D conv"),
        Binding("right_parenthesis", "depth(1)", "Next depth", show=False, id="main.next-depth", tooltip="Show the next output depth of a 3-D conv"),
        Binding("ctrl+z", "undo", "Undo", id="main.undo", tooltip="Undo the last edit: a qparam, a value, the engine or the edit mode"),
        Binding("ctrl+y", "redo", "Redo", show=False, id="main.redo", tooltip="Redo the last edit undone"),
        # Priority, so that focus moves before the keys after it are routed: over SSH a
        # tab and the digits typed after it often arrive in one read.
        # NOTE: a priority tab can also overtake keys still queued in the field it leaves.
        # In one burst, "tab ctrl+a ctrl+k 0 tab" has been seen to lose the 0 and the second tab.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="main.focus-next", tooltip="Move the focus to the next grid or field"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True, id="main.focus-previous", tooltip="Move the focus to the previous grid or field"),
    ]

    view: reactive[OutputView] = reactive(OutputView.QUANTIZED, init=False)
    """The output grid's view: quantized q, float q, difference in LSB or float value."""

    keep_real: reactive[bool] = reactive(False, init=False)
    """True when input and weight qparam edits keep the real values and re-quantize them."""

    position: reactive[SliceChoice] = reactive(SliceChoice, init=False)
    """The slice on screen: batch item, output channel, input channel in its group, depth."""

    class ReferenceComputed(Message):
        """The exact reference for the scenario of one recompute request."""

        def __init__(self, request: int, results: Results) -> None:
            super().__init__()
            self.request = request
            self.results = results

    class EvaluationComputed(Message):
        """Both paths, the reference and the emulator's marks for one recompute request."""

        def __init__(self, request: int, results: Results, seconds: float) -> None:
            super().__init__()
            self.request = request
            self.results = results
            self.seconds = seconds

    class BackendLoaded(Message):
        """torch has been imported and its quantized backend is ready."""

        def __init__(self, backend: QuantizedBackend) -> None:
            super().__init__()
            self.backend = backend

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario
        self._committed = scenario
        self.results: Results | None = None
        self.backend: QuantizedBackend | None = None
        self.backend_error: str | None = None
        self._request = 0
        self._debounce: Timer | None = None
        self._seconds: float | None = None
        self._cache = RecomputeCache()
        self._highlight_key: tuple | None = None
        self._backend_requested = False
        self._init_edits(scenario)

    # Layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="title-bar"):
            yield Static(self.scenario.name, id="scenario-name")
            yield Static("", id="file-status", markup=False)
        with Horizontal(id="grids"):
            for name in ("input", "weight", "output"):
                with Vertical(id=f"{name}-pane", classes="pane") as pane:
                    pane.border_title = name
                    yield Static("", id=f"{name}-title", classes="pane-title", markup=False)
                    yield OutputGrid(id="output-grid") if name == "output" else EditableTensorGrid(id=f"{name}-grid")
                    if name == "output":
                        yield Static("", id="kernel-error", markup=False)
        yield CellEditBar(id="cell-edit")
        yield QParamsBar(self.scenario, id="qparams")
        yield Summary("", id="summary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._draw_scenario("loading torch…")
        self.start_recompute()

    def _draw_scenario(self, summary_text: str) -> None:
        """Fill the freshly composed widgets from the scenario; the summary shows ``summary_text``."""
        self._highlight_key = None
        self.query_one("#kernel-error").display = False
        self.query_one("#qparam-problems").display = False
        self.query_one(QParamsBar).show_values(self.scenario, weight_qparam_channel(self.scenario, self.position))
        self._show_inputs()
        self._show_output()
        self._show_file_status()
        self.query_one("#summary", Summary).show_loading(self.scenario.engine, summary_text)
        self.query_one("#output-grid", TensorGrid).focus()

    # Workers -------------------------------------------------------------------------------

    def _load_backend_after_paint(self) -> None:
        """Start importing torch after the next frame, once.

        The import holds the GIL for most of its second or more. Started before the exact
        reference is on screen, it would delay the first paint by about as much.
        """
        if not self._backend_requested:
            self._backend_requested = True
            self.call_after_refresh(self.load_backend)

    @work(thread=True, exclusive=True, group="torch-import", exit_on_error=False)
    def load_backend(self) -> None:
        """Import torch (seconds on a slow CPU) off the UI thread."""
        backend = self.app.backend_loader()
        self.post_message(self.BackendLoaded(backend))

    def _recompute_after_pause(self) -> None:
        """Recompute once typing pauses; the pause also ends the undo step, as leaving the field does."""
        self.history.seal()
        self.start_recompute()

    def start_recompute(self) -> None:
        self._committed = self.scenario
        self._request += 1
        self.recompute(self.scenario, self._request, self.backend)

    # A fixed description: Textual's default one is built from repr() of the arguments, and
    # the repr of a scenario formats its arrays, milliseconds for a large layer.
    @work(thread=True, exclusive=True, group="recompute", exit_on_error=False, description="recompute")
    def recompute(self, scenario: Scenario, request: int, backend: QuantizedBackend | None) -> None:
        """Compute the results of one scenario; a newer request cancels this one."""
        worker = get_current_worker()
        if backend is None:
            results = compute_reference(scenario, self._cache)
            if not worker.is_cancelled:
                self.post_message(self.ReferenceComputed(request, results))
            return
        fixed = self.app.fixed_facts
        results, seconds = compute_results(scenario, backend, self._cache, None if fixed is None else fixed.cpu)
        if not worker.is_cancelled:
            self.post_message(self.EvaluationComputed(request, results, seconds))

    def on_main_screen_backend_loaded(self, message: BackendLoaded) -> None:
        self.backend = message.backend
        logger.info("torch backend loaded: %s %s", message.backend.name, message.backend.version())
        self.start_recompute()

    def on_main_screen_reference_computed(self, message: ReferenceComputed) -> None:
        self._load_backend_after_paint()
        if message.request != self._request:
            return
        self.results = message.results
        self._show_output()

    def on_main_screen_evaluation_computed(self, message: EvaluationComputed) -> None:
        if message.request != self._request:
            return
        self.results = message.results
        self._seconds = message.seconds
        self._show_output()
        self._show_summary()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        logger.error("worker %s failed", event.worker.name, exc_info=error)
        if event.worker.group == "torch-import":
            self.backend_error = f"torch could not be loaded: {error}; the exact reference is shown"
            self.query_one("#summary", Summary).show_loading(self.scenario.engine, self.backend_error)
        else:
            self._show_kernel_error(f"recompute failed: {type(error).__name__}: {error}")
            self._load_backend_after_paint()

    # Edits ---------------------------------------------------------------------------------

    @on(QParamsBar.Edited)
    def edit_qparam(self, message: QParamsBar.Edited) -> None:
        edited = apply_qparam(
            self.scenario,
            message.field,
            message.text,
            channel=weight_qparam_channel(self.scenario, self.position),
            keep_real=self.keep_real,
        )
        bar = self.query_one(QParamsBar)
        group = message.field.path(self.scenario, weight_qparam_channel(self.scenario, self.position))
        if isinstance(edited, Problem):
            bar.set_problem(message.field, edited)
            self._reject_pending_edits(group)
            return
        bar.set_problem(message.field, None)
        self._accept(edited, group, group)

    @on(Input.Submitted)
    def submit_qparam(self, event: Input.Submitted) -> None:
        """Recompute at once when enter ends a qparam value, instead of after the debounce.

        Like leaving the field, enter also ends its undo step.
        """
        if event.input.id not in FIELDS_BY_ID:
            return
        self._commit_other_group(None)
        self.history.seal()

    @on(QParamsBar.EngineChanged)
    def edit_engine(self, message: QParamsBar.EngineChanged) -> None:
        if message.engine == self.scenario.engine:
            return
        edited = apply_engine(self.scenario, message.engine)
        if not isinstance(edited, Problem):
            self._accept(edited, "engine")

    def _reject_pending_edits(self, group: str) -> None:
        """Go back to the scenario of the last recompute, so the screen matches the scenario in force.

        Typing "300" passes through the valid "3" and "30"; those must not be computed once
        the value turns out invalid. Only pending keystrokes of the same field (``group``)
        are dropped, because an edit of another field starts its recompute first.
        """
        if self.scenario is self._committed or group != self._pending_group:
            return
        if self._debounce is not None:
            self._debounce.stop()
        self.scenario = self._committed
        self._record(group, group)
        self._show_inputs()

    def _accept(self, scenario: Scenario, label: str, group: str | None = None) -> None:
        """Put a valid edit in force, record it for undo, and recompute after the debounce.

        ``label`` names the edit in undo messages. Edits with the same ``group`` (keystrokes
        in one field) form one undo step until enter, leaving the field, or a pause that recomputes.
        """
        self._commit_other_group(group)
        self.scenario = scenario
        self._record(label, group)
        self._show_inputs()
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._recompute_after_pause)

    # Drawing -------------------------------------------------------------------------------

    def _show_inputs(self) -> None:
        scenario, position = self.scenario, self.position
        tensors = (
            ("input", scenario.input, input_matrix(scenario, scenario.input.q, position), input_subtitle(scenario, position)),
            ("weight", scenario.weight, weight_matrix(scenario, scenario.weight.q, position), weight_subtitle(scenario, position)),
        )
        for name, tensor, values, subtitle in tensors:
            per_channel = " per-channel" if tensor.qparams.per_channel else ""
            title = f"{shape_text(tensor.shape)} {tensor.dtype.name}{per_channel} · {subtitle}"
            update_text(self.query_one(f"#{name}-title", Static), title)
            self.query_one(f"#{name}-grid", TensorGrid).show(GridSlice(values, values.shape, show_marks=False))
        self._update_highlights()
        self._fit_panes()

    def on_resize(self) -> None:
        self._fit_panes()

    def _fit_panes(self) -> None:
        """Size the input and weight panes to their grids, sharing the width when they do not fit."""
        names = ("input", "weight", "output")
        desired = [
            max(self.query_one(f"#{name}-grid", TensorGrid).virtual_size.width + PANE_FRAME_WIDTH, PANE_MIN_WIDTH)
            for name in names
        ]
        widths = share_widths(desired, self.size.width)
        for name, width in zip(names[:2], widths[:2]):
            self.query_one(f"#{name}-pane").styles.width = width

    def _show_output(self) -> None:
        grid_slice, label = output_slice(self.results, self.scenario, self.view, self.position)
        out = self.scenario.output
        subtitle = output_subtitle(self.scenario, self.position)
        title = f"{shape_text(self.scenario.output_shape)} {out.dtype.name} · {subtitle}\n{label} (v: next view)"
        update_text(self.query_one("#output-title", Static), title)
        self.query_one("#output-grid", TensorGrid).show(grid_slice)
        self._fit_panes()
        error = None if self.results is None else self.results.kernel_error
        if error is None:
            self.query_one("#kernel-error").display = False
        else:
            self._show_kernel_error(f"quantized path failed: {error}")

    def _show_kernel_error(self, text: str) -> None:
        widget = self.query_one("#kernel-error", Static)
        update_text(widget, text)
        widget.display = True

    def _show_summary(self) -> None:
        evaluation = None if self.results is None else self.results.evaluation
        if evaluation is None:
            return
        fixed = self.app.fixed_facts
        facts = evaluation.facts if fixed is None else replace(fixed, engine=evaluation.facts.engine)
        seconds = self._seconds if fixed is None else None
        self.query_one("#summary", Summary).show_evaluation(evaluation, facts, seconds)

    def _update_highlights(self) -> None:
        row, column = self.query_one("#output-grid", TensorGrid).cursor
        scenario = self.scenario
        # The masks walk the whole receptive field, which is slow for a large K, and a qparam
        # or value edit leaves them as they were.
        key = (scenario.layer, scenario.input.shape, scenario.weight.shape, self.position, row, column)
        if key == self._highlight_key:
            return
        self._highlight_key = key
        self.query_one("#input-grid", TensorGrid).set_highlight(input_highlight(scenario, self.position, row, column))
        self.query_one("#weight-grid", TensorGrid).set_highlight(weight_highlight(scenario, self.position, row, column))

    @on(TensorGrid.CursorMoved, "#output-grid")
    def output_cursor_moved(self, message: TensorGrid.CursorMoved) -> None:
        """Follow the cell's channel where one grid shows several (conv1d, linear), then highlight."""
        index = output_index(self.scenario, self.position, message.row, message.column)
        located, _, _ = locate_output(self.scenario, index, self.position)
        if located != self.position:
            self.position = located
        self._update_highlights()

    def watch_view(self) -> None:
        self._show_output()

    def watch_position(self, old: SliceChoice, new: SliceChoice) -> None:
        self._show_inputs()
        self._show_output()
        if old.out_channel != new.out_channel and self.scenario.weight.qparams.per_channel:
            channel = weight_qparam_channel(self.scenario, new)
            self.query_one(QParamsBar).show_values(self.scenario, channel, only_weight=True)

    def watch_keep_real(self, keep_real: bool) -> None:
        self.query_one(QParamsBar).show_mode(keep_real)

    # Actions -------------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        """Show the next output view."""
        self.view = self.view.following()

    def action_toggle_keep_real(self) -> None:
        """Switch between keeping integers and keeping real values on input and weight edits."""
        self.keep_real = not self.keep_real
        self._record_mode_change()

    def action_in_channel(self, step: int) -> None:
        """Show the previous or next input channel."""
        if not shows_in_channels(self.scenario):
            self.notify(f"the {self.scenario.layer.kind} input grid already shows every input channel", severity="warning")
            return
        self.position = step_in_channel(self.scenario, self.position, step)

    def action_depth(self, step: int) -> None:
        """Show the previous or next output depth of a 3-D conv."""
        if not (self.scenario.layer.is_conv and self.scenario.layer.spatial_dims == 3):
            self.notify(f"a {self.scenario.layer.kind} layer has no depth to step through", severity="warning")
            return
        self.position = step_depth(self.scenario, self.position, step)

    def action_output_slice(self, step: int) -> None:
        """Show the previous or next output channel, then batch."""
        self.position = step_output_slice(self.scenario, self.position, step)

    def action_mismatch(self, step: int) -> None:
        """Move the output cursor to the next or previous cell where the two paths differ."""
        evaluation = None if self.results is None else self.results.evaluation
        if evaluation is None:
            self.notify("the quantized path has not run yet: torch is loading", severity="warning")
            return
        grid = self.query_one("#output-grid", TensorGrid)
        current = output_index(self.scenario, self.position, *grid.cursor)
        target = next_mismatch(evaluation.comparison.diff, current, forward=step > 0)
        if target is None:
            self.notify("no cell differs: the two paths agree everywhere")
            return
        position, row, column = locate_output(self.scenario, target, self.position)
        self.position = position
        grid.move_to(row, column)
        grid.focus()

    def action_help(self) -> None:
        """Open the list of every key."""
        self.app.show_help()

    def action_focus(self, selector: str) -> None:
        self.query_one(selector).focus()

    @on(OutputGrid.CellSelected)
    def open_drill_down(self, message: OutputGrid.CellSelected) -> None:
        """Open the drill-down of the output cell under the cursor."""
        self.action_drill_down()

    def action_drill_down(self) -> None:
        """Open the drill-down of the selected output cell, for the results on screen."""
        results = self.results
        scenario = self.scenario if results is None else results.scenario
        try:
            check_supported(scenario)
        except EmulationError as error:
            self.notify(f"no drill-down for this layer: {error}", severity="warning", timeout=10)
            return
        row, column = self.query_one("#output-grid", TensorGrid).cursor
        evaluation = None if results is None else results.evaluation
        main_paths = None
        if evaluation is not None and self.backend is not None:
            main_paths = paths_from_evaluation(evaluation, f"{self.backend.name} in qdebug's process")
        self.app.push_screen(DrillDownScreen(scenario, self.position, row, column, main_paths))
