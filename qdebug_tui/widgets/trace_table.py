"""A long table of trace rows on Textual's Line API: terms or int16 pairs of one output cell.

Only the lines on screen are formatted. Each row's ``Strip`` is cached in an LRU keyed by the
row, the table's generation and whether the row is the target of a jump. A title line, two
header lines and a caption line stay in place while the rows scroll, so the caption keeps
the totals in view.
A row of a saturated pair ends with ``^`` and a padding tap reads "padding", so both show
without colour.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from qdebug_tui.drilldown_tables import TableRows

# Enough for every line of several screens of the table.
LINE_CACHE_SIZE = 512
# Lines the table draws around its rows: the title, two header lines and the caption.
FRAME_LINES = 4
HEADER_LINES = 3
COLUMN_GAP = 1


class TraceTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of a :class:`TableRows`, drawn when they scroll into view.

    ``caption`` receives the first and last row on screen and returns the caption line.
    """

    COMPONENT_CLASSES = {
        "trace-table--title",
        "trace-table--header",
        "trace-table--caption",
        "trace-table--clipped",
        "trace-table--muted",
        "trace-table--target",
    }

    BINDINGS = [
        Binding("pageup", "page(-1)", "Page up", show=False, id="trace-table.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="trace-table.page-down"),
        Binding("home", "edge(0)", "First row", show=False, id="trace-table.first-row"),
        Binding("end", "edge(1)", "Last row", show=False, id="trace-table.last-row"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: TableRows | None = None
        self._title = ""
        self._caption: Callable[[int, int], str] = lambda first, last: ""
        self._generation = 0
        self._target: int | None = None
        self._line_cache: LRUCache[tuple, Strip] = LRUCache(LINE_CACHE_SIZE)

    # Data ----------------------------------------------------------------------------------

    @property
    def rows(self) -> TableRows | None:
        return self._rows

    def show(self, rows: TableRows, title: str, caption: Callable[[int, int], str]) -> None:
        """Draw ``rows`` from the first row, with ``title`` above them and ``caption`` under them."""
        self._rows = rows
        self._title = title
        self._caption = caption
        self._generation += 1
        self._target = None
        self._line_cache.clear()
        self.virtual_size = Size(self.content_width, rows.count + FRAME_LINES)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def content_width(self) -> int:
        if self._rows is None:
            return 0
        widths = self._rows.widths
        return sum(widths) + COLUMN_GAP * (len(widths) - 1)

    @property
    def visible_rows(self) -> tuple[int, int]:
        """Return the first and last row on screen; (0, -1) when the table is empty."""
        if self._rows is None or self._rows.count == 0:
            return 0, -1
        first = int(self.scroll_offset.y)
        last = min(first + self._row_lines() - 1, self._rows.count - 1)
        return first, last

    @property
    def target(self) -> int | None:
        """The row that the last jump showed, drawn highlighted."""
        return self._target

    def show_row(self, index: int) -> None:
        """Scroll ``index`` into view, a few rows from the top, and highlight it."""
        self._target = index
        self._line_cache.clear()
        self.scroll_to(y=max(index - 2, 0), animate=False, immediate=True)
        self.refresh()

    def _row_lines(self) -> int:
        return max(self.scrollable_content_region.height - FRAME_LINES, 1)

    # Actions -------------------------------------------------------------------------------

    def action_page(self, direction: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + direction * self._row_lines(), animate=False)

    def action_edge(self, end: int) -> None:
        self.scroll_to(y=self.max_scroll_y if end else 0, animate=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()

    # Rendering -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height
        base = self.rich_style
        if self._rows is None:
            return Strip.blank(width, base)
        scroll_x = int(self.scroll_offset.x)
        if y == 0:
            return self._text_line(self._title, "trace-table--title", width)
        if y < HEADER_LINES:
            strip = self._header_strip(y - 1)
        elif y == height - 1:
            return self._text_line(self._caption(*self.visible_rows), "trace-table--caption", width)
        else:
            row = int(self.scroll_offset.y) + y - HEADER_LINES
            if row >= self._rows.count:
                return Strip.blank(width, base)
            strip = self._row_strip(row)
        return strip.crop(scroll_x, scroll_x + width).adjust_cell_length(width, base)

    def _text_line(self, text: str, component: str, width: int) -> Strip:
        """Return a line that does not scroll sideways, such as the title or the caption."""
        style = self.rich_style + self.get_component_rich_style(component)
        return Strip([Segment(text, style)]).adjust_cell_length(width, self.rich_style)

    def _header_strip(self, line: int) -> Strip:
        key = ("header", line, self._generation)
        cached = self._line_cache.get(key)
        if cached is None:
            style = self.rich_style + self.get_component_rich_style("trace-table--header")
            texts = [pair[line] for pair in self._rows.headers]
            cached = Strip([Segment(self._join(texts), style)])
            self._line_cache[key] = cached
        return cached

    def _row_strip(self, row: int) -> Strip:
        key = (row, self._generation, row == self._target)
        cached = self._line_cache.get(key)
        if cached is None:
            cached = Strip([Segment(self._join(self._rows.row(row)), self._row_style(row))])
            self._line_cache[key] = cached
        return cached

    def _row_style(self, row: int) -> Style:
        style = self.rich_style
        component = self.get_component_rich_style
        if self._rows.muted[row]:
            style += component("trace-table--muted")
        if self._rows.marked[row]:
            style += component("trace-table--clipped")
        if row == self._target:
            style += component("trace-table--target")
        return style

    def _join(self, cells) -> str:
        """Right-align each cell in its column; the last column is the mark, left-aligned."""
        widths = self._rows.widths
        parts = [cell.rjust(width) for cell, width in zip(cells[:-1], widths[:-1])]
        parts.append(cells[-1].ljust(widths[-1]))
        return (" " * COLUMN_GAP).join(parts)
