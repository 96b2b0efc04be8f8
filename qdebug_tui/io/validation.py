"""Checks of single quantization parameters, shared by the scenario reader and the app.

Each check returns the accepted value, or a :class:`Problem` that names the field, the
value and what is allowed. The scenario reader collects the problems of a whole file; the
TUI shows one next to the field where the value was typed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qdebug_tui.core.dtypes import QDtype
from qdebug_tui.io.errors import Problem, short_repr

FLOAT32_MIN_NORMAL = float(np.finfo(np.float32).tiny)
FLOAT32_MAX = float(np.finfo(np.float32).max)

# The scale that messages give as an example of a valid one.
EXAMPLE_SCALE = 0.0125

# The smallest scale: float32's smallest normal number, because the kernels store scales as
# float32 and a subnormal scale loses precision.
MIN_SCALE = FLOAT32_MIN_NORMAL

# The largest scale. The float path sums products (q_x - z_x)·s_x · (q_w - z_w)·s_w in float32,
# and |q - z| <= 255, so one product is at most 255² · MAX_SCALE² = 6.5e24. A sum of up to
# 5e13 of them (the default tensor limit is 5e7 elements) stays below float32's maximum 3.4e38,
# where the float path would become inf and nan. Scale products that underflow are caught by
# validate_scale_combination.
MAX_SCALE = 1e10

SCALE_RANGE_TEXT = f"[{MIN_SCALE:.3g}, {MAX_SCALE:.0e}]".replace("e+", "e")


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
    """Accept a finite scale in [:data:`MIN_SCALE`, :data:`MAX_SCALE`], as a float.

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
        return Problem(path, value, f"expected a finite number in {SCALE_RANGE_TEXT}")
    if number <= 0:
        return Problem(path, value, "expected a number > 0; the scale is the real size of one quantization step")
    if number < MIN_SCALE:
        return Problem(path, value, f"expected a scale in {SCALE_RANGE_TEXT}; kernels compute with float32 scales")
    if number > MAX_SCALE:
        return Problem(
            path,
            value,
            f"expected a scale in {SCALE_RANGE_TEXT}; a larger scale overflows the float path's float32 sums",
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


def validate_scale_combination(
    input_scale: float, weight_scales: Sequence[float], output_scale: float, edited: tuple[str, object] | None = None
) -> Problem | None:
    """Check that the kernels' float32 scale products stay normal numbers.

    The kernels divide by ``f32(input.scale · weight.scale)`` and multiply the accumulator by
    ``f32(input.scale · weight.scale / output.scale)``. A product that underflows to 0 or
    overflows to inf turns the output into nan. ``edited`` is the path and
    value of the field just typed, which the problem names; without it, the problem names
    ``weight.scale`` for the product and ``output.scale`` for the multiplier.
    """
    with np.errstate(over="ignore", under="ignore"):
        products = np.float32(input_scale) * np.asarray(weight_scales, dtype=np.float32)
        multipliers = products / np.float32(output_scale)
    if not np.all((products >= FLOAT32_MIN_NORMAL) & (products <= FLOAT32_MAX)):
        path, value = edited or ("weight.scale", _listed(weight_scales))
        return Problem(
            path,
            value,
            f"input.scale × weight.scale = {input_scale * min(weight_scales):.3g} is below float32's smallest "
            f"normal number {FLOAT32_MIN_NORMAL:.3g}, and the kernels divide by it; choose larger scales",
        )
    outside = ~((multipliers >= FLOAT32_MIN_NORMAL) & (multipliers <= FLOAT32_MAX))
    if outside.any():
        path, value = edited or ("output.scale", output_scale)
        exact = float(products[np.argmax(outside)]) / output_scale
        return Problem(
            path,
            value,
            f"the requantization multiplier input.scale × weight.scale / output.scale = {exact:.3g} is outside "
            f"float32's normal range [{FLOAT32_MIN_NORMAL:.3g}, {FLOAT32_MAX:.3g}]; choose an output.scale "
            "closer to input.scale × weight.scale",
        )
    return None


def _listed(values: Sequence[float]) -> float | list[float]:
    return values[0] if len(values) == 1 else list(values)
