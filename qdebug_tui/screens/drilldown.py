"""The drill-down screen: one output cell's accumulator math, step by step.

Sections follow the arithmetic: the terms in the kernel's K order, the kernel's accumulation
with its int16 pairs, the bias, the requantization beside the float path, where the paths
part, and the verdict with the fix. The numbers come from one :class:`CellTrace`, the one
``qdebug explain`` prints. Traces and real-kernel runs happen in thread workers, so a cell
with 50,000 terms or a worker process that is still importing torch never freezes the keys.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from qdebug_tui import drilldown_sections as sections
from qdebug_tui.cell_paths import BothPaths, trace_with_paths
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.core.slicing import SliceChoice
from qdebug_tui.drilldown_tables import TableRows, clipped_rows, pair_rows, term_rows
from qdebug_tui.screens.drilldown_commands import DrillDownCommands
from qdebug_tui.slicing import locate_output, next_mismatch, output_index, output_matrix
from qdebug_tui.trace import CellTrace, trace_cell
from qdebug_tui.trace.text_rows import comparison_rows
from qdebug_tui.trace_export import export_trace
from qdebug_tui.widgets.trace_table import TraceTable

logger = logging.getLogger(__name__)

# Cells with at most this many terms are traced on the UI thread, in about 20 ms or less:
# trace_cell alone took 0.43 s for K = 50,000 on a 2-core AMD EPYC VM, about 9 µs a term.
SYNC_TRACE_MAX_TERMS = 2048


class DrillDownScreen(Screen[None]):
    """Traces the output cell at ``(row, column)`` of the slice ``position`` of ``scenario``.

    ``main_paths`` are this CPU's paths as the main screen computed them, shown until the
    drill-down's own run of the real kernel (``app.path_runner``) arrives.
    """

    COMMANDS = Screen.COMMANDS | {DrillDownCommands}

    BINDINGS = [
        Binding("escape", "back", "Back", id="drill.back", tooltip="Close the drill-down; the main screen's cursor is where it was"),
        Binding("n", "mismatch(1)", "Next Δ", id="drill.next-mismatch", tooltip="Trace the next cell where the two paths differ"),
        Binding("N", "mismatch(-1)", "Prev Δ", show=False, id="drill.previous-mismatch", tooltip="Trace the previous cell where the two paths differ"),
        Binding("i", "switch_isa", "CPU/AVX2", id="drill.switch-isa", tooltip="Switch between this CPU's path and the AVX2 path of a CPU without VNNI: real kernel and emulator"),
        Binding("e", "export", "Export", id="drill.export", tooltip="Write the trace as Markdown and JSON next to the scenario file"),
        Binding("s", "clipped_pair(1)", "Next clip", id="drill.next-clipped", tooltip="Scroll the tables to the next int16 pair that saturated"),
        Binding("S", "clipped_pair(-1)", "Prev clip", show=False, id="drill.previous-clipped", tooltip="Scroll the tables to the previous int16 pair that saturated"),
        Binding("up,k", "move(-1, 0)", "Cell up", show=False, priority=True, id="drill.up", tooltip="Trace the output cell above"),
        Binding("down,j", "move(1, 0)", "Cell down", show=False, priority=True, id="drill.down", tooltip="Trace the output cell below"),
        Binding("left,h", "move(0, -1)", "Cell left", show=False, priority=True, id="drill.left", tooltip="Trace the output cell to the left"),
        Binding("right,l", "move(0, 1)", "Cell right", show=False, priority=True, id="drill.right", tooltip="Trace the output cell to the right"),
        Binding("question_mark", "help", "Help", id="drill.help", tooltip="List every key"),
    ]

    isa: reactive[str] = reactive("native", init=False)
    """The instruction-set form traced: ``native`` (this CPU's path) or ``avx2``."""

    class TraceReady(Message):
        """A cell's trace and its table rows, computed in a thread worker."""

        def __init__(self, cell: tuple[int, ...], isa: str, trace: CellTrace, tables: tuple[TableRows, TableRows], final: bool) -> None:
            super().__init__()
            self.cell = cell
            self.isa = isa
            self.trace = trace
            self.tables = tables
            self.final = final

    class PathsReady(Message):
        """The real kernel's run of the scenario on ``isa`` is in the app's path runner."""

        def __init__(self, isa: str) -> None:
            super().__init__()
            self.isa = isa

    class Exported(Message):
        """The trace was written to both files."""

        def __init__(self, paths: tuple[Path, Path]) -> None:
            super().__init__()
            self.paths = paths

    def __init__(self, scenario: Scenario, position: SliceChoice, row: int, column: int, main_paths: BothPaths | None) -> None:
        super().__init__()
        self.scenario = scenario
        self.position = position
        self.row = row
        self.column = column
        self.main_paths = main_paths
        self.trace: CellTrace | None = None
        self.final = False
        """True once the trace on screen has the real kernel's value from the drill-down's own run."""
        self.open_seconds: float | None = None
        self._opened_at = time.perf_counter()
        self._running_paths: set[str] = set()

    @property
    def cell(self) -> tuple[int, ...]:
        return output_index(self.scenario, self.position, self.row, self.column)

    @property
    def terms_per_cell(self) -> int:
        """The length K of each output cell's reduction: weight elements per output channel."""
        return int(np.prod(self.scenario.weight.shape[1:]))

    # Layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="drill-title", markup=False)
        yield Static("", id="drill-subtitle", markup=False)
        yield Static("", id="drill-totals", markup=False)
        with VerticalScroll(id="drill-body"):
            yield TraceTable(id="terms-table")
            yield Static("Kernel accumulation", classes="drill-heading")
            yield Static("", id="accumulation-text", markup=False)
            yield TraceTable(id="pairs-table")
            yield Static("Bias", classes="drill-heading")
            yield Static("", id="bias-text", markup=False)
            with Horizontal(id="paths-row"):
                with Vertical(classes="path-panel"):
                    yield Static("Requantization", classes="drill-heading")
                    yield Static("", id="requantization-text", markup=False)
                with Vertical(classes="path-panel"):
                    yield Static("Float path", classes="drill-heading")
                    yield Static("", id="float-path-text", markup=False)
            yield Static("Where the paths part", classes="drill-heading")
            yield Static("", id="comparison")
            yield Static("", id="steps-text", markup=False)
            yield Static("", id="notes-text", markup=False)
        yield Static("", id="drill-verdict", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#drill-body").can_focus = True
        self.query_one("#terms-table").focus()
        self._retrace()

    # Tracing -------------------------------------------------------------------------------

    def _model_environment(self) -> dict:
        """Return the CPU and environment of the modelled process; fixed ones for screenshots."""
        fixed = self.app.fixed_facts
        return {} if fixed is None else {"cpu": fixed.cpu, "environ": {}}

    def _paths(self, isa: str) -> BothPaths | None:
        cached_run = self.app.path_runner.cached(self.scenario, isa)
        if cached_run is not None:
            return cached_run
        return self.main_paths if isa == "native" else None

    def _retrace(self) -> None:
        """Trace the current cell on the current path, and run the real kernel there if it has not run.

        A cell of up to :data:`SYNC_TRACE_MAX_TERMS` terms is traced at once, so that the
        screen opens with its numbers. A larger one is traced in a thread worker.
        """
        cell, isa = self.cell, self.isa
        paths = self._paths(isa)
        final = self.app.path_runner.cached(self.scenario, isa) is not None
        self.final = False
        if self.terms_per_cell <= SYNC_TRACE_MAX_TERMS:
            self.workers.cancel_group(self, "drill-trace")
            self._accept_trace(cell, isa, *self._trace(cell, isa, paths), final)
        else:
            self.query_one("#drill-totals", Static).update(f"tracing cell {list(cell)}: {self.terms_per_cell} terms…")
            self.trace_worker(cell, isa, paths, final)
        if not final and isa not in self._running_paths:
            self._running_paths.add(isa)
            self.paths_worker(isa)

    def _trace(self, cell: tuple[int, ...], isa: str, paths: BothPaths | None) -> tuple[CellTrace, tuple[TableRows, TableRows]]:
        model = self._model_environment()
        if paths is None:
            trace = trace_cell(self.scenario, cell, isa, **model)
        else:
            trace = trace_with_paths(paths, cell, **model)
        return trace, (term_rows(trace, self.scenario.input.shape, self.scenario.weight.shape), pair_rows(trace))

    @work(thread=True, exclusive=True, group="drill-trace", exit_on_error=False)
    def trace_worker(self, cell: tuple[int, ...], isa: str, paths: BothPaths | None, final: bool) -> None:
        """Trace one cell off the UI thread: O(K) Python steps, about half a second for K = 50,000."""
        trace, tables = self._trace(cell, isa, paths)
        if not get_current_worker().is_cancelled:
            self.post_message(self.TraceReady(cell, isa, trace, tables, final))

    @work(thread=True, group="drill-paths", exit_on_error=False)
    def paths_worker(self, isa: str) -> None:
        """Run both paths on ``isa``; the first run of a form starts its worker process."""
        self.app.path_runner.paths(self.scenario, isa)
        self.post_message(self.PathsReady(isa))

    def on_drill_down_screen_paths_ready(self, message: PathsReady) -> None:
        self._running_paths.discard(message.isa)
        if message.isa == self.isa:
            self._retrace()

    def on_drill_down_screen_trace_ready(self, message: TraceReady) -> None:
        self._accept_trace(message.cell, message.isa, message.trace, message.tables, message.final)

    def _accept_trace(self, cell: tuple[int, ...], isa: str, trace: CellTrace, tables: tuple[TableRows, TableRows], final: bool) -> None:
        """Show a trace unless the screen has moved to another cell or path, or already shows its final form."""
        if (cell, isa) != (self.cell, self.isa):
            return
        same_cell = self.trace is not None and (self.trace.index, self.trace.isa) == (cell, isa)
        if same_cell and self.final and not final:
            return
        self.trace = trace
        self.final = final
        self._show(trace, *tables, keep_scroll=same_cell)
        if self.open_seconds is None:
            self.open_seconds = time.perf_counter() - self._opened_at

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        logger.error("drill-down worker %s failed", event.worker.name, exc_info=error)
        if event.worker.group == "drill-paths":
            self._running_paths.clear()
        self.notify(f"{_worker_task(event.worker.group)} failed: {type(error).__name__}: {error}", severity="error", timeout=10)

    # Drawing -------------------------------------------------------------------------------

    def _show(self, trace: CellTrace, terms: TableRows, pairs: TableRows, keep_scroll: bool) -> None:
        first, second = sections.title_lines(trace)
        self.query_one("#drill-title", Static).update(first)
        self.query_one("#drill-subtitle", Static).update(f"{second} · {trace.scenario}")
        self.query_one("#drill-totals", Static).update(sections.totals_line(trace))
        self._show_table("#terms-table", terms, sections.terms_heading(trace), lambda a, b: sections.terms_caption(trace, a, b), keep_scroll)
        self._show_table("#pairs-table", pairs, sections.pairs_heading(trace), lambda a, b: sections.pairs_caption(trace, a, b), keep_scroll)
        self.query_one("#pairs-table").display = pairs.count > 0
        self.query_one("#accumulation-text", Static).update(sections.accumulation_text(trace))
        self.query_one("#bias-text", Static).update(sections.bias_text(trace))
        self.query_one("#requantization-text", Static).update(sections.requantization_text(trace))
        self.query_one("#float-path-text", Static).update(sections.float_path_text(trace))
        self.query_one("#comparison", Static).update(_comparison_table(trace))
        self.query_one("#steps-text", Static).update(sections.steps_text(trace))
        self.query_one("#notes-text", Static).update(sections.notes_text(trace))
        verdict = self.query_one("#drill-verdict", Static)
        verdict.update(sections.verdict_text(trace))
        verdict.border_title = sections.verdict_title(trace)
        verdict.set_class(trace.cause not in (None, "clamped"), "-mismatch")

    def _show_table(self, selector: str, rows: TableRows, title: str, caption, keep_scroll: bool) -> None:
        table = self.query_one(selector, TraceTable)
        scroll_y, target = table.scroll_offset.y, table.target
        table.show(rows, title, caption)
        if keep_scroll:
            table.scroll_to(y=scroll_y, animate=False, immediate=True)
            if target is not None:
                table.show_row(target)

    # Actions -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_move(self, rows: int, columns: int) -> None:
        """Trace the neighbouring output cell in the main screen's output grid."""
        shape = output_matrix(self.scenario, np.broadcast_to(np.int8(0), self.scenario.output_shape), self.position).shape
        row = min(max(self.row + rows, 0), shape[0] - 1)
        column = min(max(self.column + columns, 0), shape[1] - 1)
        if (row, column) == (self.row, self.column):
            self.app.bell()
            return
        self.row, self.column = row, column
        self._retrace()

    def action_mismatch(self, step: int) -> None:
        """Trace the next or previous cell where the real kernel and the float path differ."""
        paths = self._paths(self.isa)
        diff = None if paths is None else paths.quantized_minus_float()
        if diff is None:
            self.notify(f"the real kernel has not run on {sections.ISA_NAMES[self.isa]} yet; try again in a moment", severity="warning")
            return
        target = next_mismatch(diff, self.cell, forward=step > 0)
        if target is None:
            self.notify("no cell differs: the two paths agree everywhere")
            return
        self.position, self.row, self.column = locate_output(self.scenario, target, self.position)
        self._retrace()

    def action_switch_isa(self) -> None:
        self.isa = sections.OTHER_ISA[self.isa]

    def watch_isa(self) -> None:
        self._retrace()

    def action_clipped_pair(self, step: int) -> None:
        """Scroll both tables to the next or previous int16 pair that saturated."""
        pairs = self.query_one("#pairs-table", TraceTable)
        if pairs.rows is None or not pairs.rows.marked.any():
            self.notify("no int16 pair sum saturated in this cell")
            return
        marked = clipped_rows(pairs.rows)
        if step > 0:
            current = -1 if pairs.target is None else pairs.target
            ahead = marked[marked > current]
            wrapped = marked[0]
        else:
            current = marked[0] if pairs.target is None else pairs.target
            ahead = marked[marked < current][::-1]
            wrapped = marked[-1]
        index = int(ahead[0]) if ahead.size else int(wrapped)
        pairs.show_row(index)
        terms = self.query_one("#terms-table", TraceTable)
        slot = self.trace.backend.pairs[index].slots[0]
        row = next((position for position, term in enumerate(self.trace.terms) if term.slot >= slot), None)
        if row is not None:
            terms.show_row(row)

    def action_export(self) -> None:
        app = self.app
        folder = Path.cwd() if app.bundled else app.scenario_path.parent
        stem = f"{app.scenario_path.stem}.cell-{'-'.join(str(i) for i in self.cell)}.{self.isa}"
        self.notify(f"exporting the trace of cell {list(self.cell)}…")
        self.export_worker(self.cell, self.isa, folder, stem)

    @work(thread=True, exclusive=True, group="drill-export", exit_on_error=False)
    def export_worker(self, cell: tuple[int, ...], isa: str, folder: Path, stem: str) -> None:
        """Trace ``cell`` from the path runner's run, as ``qdebug explain`` does, and write both files."""
        paths = self.app.path_runner.paths(self.scenario, isa)
        trace = trace_with_paths(paths, cell, **self._model_environment())
        try:
            written = export_trace(trace, folder, stem)
        except OSError as error:
            logger.warning("exporting the trace to %s failed: %s", folder, error)
            self.app.call_from_thread(self.notify, f"the trace was not exported: {error}", severity="error", timeout=10)
            return
        self.post_message(self.Exported(written))

    def on_drill_down_screen_exported(self, message: Exported) -> None:
        markdown, document = message.paths
        self.notify(f"Exported the trace:\n{markdown}\n{document}", timeout=10)

    def action_help(self) -> None:
        self.app.show_help()


def _comparison_table(trace: CellTrace) -> Table:
    table = Table(caption=sections.comparison_caption(trace), caption_justify="left", expand=False)
    table.add_column("step")
    table.add_column("real kernel", justify="right")
    table.add_column(f"model: {trace.backend.library} ({trace.backend.isa})", justify="right")
    table.add_column("exact", justify="right")
    table.add_column("")
    for row in comparison_rows(trace):
        table.add_row(*row)
    return table


def _worker_task(group: str) -> str:
    return {"drill-trace": "tracing the cell", "drill-paths": "running the real kernel", "drill-export": "exporting the trace"}.get(
        group, "a drill-down task"
    )
