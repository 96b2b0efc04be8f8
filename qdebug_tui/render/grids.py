"""Rich tables of 2-D integer or float slices, with differing cells marked."""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text

# A marked cell gets this suffix too, so that differences show without colour.
MARK = "*"


def grid_table(
    values: np.ndarray,
    title: str,
    *,
    marked: np.ndarray | None = None,
    max_rows: int = 24,
    max_columns: int = 16,
    float_digits: int | None = None,
) -> Table:
    """Return a table of a 2-D slice, cut to ``max_rows`` × ``max_columns`` with a note."""
    rows, columns = values.shape
    shown_rows, shown_columns = min(rows, max_rows), min(columns, max_columns)
    caption = None
    if (shown_rows, shown_columns) != (rows, columns):
        caption = f"rows 0–{shown_rows - 1} of {rows}, columns 0–{shown_columns - 1} of {columns}"
    title_width = max(len(line) for line in title.splitlines())
    table = Table(
        title=title,
        caption=caption,
        min_width=title_width,
        show_header=True,
        header_style="dim",
        box=None,
        pad_edge=False,
        padding=(0, 1),
    )
    table.add_column("", style="dim", justify="right")
    for column in range(shown_columns):
        table.add_column(str(column), justify="right")
    for row in range(shown_rows):
        cells = [Text(str(row))]
        for column in range(shown_columns):
            value = values[row, column]
            text = f"{value:.{float_digits}f}" if float_digits is not None else str(int(value))
            if marked is not None and marked[row, column]:
                cells.append(Text(text + MARK, style="bold reverse"))
            else:
                cells.append(Text(text + " " if marked is not None else text))
        table.add_row(*cells)
    return table
