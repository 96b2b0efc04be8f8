"""The drill-down screen's two long tables, formatted one row at a time.

A receptive field can hold 50,000 terms, so the tables never format every row up front:
:class:`TableRows` contains the column widths, computed from the value ranges and the tensor
shapes, and formats a row when the screen draws it. Headless; the cells come from
:mod:`qdebug_tui.trace.text_rows`, as in ``qdebug explain``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.trace import text_rows
from qdebug_tui.trace.model import CellTrace

# Marks a row whose int16 pair sum saturated, so that it shows without colour.
CLIPPED_MARK = "^"

# Two header lines per column of the terms table: the names of text_rows.TERM_COLUMNS,
# broken so that the table fits in 80 columns, then the running sum and the clip mark.
TERM_HEADERS = (
    ("slot", ""),
    ("input", "index"),
    ("q_x", ""),
    ("q_x −", "z_x"),
    ("weight", "index"),
    ("q_w", ""),
    ("q_w −", "z_w"),
    ("product", ""),
    ("running", "sum"),
    (CLIPPED_MARK, ""),
)

PAIR_HEADERS = (
    ("pair", ""),
    ("slots", ""),
    ("raw products", "A·W + A·W"),
    ("exact", "sum"),
    ("int16", "sum"),
    ("clipped", "by"),
    (CLIPPED_MARK, ""),
)


@dataclass(frozen=True)
class TableRows:
    """A table whose rows are formatted on request.

    ``widths`` fit every row and both header lines. ``marked`` is True on rows that belong to
    a saturated pair; ``muted`` on rows to draw dimmed (padding taps).
    """

    headers: tuple[tuple[str, str], ...]
    widths: tuple[int, ...]
    count: int
    format_row: Callable[[int], tuple[str, ...]]
    marked: np.ndarray
    muted: np.ndarray

    def row(self, index: int) -> tuple[str, ...]:
        return self.format_row(index)


def term_rows(trace: CellTrace, input_shape: tuple[int, ...], weight_shape: tuple[int, ...]) -> TableRows:
    """Return the terms in the kernel's K order with their running sum and clip marks.

    The widths of the value columns come from the dtype ranges of quint8 inputs and qint8
    weights, the only ones the kernels accept. Those of the index columns come from the
    tensor shapes. So no row is formatted before it is drawn.
    """
    terms = trace.terms
    count = len(terms)
    running = text_rows.running_sums(trace)
    clipped_slots = {slot for pair in trace.backend.pairs if pair.clipped_by for slot in pair.slots}
    marked = np.fromiter((term.slot in clipped_slots for term in terms), dtype=bool, count=count)
    padding = np.fromiter((term.input_index is None for term in terms), dtype=bool, count=count)

    def format_row(index: int) -> tuple[str, ...]:
        return (*text_rows.term_cells(terms[index]), str(int(running[index])), CLIPPED_MARK if marked[index] else "")

    x_span = QUINT8.qmax - QUINT8.qmin
    w_span = QINT8.qmax - QINT8.qmin
    data_widths = (
        _int_width(np.array([terms[-1].slot if terms else 0])),
        max(_shape_index_width(input_shape), len(text_rows.PADDING_TEXT) if padding.any() else 0),
        _int_width(np.array([QUINT8.qmin, QUINT8.qmax])),
        _int_width(np.array([-x_span, x_span])),
        _shape_index_width(weight_shape),
        _int_width(np.array([QINT8.qmin, QINT8.qmax])),
        _int_width(np.array([-w_span, w_span])),
        _int_width(np.array([-x_span * w_span, x_span * w_span])),
        _int_width(running),
        len(CLIPPED_MARK),
    )
    return TableRows(TERM_HEADERS, _fit_headers(TERM_HEADERS, data_widths), count, format_row, marked, padding)


def pair_rows(trace: CellTrace) -> TableRows:
    """Return the kernel's raw-product pairs with their exact and int16 sums."""
    pairs = trace.backend.pairs
    count = len(pairs)
    marked = np.fromiter((pair.clipped_by != 0 for pair in pairs), dtype=bool, count=count)

    def format_row(index: int) -> tuple[str, ...]:
        pair = pairs[index]
        clipped = f"{pair.clipped_by:+d}" if pair.clipped_by else ""
        return (
            str(index), f"{pair.slots[0]},{pair.slots[1]}", text_rows.pair_expression(pair), str(pair.exact),
            str(pair.saturated), clipped, CLIPPED_MARK if marked[index] else "",
        )

    def column(values) -> np.ndarray:
        return np.fromiter(values, dtype=np.int64, count=count)

    activations = np.fromiter((a for pair in pairs for a in pair.activations), dtype=np.int64, count=2 * count)
    weights = np.fromiter((w for pair in pairs for w in pair.weights), dtype=np.int64, count=2 * count)
    # "a·(w) + a·(w)": two activations, two weights and nine characters of operators.
    expression = 2 * (_int_width(activations) + _int_width(weights)) + 9
    data_widths = (
        _int_width(np.array([max(count - 1, 0)])),
        _int_width(column(pair.slots[1] for pair in pairs)) * 2 + 1,
        expression,
        _int_width(column(pair.exact for pair in pairs)),
        _int_width(column(pair.saturated for pair in pairs)),
        _int_width(column(pair.clipped_by for pair in pairs)) + 1,
        len(CLIPPED_MARK),
    )
    return TableRows(PAIR_HEADERS, _fit_headers(PAIR_HEADERS, data_widths), count, format_row, marked, np.zeros(count, dtype=bool))


def clipped_rows(rows: TableRows) -> np.ndarray:
    """Return the indices of the marked rows, in order."""
    return np.flatnonzero(rows.marked)


def _int_width(values: np.ndarray) -> int:
    """Return the characters the widest of ``values`` takes in decimal, sign included."""
    if values.size == 0:
        return 1
    return max(len(str(int(values.min()))), len(str(int(values.max()))))


def _shape_index_width(shape: tuple[int, ...]) -> int:
    """Return the width of the longest comma-separated index into a tensor of ``shape``."""
    return sum(len(str(max(size - 1, 0))) for size in shape) + len(shape) - 1


def _fit_headers(headers: tuple[tuple[str, str], ...], data_widths: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(max(width, len(top), len(bottom)) for (top, bottom), width in zip(headers, data_widths))
