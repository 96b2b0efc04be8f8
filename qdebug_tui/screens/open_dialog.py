"""The open dialog: a folder tree of scenario files and a path field.

The file is read and validated in a thread, and a file that fails shows the same message
as ``qdebug SCENARIO`` prints, in an :class:`~qdebug_tui.screens.message.ErrorDialog` over
this dialog. The dialog is dismissed only with a scenario that loaded, so the scenario open
in the app changes only then.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Static
from textual.worker import Worker, WorkerState

from qdebug_tui.core.scenario import Scenario
from qdebug_tui.io.errors import ScenarioError
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.screens.message import ErrorDialog
from qdebug_tui.widgets.ordered_input import OrderedInput

SCENARIO_SUFFIX = ".json"
OPEN_GROUP = "open-file"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenedScenario:
    """A scenario that loaded, and the file it came from."""

    path: Path
    scenario: Scenario


def read_scenario(path: Path) -> OpenedScenario | ScenarioError:
    """Load and validate the scenario at ``path``; return it, or the error that names every problem.

    This is what the dialog runs for a chosen file. It returns the error instead of raising
    it, so that the message can go to the user as it is.
    """
    try:
        return OpenedScenario(path, load_scenario(path))
    except ScenarioError as error:
        return error


def display_path(path: Path) -> str:
    """Return ``path`` for a label: absolute, with the home folder shortened to ``~``."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(Path("~") / absolute.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        # Not under the home folder, or no home folder known.
        return str(absolute)


def resolve_typed_path(text: str, folder: Path) -> Path | None:
    """Return the path typed into the dialog, relative to ``folder`` unless absolute; None when empty."""
    stripped = text.strip()
    if not stripped:
        return None
    path = Path(stripped).expanduser()
    return path if path.is_absolute() else folder / path


class ScenarioTree(DirectoryTree):
    """A directory tree that lists folders and scenario files, and hides dot files."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            path
            for path in paths
            if not path.name.startswith(".") and (self._safe_is_dir(path) or path.suffix.lower() == SCENARIO_SUFFIX)
        ]


class OpenDialog(ModalScreen[OpenedScenario | None]):
    """Picks a scenario file by tree or by typed path, and dismisses with it once it loads."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="open.cancel", tooltip="Close the dialog; the open scenario stays"),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="open-body", classes="dialog"):
            yield Static("Open a scenario", classes="dialog-title")
            # The tree gets the absolute folder, so that its root is labelled even for ".".
            yield ScenarioTree(os.path.abspath(self.folder), id="open-tree")
            yield Label(f"Path, relative to {display_path(self.folder)}", classes="path-label", markup=False)
            yield OrderedInput(id="open-path", placeholder="scenario.json", compact=True)
            yield Static("", id="open-status", classes="path-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Static("enter opens · tab moves · esc cancels", classes="dialog-hint")
                yield Button("Open", id="open-open", compact=True)
                yield Button("Cancel", id="open-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#open-path", Input).focus()

    @on(DirectoryTree.FileSelected, "#open-tree")
    def _file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#open-path", Input).value = str(event.path)
        self.open_path(event.path)

    @on(Input.Submitted, "#open-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._open_typed()

    @on(Button.Pressed, "#open-open")
    def _open_pressed(self) -> None:
        self._open_typed()

    @on(Button.Pressed, "#open-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Close the dialog without opening anything."""
        self.dismiss(None)

    def _open_typed(self) -> None:
        path = resolve_typed_path(self.query_one("#open-path", Input).value, self.folder)
        if path is None:
            self._show_status("type the path of a scenario .json file, or pick one in the tree", error=True)
        elif path.is_dir():
            self.folder = path
            self.query_one("#open-tree", ScenarioTree).path = path
            self.query_one(".path-label", Label).update(f"Path, relative to {display_path(path)}")
            self._show_status(f"showing {display_path(path)}")
        else:
            self.open_path(path)

    @work(exclusive=True, group=OPEN_GROUP, exit_on_error=False)
    async def open_path(self, path: Path) -> None:
        """Read and validate ``path`` in a thread; dismiss with the scenario, or show its problems."""
        self._show_status(f"reading {path}…")
        result = await asyncio.to_thread(read_scenario, path)
        if isinstance(result, ScenarioError):
            self._show_status(f"{path.name} was not opened", error=True)
            await self.app.push_screen_wait(ErrorDialog("The scenario file is invalid", result.message()))
            self.query_one("#open-path", Input).focus()
            return
        self.dismiss(result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != OPEN_GROUP or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        logger.error("opening a scenario failed", exc_info=error)
        self._show_status("the file was not opened", error=True)
        self.app.push_screen(ErrorDialog("Opening the file failed", f"{type(error).__name__}: {error}"))

    def _show_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#open-status", Static)
        status.update(text)
        status.set_class(error, "-error")
