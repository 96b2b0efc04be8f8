"""The tensor grid widget on its own: cell text, marks, partial redraws, scrolling."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from pilot_helpers import cell_text, grid_lines
from qdebug_tui.grid_data import GridSlice, difference_marks
from qdebug_tui.widgets.tensor_grid import TensorGrid


class GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TensorGrid(id="grid")


def marked_slice(values, diff, saturated=None) -> GridSlice:
    values = np.asarray(values)
    return GridSlice(values, values.shape, marks=difference_marks(np.asarray(diff)), saturated=saturated)


async def test_marks_drawn_as_characters():
    app = GridApp()
    async with app.run_test(size=(40, 10)) as pilot:
        grid = app.query_one(TensorGrid)
        saturated = np.array([[False, False, True]])
        grid.show(marked_slice([[5, 17, 255]], [[0, 1, -3]], saturated))
        await pilot.pause()
        assert cell_text(grid, 0, 0) == "   5 "
        assert cell_text(grid, 0, 1) == "  17~"
        assert cell_text(grid, 0, 2) == "^255!"
        lines = grid_lines(grid)
        assert lines[0].split() == ["0", "1", "2"]
        assert lines[1].startswith("0 ")


async def test_edit_redraws_changed_rows_only():
    app = GridApp()
    async with app.run_test(size=(40, 10)) as pilot:
        grid = app.query_one(TensorGrid)
        values = np.arange(12).reshape(4, 3)
        grid.show(GridSlice(values, values.shape))
        await pilot.pause()
        refreshed = []
        original = grid.refresh_line
        grid.refresh_line = lambda y: (refreshed.append(y), original(y))
        changed = values.copy()
        changed[2, 1] = 9
        grid.show(GridSlice(changed, changed.shape))
        assert refreshed == [3]
        await pilot.pause()
        assert cell_text(grid, 2, 1).strip() == "9"
        assert cell_text(grid, 1, 1).strip() == "4"


async def test_cursor_scrolls_large_slice():
    app = GridApp()
    async with app.run_test(size=(30, 12)) as pilot:
        grid = app.query_one(TensorGrid)
        values = np.arange(224 * 224).reshape(224, 224) % 256
        grid.show(GridSlice(values, values.shape))
        grid.focus()
        await pilot.pause()
        await pilot.press("ctrl+end")
        assert grid.cursor == (223, 223)
        assert grid.scroll_offset.y > 200
        assert grid.scroll_offset.x > 0
        assert cell_text(grid, 223, 223).strip() == str(values[223, 223])
        assert grid_lines(grid)[-1].startswith("223 ")
        await pilot.press("pageup", "home")
        assert grid.cursor[1] == 0
        assert grid.cursor[0] < 223
        assert grid.scroll_offset.x == 0


async def test_new_shape_clamps_cursor():
    app = GridApp()
    async with app.run_test(size=(40, 10)) as pilot:
        grid = app.query_one(TensorGrid)
        grid.show(GridSlice(np.zeros((5, 5), dtype=np.int64), (5, 5)))
        grid.move_to(4, 4)
        grid.show(GridSlice(np.zeros((2, 3), dtype=np.int64), (2, 3)))
        await pilot.pause()
        assert grid.cursor == (1, 2)


async def test_highlight_scrolls_into_view():
    app = GridApp()
    async with app.run_test(size=(30, 12)) as pilot:
        grid = app.query_one(TensorGrid)
        values = np.zeros((224, 224), dtype=np.int64)
        grid.show(GridSlice(values, values.shape))
        await pilot.pause()
        mask = np.zeros(values.shape, dtype=bool)
        mask[150:153, 100:103] = True
        grid.set_highlight(mask)
        await pilot.pause()
        first_row = int(grid.scroll_offset.y)
        visible_rows = grid.scrollable_content_region.height - 1
        assert first_row <= 150
        assert 152 < first_row + visible_rows
        assert grid.scroll_offset.x % grid.cell_width == 0
        assert grid.scroll_offset.x <= 100 * grid.cell_width


async def test_cut_columns_stay_blank():
    # 23 columns: the gutter (2) and three 6-wide columns fit, and the fourth would show "-1".
    app = GridApp()
    async with app.run_test(size=(23, 6)) as pilot:
        grid = app.query_one(TensorGrid)
        values = np.full((2, 8), -128)
        grid.show(GridSlice(values, values.shape))
        await pilot.pause()
        row = grid_lines(grid)[1]
        assert row.split()[1:] == ["-128", "-128", "-128"]
