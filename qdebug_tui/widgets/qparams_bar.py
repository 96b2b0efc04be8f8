"""The qparams bar: scale and zero point of input, weight and output, the engine, the edit mode."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from qdebug_tui.core.scenario import ENGINES, Scenario
from qdebug_tui.editing import FIELDS_BY_ID, QParamField, current_value, format_value
from qdebug_tui.io.errors import Problem
from qdebug_tui.widgets.ordered_input import OrderedInput
from qdebug_tui.widgets.text_update import update_text

MODE_TEXT = {
    False: "edits keep integers [t]",
    True: "edits keep real values, re-quantize [t]",
}


class QParamsBar(Vertical):
    """Six editable quantization parameters, the engine selector and the edit mode in force."""

    class Edited(Message):
        """Posted when the text of a qparam field changes."""

        def __init__(self, field: QParamField, text: str) -> None:
            super().__init__()
            self.field = field
            self.text = text

    class EngineChanged(Message):
        """Posted when another engine is selected."""

        def __init__(self, engine: str) -> None:
            super().__init__()
            self.engine = engine

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial_engine = scenario.engine
        self._problems: dict[str, Problem] = {}

    def compose(self) -> ComposeResult:
        for tensor in ("input", "weight", "output"):
            with Horizontal(classes="qparam-row"):
                yield Label(tensor, classes="qparam-tensor", id=f"{tensor}-qparams-label")
                yield Label("scale", classes="qparam-label")
                yield OrderedInput(id=f"{tensor}-scale", compact=True, classes="qparam-scale", select_on_focus=True)
                yield Label("zp", classes="qparam-label")
                yield OrderedInput(id=f"{tensor}-zero-point", compact=True, classes="qparam-zero-point", select_on_focus=True)
                if tensor == "input":
                    yield Label("engine", classes="qparam-label")
                    options = [(engine, engine) for engine in ENGINES]
                    yield Select(options, value=self._initial_engine, id="engine", compact=True, allow_blank=False)
                elif tensor == "weight":
                    yield Label(MODE_TEXT[False], id="edit-mode", markup=False)
        yield Static("", id="qparam-problems", markup=False)

    def show_values(self, scenario: Scenario, channel: int, *, only_weight: bool = False) -> None:
        """Fill the fields from ``scenario`` without posting edits; per-channel weights show ``channel``."""
        per_channel = scenario.weight.qparams.per_channel
        label = f"w[{channel}]" if per_channel else "weight"
        self.query_one("#weight-qparams-label", Label).update(label)
        for widget_id, field in FIELDS_BY_ID.items():
            if only_weight and field.tensor != "weight":
                continue
            if widget_id in self._problems:
                continue
            field_input = self.query_one(f"#{widget_id}", Input)
            with field_input.prevent(Input.Changed):
                field_input.value = format_value(current_value(scenario, field, channel))
        select = self.query_one("#engine", Select)
        with select.prevent(Select.Changed):
            select.value = scenario.engine

    def show_mode(self, keep_real: bool) -> None:
        self.query_one("#edit-mode", Label).update(MODE_TEXT[keep_real])

    def set_problem(self, field: QParamField, problem: Problem | None) -> None:
        """Mark a field invalid with the reason, or clear its mark."""
        field_input = self.query_one(f"#{field.widget_id}", Input)
        if problem is None:
            self._problems.pop(field.widget_id, None)
            field_input.set_class(False, "-invalid")
            field_input.tooltip = None
        else:
            self._problems[field.widget_id] = problem
            field_input.set_class(True, "-invalid")
            field_input.tooltip = problem.describe()
        lines = [f"✗ {problem.describe()}; the results shown are for the last valid value" for problem in self._problems.values()]
        problems = self.query_one("#qparam-problems", Static)
        update_text(problems, "\n".join(lines))
        problems.display = bool(lines)

    @property
    def problems(self) -> dict[str, Problem]:
        """The invalid fields by widget id."""
        return dict(self._problems)

    def on_input_changed(self, event: Input.Changed) -> None:
        field = FIELDS_BY_ID.get(event.input.id or "")
        if field is None:
            return
        event.stop()
        self.post_message(self.Edited(field, event.value))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "engine" or event.value is Select.BLANK:
            return
        event.stop()
        self.post_message(self.EngineChanged(str(event.value)))
