"""The qdebug application: one scenario on the main screen."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from qdebug_tui.backends import load_torch_backend
from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.evaluation import RunFacts
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.path_runner import PathRunner
from qdebug_tui.screens.drilldown import DrillDownScreen
from qdebug_tui.screens.help import HelpScreen, HelpSection
from qdebug_tui.screens.main import MainScreen
from qdebug_tui.screens.palette import FileCommands
from qdebug_tui.widgets.output_grid import OutputGrid
from qdebug_tui.widgets.tensor_grid import TensorGrid
from qdebug_tui.widgets.trace_table import TraceTable
from qdebug_tui.workflows import FileWorkflows

INPUT_GRID_KEYS = (
    ("digits, enter", "input and weight grids: type a new integer for the cell under the cursor, then enter applies it; escape cancels"),
)


class QDebugApp(FileWorkflows, App[None]):
    """The full-screen debugger for one scenario file at a time.

    Raises :class:`~qdebug_tui.io.errors.ScenarioError` from the constructor when the file is
    invalid. ``backend_loader`` runs in a worker thread, because importing torch takes seconds.
    Opening another file keeps the main screen and its backend. With ``fixed_facts`` the
    summary shows those facts and no timing, and the drill-down models the CPU of those
    facts with no instruction-set variables, so that screenshots compare equal on any
    machine. ``bundled`` marks the sample shipped with qdebug, which saving must not
    overwrite. ``path_runner`` runs the drill-down's real kernels. By default the app starts
    one with worker processes and stops them when it exits. A runner passed in is the
    caller's to close.
    """

    CSS_PATH = "qdebug.tcss"
    TITLE = "qdebug"
    COMMANDS = App.COMMANDS | {FileCommands}

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit", tooltip="Quit qdebug; with unsaved changes, ask whether to save them"),
        Binding("ctrl+s", "save", "Save", id="app.save", tooltip="Save the scenario to its file; the command palette has Save as"),
        Binding("ctrl+o", "open", "Open", id="app.open", tooltip="Open another scenario file; with unsaved changes, ask whether to save them"),
    ]

    def __init__(
        self,
        scenario_path: str | os.PathLike,
        *,
        backend_loader: Callable[[], QuantizedBackend] = load_torch_backend,
        fixed_facts: RunFacts | None = None,
        bundled: bool = False,
        path_runner: PathRunner | None = None,
        **app_options,
    ) -> None:
        super().__init__(**app_options)
        self.scenario_path = Path(scenario_path)
        self.scenario = load_scenario(self.scenario_path)
        self.backend_loader = backend_loader
        self.fixed_facts = fixed_facts
        self.bundled = bundled
        self._owns_path_runner = path_runner is None
        self.path_runner = PathRunner() if path_runner is None else path_runner

    def get_default_screen(self) -> Screen:
        return MainScreen(self.scenario)

    def on_unmount(self) -> None:
        if self._owns_path_runner:
            self.path_runner.close()

    def show_help(self) -> None:
        """Open the list of every key, one section per screen."""
        app_bindings = [binding for binding in self.BINDINGS if isinstance(binding, Binding)]
        sections = [
            HelpSection("Everywhere", app_bindings, (("ctrl+p", "command palette: every action by name"),)),
            HelpSection("Main screen", [*MainScreen.BINDINGS, *TensorGrid.BINDINGS, *OutputGrid.BINDINGS], INPUT_GRID_KEYS),
            HelpSection("Drill-down screen: enter on an output cell", [*DrillDownScreen.BINDINGS, *TraceTable.BINDINGS]),
        ]
        self.push_screen(HelpScreen(sections))
