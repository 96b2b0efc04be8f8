"""A scrolling grid of tensor values on Textual's Line API.

Each screen line is one ``Strip`` built by :meth:`TensorGrid.render_line`. Row strips are
cached in an LRU. The key is the row's version, the cursor column when the cursor is on
that row, the highlight version and focus. So scrolling reuses lines, and a new slice
redraws only the rows whose cells changed. The first line is a fixed header of column
indices, and the left gutter is a fixed column of row indices.

A cell reads ``[s]value[m]``: ``s`` is ``^`` where the emulator saw int16 saturation and
``m`` is ``~`` for a 1 LSB difference or ``!`` for more, so marks show without colour.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from qdebug_tui.grid_data import MARK_CHARACTERS, MARK_LARGER, MARK_ONE_LSB, SATURATED_CHARACTER, GridSlice

# Enough for every line of several screens of a tall grid.
LINE_CACHE_SIZE = 1024



class TensorGrid(ScrollView, can_focus=True):
    """A 2-D slice of a tensor with a cell cursor, difference marks and a highlight mask."""

    COMPONENT_CLASSES = {
        "tensor-grid--header",
        "tensor-grid--gutter",
        "tensor-grid--cursor",
        "tensor-grid--highlight",
        "tensor-grid--one-lsb",
        "tensor-grid--larger",
        "tensor-grid--saturated",
        "tensor-grid--placeholder",
    }

    BINDINGS = [
        Binding("up,k", "move_cursor(-1, 0)", "Up", show=False, id="grid.up"),
        Binding("down,j", "move_cursor(1, 0)", "Down", show=False, id="grid.down"),
        Binding("left,h", "move_cursor(0, -1)", "Left", show=False, id="grid.left"),
        Binding("right,l", "move_cursor(0, 1)", "Right", show=False, id="grid.right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="grid.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="grid.page-down"),
        Binding("home", "row_edge(0)", "First column", show=False, id="grid.home"),
        Binding("end", "row_edge(1)", "Last column", show=False, id="grid.end"),
        Binding("ctrl+home", "corner(0)", "First cell", show=False, id="grid.first-cell"),
        Binding("ctrl+end", "corner(1)", "Last cell", show=False, id="grid.last-cell"),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 0), init=False, always_update=False)
    """The selected cell as (row, column) of the slice on screen."""

    class CursorMoved(Message):
        """Posted when the cell cursor moves, also when a new slice clamps it."""

        def __init__(self, grid: TensorGrid, row: int, column: int) -> None:
            super().__init__()
            self.grid = grid
            self.row = row
            self.column = column

        @property
        def control(self) -> TensorGrid:
            return self.grid

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._slice = GridSlice(None, (1, 1))
        self._row_versions = np.zeros(1, dtype=np.int64)
        self._highlight: np.ndarray | None = None
        self._highlight_version = 0
        self._line_cache: LRUCache[tuple, Strip] = LRUCache(LINE_CACHE_SIZE)
        self._update_virtual_size()

    # Data ----------------------------------------------------------------------------------

    @property
    def grid_slice(self) -> GridSlice:
        """The slice on screen."""
        return self._slice

    def show(self, grid_slice: GridSlice) -> None:
        """Draw a new slice, redrawing only the rows whose cells changed."""
        old = self._slice
        changed = old.row_changes(grid_slice)
        if changed is None:
            self._row_versions = np.zeros(grid_slice.rows, dtype=np.int64)
            self._line_cache.clear()
        else:
            self._row_versions = self._row_versions + changed
        self._slice = grid_slice
        self._update_virtual_size()
        row, column = self.cursor
        self.cursor = (min(row, grid_slice.rows - 1), min(column, grid_slice.columns - 1))
        if changed is None:
            self.refresh()
            return
        for row_index in np.flatnonzero(changed):
            self.refresh_line(int(row_index) + 1)

    def set_highlight(self, mask: np.ndarray | None) -> None:
        """Highlight the cells where ``mask`` is True and scroll them into view.

        An example is the receptive field of the selected output cell in the input grid.
        """
        if mask is None and self._highlight is None:
            return
        if mask is not None and self._highlight is not None and np.array_equal(mask, self._highlight):
            return
        self._highlight = mask
        self._highlight_version += 1
        self.refresh()
        if mask is not None and mask.any():
            rows = np.flatnonzero(mask.any(axis=1))
            columns = np.flatnonzero(mask.any(axis=0))
            self.scroll_to_cells(int(rows[0]), int(rows[-1]), int(columns[0]), int(columns[-1]))

    @property
    def highlight(self) -> np.ndarray | None:
        return self._highlight

    # Geometry ------------------------------------------------------------------------------

    @property
    def cell_width(self) -> int:
        """Columns of one cell: saturation mark, value, and the difference mark when shown."""
        return self._slice.value_width + (2 if self._slice.show_marks else 1)

    @property
    def gutter_width(self) -> int:
        return len(str(max(self._slice.rows - 1, 0))) + 1

    def _update_virtual_size(self) -> None:
        width = self.gutter_width + self._slice.columns * self.cell_width
        self.virtual_size = Size(width, self._slice.rows + 1)

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _visible_cells_width(self) -> int:
        return max(self.scrollable_content_region.width - self.gutter_width, 1)

    # Cursor --------------------------------------------------------------------------------

    def watch_cursor(self, old: tuple[int, int], new: tuple[int, int]) -> None:
        self.refresh_line(old[0] + 1)
        self.refresh_line(new[0] + 1)
        self.refresh_line(0)
        self._scroll_to_cursor()
        self.post_message(self.CursorMoved(self, *new))

    def move_to(self, row: int, column: int) -> None:
        """Put the cursor on a cell, clamped to the slice."""
        row = min(max(row, 0), self._slice.rows - 1)
        column = min(max(column, 0), self._slice.columns - 1)
        self.cursor = (row, column)

    def _scroll_to_cursor(self) -> None:
        row, column = self.cursor
        self.scroll_to_cells(row, row, column, column)

    def scroll_to_cells(self, first_row: int, last_row: int, first_column: int, last_column: int) -> None:
        """Scroll the least distance that shows the given block of cells, whole cells at the left edge."""
        scroll_x, scroll_y = self.scroll_offset
        visible_rows = self._visible_rows()
        if first_row < scroll_y:
            scroll_y = first_row
        elif last_row >= scroll_y + visible_rows:
            fits = last_row - first_row < visible_rows
            scroll_y = last_row - visible_rows + 1 if fits else first_row
        cell_width = self.cell_width
        left = first_column * cell_width
        right = (last_column + 1) * cell_width
        visible_width = self._visible_cells_width()
        if left < scroll_x:
            scroll_x = left
        elif right > scroll_x + visible_width:
            # Round up to a cell boundary so that the leftmost cell is never cut.
            scroll_x = min(-(-(right - visible_width) // cell_width) * cell_width, left)
        self.scroll_to(scroll_x, scroll_y, animate=False, immediate=True)

    def action_move_cursor(self, rows: int, columns: int) -> None:
        row, column = self.cursor
        self.move_to(row + rows, column + columns)

    def action_page(self, direction: int) -> None:
        row, column = self.cursor
        self.move_to(row + direction * self._visible_rows(), column)

    def action_row_edge(self, end: int) -> None:
        self.move_to(self.cursor[0], self._slice.columns - 1 if end else 0)

    def action_corner(self, end: int) -> None:
        if end:
            self.move_to(self._slice.rows - 1, self._slice.columns - 1)
        else:
            self.move_to(0, 0)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or offset.x < self.gutter_width:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        column = (int(self.scroll_offset.x) + offset.x - self.gutter_width) // self.cell_width
        if row < self._slice.rows and column < self._slice.columns:
            self.move_to(row, column)

    # Styles and caches ---------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self.refresh()

    # Rendering -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        first, last = self._visible_columns(scroll_x)
        if y == 0:
            strip = self._header_strip(first, last)
        else:
            row = scroll_y + y - 1
            if row >= self._slice.rows:
                return Strip.blank(width, base)
            strip = self._row_strip(row, first, last, base)
        gutter_width = self.gutter_width
        offset = scroll_x - first * self.cell_width
        visible = self._whole_columns(strip.crop(gutter_width), offset, self._visible_cells_width(), base)
        return Strip.join([strip.crop(0, gutter_width), visible]).adjust_cell_length(width, base)

    def _whole_columns(self, columns: Strip, offset: int, visible_width: int, style: Style) -> Strip:
        """Return the ``visible_width`` cells of ``columns`` from ``offset``, with cut columns left blank.

        A number cut at the pane's edge misleads: -128 would read -1. When at least one column
        fits whole, the cut ones at either edge show as blanks.
        """
        cell_width = self.cell_width
        start = -(-offset // cell_width) * cell_width
        end = (offset + visible_width) // cell_width * cell_width
        if end <= start:
            return columns.crop(offset, offset + visible_width)
        whole = columns.crop(start, end)
        left = Strip.blank(start - offset, style)
        return Strip.join([left, whole]).adjust_cell_length(visible_width, style)

    def _visible_columns(self, scroll_x: int) -> tuple[int, int]:
        """Return the first column and one past the last that show at least one character.

        Only these are drawn: a 224-column slice at 120 terminal columns would otherwise build
        ten times the cells on screen for every changed row.
        """
        cell_width = self.cell_width
        first = min(scroll_x // cell_width, max(self._slice.columns - 1, 0))
        last = -(-(scroll_x + self._visible_cells_width()) // cell_width)
        return first, min(max(last, first + 1), self._slice.columns)

    def _header_strip(self, first: int, last: int) -> Strip:
        """Return the header of column indices: the gutter, then columns ``first`` to ``last − 1``."""
        cursor_column = self.cursor[1]
        key = ("header", self._slice.generation, cursor_column, self.has_focus, first, last)
        cached = self._line_cache.get(key)
        if cached is not None:
            return cached
        header = self.get_component_rich_style("tensor-grid--header")
        cursor = header + self.get_component_rich_style("tensor-grid--cursor")
        value_width = self._slice.value_width
        segments = [Segment(" " * self.gutter_width, header)]
        for column in range(first, last):
            label = f" {str(column).rjust(value_width)}" + (" " if self._slice.show_marks else "")
            segments.append(Segment(label, cursor if column == cursor_column else header))
        strip = Strip(segments)
        self._line_cache[key] = strip
        return strip

    def _row_strip(self, row: int, first: int, last: int, base: Style) -> Strip:
        """Return one row: the gutter, then the cells of columns ``first`` to ``last − 1``."""
        cursor_row, cursor_column = self.cursor
        on_row = cursor_column if row == cursor_row else -1
        key = (row, int(self._row_versions[row]), on_row, self._highlight_version, self.has_focus, self._slice.rows, first, last)
        cached = self._line_cache.get(key)
        if cached is None:
            cached = Strip(self._row_segments(row, on_row, first, last, base))
            self._line_cache[key] = cached
        return cached

    def _row_segments(self, row: int, cursor_column: int, first: int, last: int, base: Style) -> list[Segment]:
        style = self.get_component_rich_style
        gutter_style = style("tensor-grid--gutter")
        if cursor_column >= 0:
            gutter_style += style("tensor-grid--cursor")
        segments = [Segment(f"{str(row).rjust(self.gutter_width - 1)} ", gutter_style)]
        grid = self._slice
        value_width = grid.value_width
        texts = grid.row_texts(row, first, last)
        marks = grid.row_marks(row, first, last)
        saturated = grid.row_saturated(row, first, last)
        highlighted = [False] * (last - first) if self._highlight is None else self._highlight[row, first:last].tolist()
        # A few distinct styles per row: combine each once, not once per cell.
        cell_styles: dict[tuple[bool, int, bool], Style] = {}
        saturated_styles: dict[Style, Style] = {}
        for index, column in enumerate(range(first, last)):
            mark = marks[index]
            look = (highlighted[index], mark, column == cursor_column)
            cell_style = cell_styles.get(look)
            if cell_style is None:
                cell_style = cell_styles[look] = self._cell_style(base, *look)
            if saturated[index]:
                if cell_style not in saturated_styles:
                    saturated_styles[cell_style] = cell_style + style("tensor-grid--saturated")
                segments.append(Segment(SATURATED_CHARACTER, saturated_styles[cell_style]))
            else:
                segments.append(Segment(" ", cell_style))
            segments.append(Segment(texts[index].rjust(value_width), cell_style))
            if grid.show_marks:
                segments.append(Segment(MARK_CHARACTERS[mark], cell_style))
        return segments

    def _cell_style(self, base: Style, highlighted: bool, mark: int, is_cursor: bool) -> Style:
        style = self.get_component_rich_style
        cell = base
        if self._slice.values is None:
            cell += style("tensor-grid--placeholder")
        if highlighted:
            cell += style("tensor-grid--highlight")
        if mark == MARK_ONE_LSB:
            cell += style("tensor-grid--one-lsb")
        elif mark == MARK_LARGER:
            cell += style("tensor-grid--larger")
        if is_cursor:
            cell += style("tensor-grid--cursor")
        return cell
