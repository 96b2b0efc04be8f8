"""Questions answered with one of a few buttons: unsaved changes, replacing a file."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

# Results of the unsaved-changes and replace-file dialogs.
SAVE = "save"
DISCARD = "discard"
CANCEL = "cancel"
REPLACE = "replace"


class ChoiceDialog(ModalScreen[str]):
    """A question with one button per choice, dismissed with the choice made.

    Subclasses set ``CHOICES`` as (choice, button label) pairs and bind a key to
    ``choose('choice')`` for each. The first button has the focus.
    """

    CHOICES: tuple[tuple[str, str], ...] = ()

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.question, id="choice-question", classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for choice, label in self.CHOICES:
                    yield Button(label, id=f"choice-{choice}", compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_choose(self, choice: str) -> None:
        """Close the dialog with ``choice``."""
        self.dismiss(choice)


class UnsavedChangesDialog(ChoiceDialog):
    """Asks whether to save, discard or keep the unsaved changes before quitting or opening a file."""

    CHOICES = ((SAVE, "Save (s)"), (DISCARD, "Discard (d)"), (CANCEL, "Cancel (esc)"))

    BINDINGS = [
        Binding("s", "choose('save')", "Save", id="unsaved.save", tooltip="Save the changes, then go on"),
        Binding("d", "choose('discard')", "Discard", id="unsaved.discard", tooltip="Drop the changes and go on"),
        Binding("escape,c", "choose('cancel')", "Cancel", id="unsaved.cancel", tooltip="Stay, with the changes kept"),
        Binding("left", "app.focus_previous", "Previous button", show=False, id="unsaved.previous"),
        Binding("right", "app.focus_next", "Next button", show=False, id="unsaved.next"),
    ]

    def __init__(self, file_name: str, next_step: str) -> None:
        question = f"{file_name} has unsaved changes. Save them before {next_step}?"
        super().__init__("Unsaved changes", question)


class ReplaceFileDialog(ChoiceDialog):
    """Asks whether "save as" may replace a file that exists."""

    CHOICES = ((REPLACE, "Replace (r)"), (CANCEL, "Cancel (esc)"))

    BINDINGS = [
        Binding("r", "choose('replace')", "Replace", id="replace.confirm", tooltip="Replace the file with this scenario"),
        Binding("escape,c", "choose('cancel')", "Cancel", id="replace.cancel", tooltip="Keep the file; choose another name"),
        Binding("left", "app.focus_previous", "Previous button", show=False, id="replace.previous"),
        Binding("right", "app.focus_next", "Next button", show=False, id="replace.next"),
    ]

    def __init__(self, path: str) -> None:
        super().__init__("Replace file?", f"{path} exists. Replace it with this scenario?")
