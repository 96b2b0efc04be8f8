"""The data of a tensor grid: one 2-D slice of values, formatted, with per-cell marks.

Headless, so that the formatting and marking rules are tested without a terminal. The
TUI's ``TensorGrid`` widget draws a :class:`GridSlice` and uses :meth:`GridSlice.row_changes`
to redraw only the rows that differ from the previous slice.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

# Marks of an output cell, by how far the quantized path is from the float path.
MARK_NONE = 0
MARK_ONE_LSB = 1
MARK_LARGER = 2

# The character after a value, so that differences show without colour.
MARK_CHARACTERS = {MARK_NONE: " ", MARK_ONE_LSB: "~", MARK_LARGER: "!"}
# The character before a value where the emulator saw an int16 pair saturate.
SATURATED_CHARACTER = "^"

_generations = itertools.count(1)


def difference_marks(diff: np.ndarray) -> np.ndarray:
    """Return MARK_NONE, MARK_ONE_LSB or MARK_LARGER for every cell of a difference in LSB."""
    magnitude = np.abs(np.asarray(diff, dtype=np.int64))
    marks = np.full(magnitude.shape, MARK_NONE, dtype=np.int8)
    marks[magnitude == 1] = MARK_ONE_LSB
    marks[magnitude >= 2] = MARK_LARGER
    return marks


@dataclass(frozen=True, eq=False)
class GridSlice:
    """A 2-D slice to draw: values, optional difference marks and saturation mask.

    ``show_marks`` False leaves out the column after each value that contains the difference
    mark, for input and weight grids.

    ``values`` is None when there is nothing to show yet (``placeholder`` fills each cell).
    ``generation`` changes with every new slice, so line caches keyed by it never serve a
    stale line.
    """

    values: np.ndarray | None
    shape: tuple[int, int]
    is_float: bool = False
    marks: np.ndarray | None = None
    saturated: np.ndarray | None = None
    placeholder: str = "…"
    show_marks: bool = True
    generation: int = field(default_factory=lambda: next(_generations))
    _texts: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.values is not None and self.values.shape != self.shape:
            raise ValueError(f"values have shape {self.values.shape}, expected {self.shape}")
        if self.values is not None and self.is_float:
            object.__setattr__(self, "_texts", np.char.mod("%.4g", self.values))

    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def columns(self) -> int:
        return self.shape[1]

    @cached_property
    def value_width(self) -> int:
        """Characters of the widest value, and at least as wide as the widest column index."""
        index_width = len(str(max(self.columns - 1, 0)))
        if self.values is None or self.values.size == 0:
            return max(index_width, len(self.placeholder))
        if self._texts is not None:
            widest = int(np.char.str_len(self._texts).max())
        else:
            widest = max(len(str(int(self.values.min()))), len(str(int(self.values.max()))))
        return max(widest, index_width)

    def text(self, row: int, column: int) -> str:
        """Return one cell's value as text, without marks."""
        if self.values is None:
            return self.placeholder
        if self._texts is not None:
            return str(self._texts[row, column])
        return str(int(self.values[row, column]))

    def row_texts(self, row: int, first: int, last: int) -> list[str]:
        """Return the texts of columns ``first`` to ``last − 1`` of one row, without marks."""
        if self.values is None:
            return [self.placeholder] * (last - first)
        if self._texts is not None:
            return [str(text) for text in self._texts[row, first:last].tolist()]
        return [str(int(value)) for value in self.values[row, first:last].tolist()]

    def row_marks(self, row: int, first: int, last: int) -> list[int]:
        """Return the difference marks of columns ``first`` to ``last − 1`` of one row."""
        if self.marks is None:
            return [MARK_NONE] * (last - first)
        return [int(mark) for mark in self.marks[row, first:last].tolist()]

    def row_saturated(self, row: int, first: int, last: int) -> list[bool]:
        """Return whether each of columns ``first`` to ``last − 1`` of one row saw saturation."""
        if self.saturated is None:
            return [False] * (last - first)
        return [bool(value) for value in self.saturated[row, first:last].tolist()]

    def mark(self, row: int, column: int) -> int:
        return MARK_NONE if self.marks is None else int(self.marks[row, column])

    def is_saturated(self, row: int, column: int) -> bool:
        return self.saturated is not None and bool(self.saturated[row, column])

    def row_changes(self, new: GridSlice) -> np.ndarray | None:
        """Return a per-row mask of the rows whose cells differ in ``new``.

        Returns None when every row must be redrawn: another shape, column width or kind.
        """
        same_layout = (
            new.shape == self.shape
            and new.value_width == self.value_width
            and new.is_float == self.is_float
            and (new.values is None) == (self.values is None)
            and new.placeholder == self.placeholder
            and new.show_marks == self.show_marks
        )
        if not same_layout:
            return None
        changed = np.zeros(self.rows, dtype=bool)
        if self.values is not None:
            old_cells = self._texts if self._texts is not None else self.values
            new_cells = new._texts if new._texts is not None else new.values
            changed |= _rows_differ(old_cells, new_cells)
        changed |= _rows_differ(_or_zeros(self.marks, self.shape), _or_zeros(new.marks, self.shape))
        changed |= _rows_differ(_or_zeros(self.saturated, self.shape), _or_zeros(new.saturated, self.shape))
        return changed


def _or_zeros(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, dtype=np.int8) if mask is None else mask.astype(np.int8)


def _rows_differ(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    return np.any(old != new, axis=1)
