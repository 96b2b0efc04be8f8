"""The output grid's four views and the results they are drawn from.

Before torch has loaded, only the exact integer reference exists (it needs no torch), so
every view shows it, labelled as the reference. After that, the views show the quantized path, the float
path, their difference in output LSB, or the float path's unquantized values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from qdebug_tui.core.scenario import Scenario
from qdebug_tui.evaluation import Evaluation
from qdebug_tui.grid_data import GridSlice, difference_marks
from qdebug_tui.numerics.reference import ReferenceResult
from qdebug_tui.core.slicing import SliceChoice
from qdebug_tui.slicing import output_matrix


class OutputView(Enum):
    """A view of the output grid. The value is its label in the grid's title."""

    QUANTIZED = "quantized-path q"
    FLOAT = "float-path q"
    DIFFERENCE = "Δ LSB, quantized − float"
    REAL = "float value, unquantized"

    def following(self) -> OutputView:
        members = list(OutputView)
        return members[(members.index(self) + 1) % len(members)]


@dataclass(frozen=True)
class Results:
    """The latest results for one scenario: the reference always, the rest once torch runs.

    ``saturated`` is a per-cell mask over the whole output, True where the emulator saw an
    int16 pair sum saturate; None when no emulator ran.
    """

    scenario: Scenario
    exact: ReferenceResult
    evaluation: Evaluation | None = None
    saturated: np.ndarray | None = None

    @property
    def kernel_error(self) -> str | None:
        return None if self.evaluation is None else self.evaluation.quantized.error


def output_slice(results: Results | None, scenario: Scenario, view: OutputView, position: SliceChoice) -> tuple[GridSlice, str]:
    """Return the output grid's slice and a label naming what it shows."""
    shape = output_matrix(scenario, np.empty(scenario.output_shape, dtype=np.int8), position).shape
    if results is None:
        return GridSlice(None, shape), "computing the exact reference…"
    saturated = None if results.saturated is None else output_matrix(scenario, results.saturated, position)
    evaluation = results.evaluation
    if evaluation is None:
        values = output_matrix(scenario, results.exact.q, position)
        return GridSlice(values, shape, saturated=saturated), "exact reference q; quantized path: loading torch…"

    failed = evaluation.quantized.q is None
    marks = None if failed else difference_marks(output_matrix(scenario, evaluation.comparison.diff, position))
    if view is OutputView.QUANTIZED and failed:
        return GridSlice(None, shape, placeholder="-", saturated=saturated), f"{view.value}: the kernel failed"
    if view is OutputView.DIFFERENCE and failed:
        return GridSlice(None, shape, placeholder="-", saturated=saturated), f"{view.value}: no quantized output"
    source = {
        OutputView.QUANTIZED: lambda: evaluation.quantized.q,
        OutputView.FLOAT: lambda: evaluation.float_path.q,
        OutputView.DIFFERENCE: lambda: evaluation.comparison.diff,
        OutputView.REAL: lambda: evaluation.float_path.real,
    }[view]()
    values = output_matrix(scenario, source, position)
    grid = GridSlice(values, shape, is_float=view is OutputView.REAL, marks=marks, saturated=saturated)
    return grid, view.value
