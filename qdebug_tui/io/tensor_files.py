"""Reading tensors from CSV and .npy files, with errors that point at the row and column.

Neither format can run code: .npy files load with ``allow_pickle=False`` and CSV cells are
parsed with ``float``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np


class TensorFileError(ValueError):
    """A tensor file that is missing, unreadable or malformed. The message names the place and the reason."""


def element_count(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def npy_shape(path: Path) -> tuple[int, ...]:
    """Read the shape from a .npy header without loading the data."""
    try:
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(handle)
    except OSError as error:
        raise TensorFileError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise TensorFileError(f"{path} is not a valid .npy file: {error}") from None
    return tuple(int(size) for size in shape)


def read_npy(path: Path) -> np.ndarray:
    """Load a numeric array from a .npy file; object arrays are rejected, never unpickled."""
    try:
        array = np.load(path, allow_pickle=False)
    except OSError as error:
        raise TensorFileError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise TensorFileError(f"{path} contains Python objects, which would need unpickling; save a numeric array instead (qdebug never unpickles)") from None
        raise TensorFileError(f"{path} is not a valid .npy file: {error}") from None
    if not isinstance(array, np.ndarray):
        raise TensorFileError(f"{path} is an .npz archive; save one array with numpy.save")
    if array.dtype.kind not in "iuf":
        raise TensorFileError(f"{path} has dtype {array.dtype}, which is invalid; save an integer or float array")
    return array


def read_csv(path: Path) -> np.ndarray:
    """Read a rectangular table of numbers (rows × columns) as float64.

    Cells are separated by commas; blank lines are skipped. A ragged row or a cell that is
    not a number raises :class:`TensorFileError` naming the row and column (1-based).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(_parse_rows(path, csv.reader(handle)))
    except OSError as error:
        raise TensorFileError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise TensorFileError(f"{path} is not UTF-8 text; save the table as a plain CSV file") from None
    except csv.Error as error:
        raise TensorFileError(f"{path} is not a valid CSV file: {error}") from None
    if not rows:
        raise TensorFileError(f"{path} has no numbers")
    return np.asarray(rows, dtype=np.float64)


def _parse_rows(path: Path, reader):
    width = None
    first_line = 0
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if cells and cells[-1] == "" and len(cells) > 1:
            cells = cells[:-1]  # a trailing comma
        values = []
        for column, cell in enumerate(cells, start=1):
            try:
                value = float(cell)
            except ValueError:
                raise TensorFileError(f"{path}: row {line}, column {column}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise TensorFileError(f"{path}: row {line}, column {column}: {cell!r} is not a finite number")
            values.append(value)
        if width is None:
            width, first_line = len(values), line
        elif len(values) != width:
            raise TensorFileError(
                f"{path}: row {line} has {len(values)} values but row {first_line} has {width}; every row needs the same number of columns"
            )
        yield values
