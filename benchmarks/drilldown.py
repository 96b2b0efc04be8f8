"""Drill-down open: the accumulator trace of one output cell and its Rich rendering.

The float path's and the real kernel's values for the cell are computed once beforehand, as
the app has them from its last evaluation. Each timed run calls ``trace_cell`` and renders
the trace as ``qdebug explain`` does, into a 120-column console that discards its output.
"""

from __future__ import annotations

import io

from rich.console import Console

from benchmarks.measure import Sample, time_calls
from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.evaluation import evaluate
from qdebug_tui.trace import trace_cell
from qdebug_tui.trace.rich_view import render_trace

CONSOLE_WIDTH = 120


def middle_cell(scenario: Scenario) -> tuple[int, ...]:
    """Return the output cell in the middle of every axis, away from any padding."""
    return tuple(size // 2 for size in scenario.output_shape)


def drilldown_timings(scenario: Scenario, backend: QuantizedBackend, isa: str, repeats: int) -> dict[str, Sample]:
    """Time the trace of the middle cell, its rendering, and both, for ``isa``."""
    cell = middle_cell(scenario)
    evaluation = evaluate(scenario, backend)
    values = {
        "float_q": int(evaluation.float_path.q[cell]),
        "float_real": float(evaluation.float_path.real[cell]),
        "quantized_q": None if evaluation.quantized.q is None else int(evaluation.quantized.q[cell]),
        "quantized_source": "the real kernel in this process",
    }

    def trace():
        return trace_cell(scenario, cell, isa, **values)

    traced = trace()

    def render() -> None:
        console = Console(file=io.StringIO(), width=CONSOLE_WIDTH, color_system="truecolor", highlight=False)
        console.print(render_trace(traced))

    def open_cell() -> None:
        console = Console(file=io.StringIO(), width=CONSOLE_WIDTH, color_system="truecolor", highlight=False)
        console.print(render_trace(trace()))

    return {"trace": time_calls(trace, repeats), "render": time_calls(render, repeats), "open": time_calls(open_cell, repeats)}
