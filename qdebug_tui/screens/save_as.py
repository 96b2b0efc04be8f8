"""The "save as" dialog: a path field, checked before anything is written."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from qdebug_tui.screens.confirm import REPLACE, ReplaceFileDialog
from qdebug_tui.screens.open_dialog import SCENARIO_SUFFIX, display_path, resolve_typed_path
from qdebug_tui.widgets.ordered_input import OrderedInput


def check_save_path(path: Path) -> str | None:
    """Return why ``path`` cannot take a scenario file, or None when it can."""
    if "\0" in str(path):
        return "the path contains a NUL character, which no file name can contain"
    if path.suffix.lower() != SCENARIO_SUFFIX:
        return f"{path.name} is invalid; the scenario file name must end in {SCENARIO_SUFFIX}"
    if path.is_dir():
        return f"{path} is a folder; give a file name ending in {SCENARIO_SUFFIX}"
    if not path.parent.is_dir():
        return f"the folder {path.parent} does not exist; create it first"
    return None


class SaveAsDialog(ModalScreen[Path | None]):
    """Asks for the path to save the scenario to; dismisses with it, or None on cancel.

    Relative paths resolve against ``folder``. Replacing a file other than ``current`` is
    confirmed first.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="save-as.cancel", tooltip="Close the dialog without saving"),
    ]

    def __init__(self, folder: Path, suggested: Path, current: Path | None) -> None:
        super().__init__()
        self.folder = folder
        self.suggested = suggested
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Save the scenario as", classes="dialog-title")
            yield Label(f"Path, relative to {display_path(self.folder)}", classes="path-label", markup=False)
            yield OrderedInput(str(self.suggested), id="save-as-path", compact=True)
            yield Static("", id="save-as-status", classes="path-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Static("enter saves · esc cancels", classes="dialog-hint")
                yield Button("Save", id="save-as-save", compact=True)
                yield Button("Cancel", id="save-as-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#save-as-path", Input).focus()

    @on(Input.Submitted, "#save-as-path")
    @on(Button.Pressed, "#save-as-save")
    def _submitted(self) -> None:
        self.choose_path()

    @on(Button.Pressed, "#save-as-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Close the dialog without saving."""
        self.dismiss(None)

    @work(exclusive=True, group="save-as")
    async def choose_path(self) -> None:
        """Check the typed path, confirm replacing another file, and dismiss with the path."""
        path = resolve_typed_path(self.query_one("#save-as-path", Input).value, self.folder)
        if path is None:
            self._show_problem(f"type a path ending in {SCENARIO_SUFFIX}")
            return
        problem = check_save_path(path)
        if problem is not None:
            self._show_problem(problem)
            return
        replaces_other = path.exists() and (self.current is None or path.resolve() != self.current.resolve())
        if replaces_other:
            choice = await self.app.push_screen_wait(ReplaceFileDialog(str(path)))
            if choice != REPLACE:
                self.query_one("#save-as-path", Input).focus()
                return
        self.dismiss(path)

    def _show_problem(self, text: str) -> None:
        status = self.query_one("#save-as-status", Static)
        status.update(text)
        status.set_class(True, "-error")
