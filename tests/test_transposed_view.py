"""The main screen on a transposed conv: the input cells that reach the selected output."""

from __future__ import annotations

import numpy as np

from conftest import SAMPLES
from pilot_helpers import wait_for_evaluation
from qdebug_tui.app import QDebugApp
from qdebug_tui.io.scenario_file import load_scenario

SAMPLE = SAMPLES / "conv_transpose2d.json"


def reaching_inputs(scenario, out_row: int, out_column: int) -> np.ndarray:
    """Mark input (i, j) when some kernel tap k sends it to the output: o = i·s − p + k·d."""
    layer = scenario.layer
    height, width = scenario.input.shape[2:]
    kernel_h, kernel_w = scenario.weight.shape[2:]
    mask = np.zeros((height, width), dtype=bool)
    for i in range(height):
        for j in range(width):
            rows = {i * layer.stride[0] - layer.padding[0] + k * layer.dilation[0] for k in range(kernel_h)}
            columns = {j * layer.stride[1] - layer.padding[1] + k * layer.dilation[1] for k in range(kernel_w)}
            mask[i, j] = out_row in rows and out_column in columns
    return mask


async def test_transposed_highlight_follows_cursor():
    scenario = load_scenario(SAMPLE)
    app = QDebugApp(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        output = app.query_one("#output-grid")
        for keys, cell in (((), (0, 0)), (("j", "l", "l"), (1, 2)), (("j", "j", "j", "l"), (4, 3))):
            await pilot.press(*keys)
            assert output.cursor == cell
            highlight = app.query_one("#input-grid").highlight
            assert np.array_equal(highlight, reaching_inputs(scenario, *cell))
            assert highlight.any()


async def test_transposed_output_shape_on_screen():
    app = QDebugApp(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        assert app.query_one("#output-grid").grid_slice.shape == (8, 8)
        assert app.query_one("#input-grid").grid_slice.shape == (4, 4)
        assert app.query_one("#weight-grid").grid_slice.shape == (4, 4)
