"""Rich tables of 2-D integer or float slices, with differing cells marked."""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text

# A marked cell gets this suffix too, so that differences show without colour.
MARK = "*"

# Spaces between two grid columns: one cell of padding on each side.
_COLUMN_GAP = 2


def grid_table(
    values: np.ndarray,
    title: str,
    *,
    marked: np.ndarray | None = None,
    max_rows: int = 24,
    max_columns: int = 16,
    float_digits: int | None = None,
    max_width: int | None = None,
) -> Table:
    """Return a table of a 2-D slice, cut to ``max_rows`` × ``max_columns`` with a note.

    With ``max_width``, the table shows only as many columns as fit in that many characters,
    so that no number is cut, and the caption names the columns shown. It keeps one column
    even when that one does not fit.
    """
    rows, columns = values.shape
    shown_rows, shown_columns = min(rows, max_rows), min(columns, max_columns)
    texts = [[_cell_text(values[row, column], float_digits, marked, row, column) for column in range(shown_columns)] for row in range(shown_rows)]
    label_width = len(str(shown_rows - 1))
    widths = [max([len(str(column))] + [len(texts[row][column]) for row in range(shown_rows)]) for column in range(shown_columns)]
    narrowed = False
    if max_width is not None:
        fitting = _columns_that_fit(label_width, widths, max_width)
        narrowed = fitting < shown_columns
        shown_columns = fitting

    caption = None
    if (shown_rows, shown_columns) != (rows, columns):
        caption = f"rows 0–{shown_rows - 1} of {rows}, columns 0–{shown_columns - 1} of {columns}"
        if narrowed:
            caption += "; a wider terminal shows more columns"
    title_width = max(len(line) for line in title.splitlines())
    table = Table(
        title=title,
        caption=caption,
        min_width=title_width if max_width is None else min(title_width, max_width),
        show_header=True,
        header_style="dim",
        box=None,
        pad_edge=False,
        padding=(0, 1),
    )
    table.add_column("", style="dim", justify="right", no_wrap=True, min_width=label_width)
    for column in range(shown_columns):
        table.add_column(str(column), justify="right", no_wrap=True, min_width=widths[column])
    for row in range(shown_rows):
        cells = [Text(str(row))]
        for column in range(shown_columns):
            text = texts[row][column]
            if marked is not None and marked[row, column]:
                cells.append(Text(text, style="bold reverse"))
            else:
                cells.append(Text(text))
        table.add_row(*cells)
    return table


def _cell_text(value, float_digits: int | None, marked: np.ndarray | None, row: int, column: int) -> str:
    """Format one value; in a grid with marks, every value gets the mark or a space in its place."""
    text = f"{value:.{float_digits}f}" if float_digits is not None else str(int(value))
    if marked is None:
        return text
    return text + (MARK if marked[row, column] else " ")


def _columns_that_fit(label_width: int, widths: list[int], max_width: int) -> int:
    """Return how many leading columns fit in ``max_width`` next to the row labels, at least one."""
    used = label_width
    for count, width in enumerate(widths):
        used += _COLUMN_GAP + width
        if used > max_width:
            return max(count, 1)
    return len(widths)
