"""The help screen: every key of the app, the main screen and the grids."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from qdebug_tui.terminal import log_path

GRID_MARKS = (
    "In the output grid, a cell followed by ~ differs by 1 LSB between the quantized and the float "
    "path, a cell followed by ! by 2 LSB or more, and a cell preceded by ^ saw an int16 pair sum "
    "saturate in the emulator. Cells of the input that the selected output cell reads are highlighted."
)

EDITING = (
    "On an input or weight cell, type a number (or press enter, then the number) and press enter: "
    "the integer is replaced and both paths recompute. A value outside the dtype's range is "
    "rejected with the range, and the value stays as it was. ctrl+z and ctrl+y undo and redo every "
    "edit: qparams, values, the engine and the edit mode. ctrl+s saves to the scenario file, and "
    "\"Save as\" in the command palette saves to another one. An edited tensor that came from a CSV "
    "or .npy file is saved to a new .npy file beside the scenario. The top line marks unsaved "
    "changes, and quitting or opening another file with unsaved changes asks first."
)


class HelpScreen(ModalScreen[None]):
    """Lists each key with its description and binding id, for remapping.

    A binding's tooltip is its full description, and the footer shows its short one.
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.rows: list[tuple[str, str, str]] = [
            ("ctrl+p", "command palette: every action by name", ""),
            ("digits, enter", "input and weight grids: type a new integer for the cell under the cursor, then enter applies it; escape cancels", ""),
        ]
        for binding in bindings:
            keys = _readable_keys(binding.key)
            self.rows.append((keys, binding.tooltip or binding.description or binding.action, binding.id or ""))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static("qdebug keys", id="help-title")
            for keys, description, binding_id in self.rows:
                with Horizontal(classes="help-row"):
                    yield Label(keys, classes="help-key", markup=False)
                    with Vertical(classes="help-action"):
                        yield Static(description, markup=False)
                        if binding_id:
                            yield Static(f"id {binding_id}", classes="help-id", markup=False)
            yield Static(GRID_MARKS, id="help-marks")
            yield Static(EDITING, id="help-editing", markup=False)
            yield Static(f"torch's warnings and stderr go to {log_path()} while qdebug runs", id="help-log")
            yield Static("escape, ? or q closes this help", id="help-close-hint")

    def action_dismiss(self) -> None:
        self.dismiss(None)


def _readable_keys(keys: str) -> str:
    names = {
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "left_curly_bracket": "{",
        "right_curly_bracket": "}",
        "question_mark": "?",
        "left_parenthesis": "(",
        "right_parenthesis": ")",
    }
    return ", ".join(names.get(key.strip(), key.strip()) for key in keys.split(","))
