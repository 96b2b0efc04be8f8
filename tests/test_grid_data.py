"""Grid slices: marks, widths, changed rows, and the output views with a saturation mask."""

from __future__ import annotations

import numpy as np

from conftest import ISSUE_50720
from qdebug_tui.grid_data import MARK_LARGER, MARK_NONE, MARK_ONE_LSB, GridSlice, difference_marks
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.numerics.reference import reference
from qdebug_tui.output_view import OutputView, Results, output_slice
from qdebug_tui.core.slicing import SliceChoice
from qdebug_tui.widgets.pane_widths import share_widths


def test_difference_marks():
    marks = difference_marks(np.array([[0, 1, -1], [2, -7, 0]]))
    assert marks.tolist() == [[MARK_NONE, MARK_ONE_LSB, MARK_ONE_LSB], [MARK_LARGER, MARK_LARGER, MARK_NONE]]


def test_value_width_covers_values_and_indices():
    assert GridSlice(np.array([[-128, 5]]), (1, 2)).value_width == 4
    assert GridSlice(np.zeros((1, 12), dtype=np.int64), (1, 12)).value_width == 2
    assert GridSlice(None, (2, 2), placeholder="-").value_width == 1


def test_row_changes_finds_changed_rows():
    old = GridSlice(np.array([[1, 2], [3, 4], [5, 6]]), (3, 2))
    new = GridSlice(np.array([[1, 2], [3, 9], [5, 6]]), (3, 2))
    assert old.row_changes(new).tolist() == [False, True, False]
    marked = GridSlice(np.array([[1, 2], [3, 9], [5, 6]]), (3, 2), marks=np.array([[0, 0], [0, 0], [1, 0]]))
    assert new.row_changes(marked).tolist() == [False, False, True]


def test_row_changes_redraws_all_on_new_width():
    old = GridSlice(np.array([[1, 2]]), (1, 2))
    assert old.row_changes(GridSlice(np.array([[1, 200]]), (1, 2))) is None
    assert old.row_changes(GridSlice(None, (1, 2))) is None


def test_saturation_mask_reaches_slice():
    scenario = load_scenario(ISSUE_50720)
    saturated = np.zeros(scenario.output_shape, dtype=bool)
    saturated[0, 0, 0, 0] = True
    results = Results(scenario, reference(scenario), saturated=saturated)
    grid, label = output_slice(results, scenario, OutputView.QUANTIZED, SliceChoice())
    assert "loading torch" in label
    assert grid.is_saturated(0, 0)
    assert not grid.is_saturated(0, 1)


def test_placeholder_before_reference():
    scenario = load_scenario(ISSUE_50720)
    grid, label = output_slice(None, scenario, OutputView.DIFFERENCE, SliceChoice())
    assert grid.values is None
    assert grid.shape == (3, 3)


def test_share_widths():
    assert share_widths([25, 30, 16], 80) == [25, 30, 16]
    assert share_widths([100, 100, 20], 80) == [30, 30, 20]
    assert share_widths([100, 10, 10], 80) == [60, 10, 10]
    assert sum(share_widths([50, 50, 50], 80)) == 80
