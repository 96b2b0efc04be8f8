"""Checks of single quantization parameters, shared by the scenario reader and the app.

Each check returns the accepted value, or a :class:`Problem` that names the field, the
value and what is allowed. The scenario reader collects the problems of a whole file; the
TUI shows one next to the field where the value was typed.
"""

from __future__ import annotations

import math

import numpy as np

from qdebug_tui.core.dtypes import QDtype
from qdebug_tui.io.errors import Problem, short_repr

FLOAT32_MIN_NORMAL = float(np.finfo(np.float32).tiny)
FLOAT32_MAX = float(np.finfo(np.float32).max)

# The scale that messages give as an example of a valid one.
EXAMPLE_SCALE = 0.0125


def type_name(value: object) -> str:
    """Return the JSON type of ``value`` with an article, for messages ("a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer(value: object) -> bool:
    """Return True for an int, or a finite float with no fractional part; booleans are not integers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def validate_scale(value: object, path: str) -> float | Problem:
    """Accept a finite scale > 0 in float32's normal range, as a float.

    A problem reports the value as given, so an integer 0 reads "0", not "0.0".
    """
    if not is_number(value):
        fix = f"give a positive number such as {EXAMPLE_SCALE}"
        return Problem(path, value, fix, f"{short_repr(value)} is not a number; {fix}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        return Problem(path, value, "expected a finite number > 0")
    if number <= 0:
        return Problem(path, value, "expected a number > 0; the scale is the real size of one quantization step")
    if number < FLOAT32_MIN_NORMAL or number > FLOAT32_MAX:
        return Problem(
            path,
            value,
            f"expected a scale within float32's normal range [{FLOAT32_MIN_NORMAL:.3g}, {FLOAT32_MAX:.3g}]; "
            "kernels compute with float32 scales",
        )
    return number


def validate_zero_point(value: object, path: str, dtype: QDtype) -> int | Problem:
    """Accept an integer zero point within ``dtype``'s range, as an int."""
    return validate_dtype_integer(value, path, dtype)


def validate_dtype_integer(value: object, path: str, dtype: QDtype) -> int | Problem:
    """Accept an integer within ``dtype``'s range, as an int: a zero point or one element of ``q``."""
    if not is_integer(value):
        return Problem(path, value, f"expected an integer in [{dtype.qmin}, {dtype.qmax}] for {dtype.name}, not {_non_integer_kind(value)}")
    if not dtype.qmin <= value <= dtype.qmax:
        return Problem(path, value, f"expected an integer in [{dtype.qmin}, {dtype.qmax}] for {dtype.name}")
    return int(value)


def _non_integer_kind(value: object) -> str:
    if not is_number(value):
        return type_name(value)
    return "a fraction" if math.isfinite(value) else "a finite number"
