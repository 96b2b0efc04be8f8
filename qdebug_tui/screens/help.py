"""The help screen: every key of the app, the main screen, the grids and the drill-down screen."""

from __future__ import annotations

from dataclasses import dataclass

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


DRILL_DOWN = (
    "enter on an output cell opens its drill-down: the terms in the kernel's K order with their running "
    "sum, the int16 pair sums, the bias, the requantization beside the float path, and the verdict with "
    "the fix. A row ending in ^ belongs to a pair whose int16 sum saturated. The totals line at the top "
    "stays in view. tab moves the focus between the tables and the sections, and the page keys, home "
    "and end scroll the focused one. e writes the trace as Markdown and JSON next to the scenario file "
    "(the bundled sample's trace goes to the current folder); the JSON is what qdebug explain --json prints."
)


@dataclass(frozen=True)
class HelpSection:
    """The keys of one screen: ``unbound`` lists (keys, description) read without a binding, first."""

    title: str
    bindings: list[Binding]
    unbound: tuple[tuple[str, str], ...] = ()


class HelpScreen(ModalScreen[None]):
    """Lists each key with its description and binding id, for remapping, one section per screen.

    A binding's tooltip is its full description, and the footer shows its short one.
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__()
        self.sections: list[tuple[str, list[tuple[str, str, str]]]] = []
        for section in sections:
            rows = [(keys, description, "") for keys, description in section.unbound]
            for binding in section.bindings:
                rows.append((_readable_keys(binding.key), binding.tooltip or binding.description or binding.action, binding.id or ""))
            self.sections.append((section.title, rows))

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """Every (keys, description, binding id) row, in the order shown."""
        return [row for _, rows in self.sections for row in rows]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static("qdebug keys", id="help-title")
            for title, rows in self.sections:
                yield Static(title, classes="help-section", markup=False)
                for keys, description, binding_id in rows:
                    with Horizontal(classes="help-row"):
                        yield Label(keys, classes="help-key", markup=False)
                        with Vertical(classes="help-action"):
                            yield Static(description, markup=False)
                            if binding_id:
                                yield Static(f"id {binding_id}", classes="help-id", markup=False)
            yield Static(GRID_MARKS, id="help-marks")
            yield Static(DRILL_DOWN, id="help-drill-down", markup=False)
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
