"""Scenario files, format version 1: load with full validation, and write back.

Loading never runs code from the file: JSON is parsed with :mod:`json`, tensor files are CSV
text or .npy arrays read without pickle. Every mistake becomes a :class:`Problem` that names
the JSON path of the field, the value and what is allowed. All problems found are raised
together in one :class:`ScenarioError`. The format is documented in docs/scenario-format.md.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from pathlib import Path

import numpy as np

from qdebug_tui.core.dtypes import DTYPES, INT32_MAX, QINT8, QUINT8, QDtype
from qdebug_tui.core.layers import LAYER_KINDS, Layer, output_shape, shape_problems
from qdebug_tui.core.scenario import (
    ENGINES,
    BiasTensor,
    OutputQuant,
    QuantizedTensor,
    QuantParams,
    Scenario,
    TensorSource,
)
from qdebug_tui.io.errors import Problem, ScenarioError
from qdebug_tui.io.tensor_files import TensorFileError, element_count, npy_shape, read_csv, read_npy
from qdebug_tui.io.validation import FLOAT32_MAX as _FLOAT32_MAX
from qdebug_tui.io.validation import is_integer as _is_integer
from qdebug_tui.io.validation import is_number as _is_number
from qdebug_tui.io.validation import type_name as _type_name
from qdebug_tui.io.validation import validate_scale, validate_scale_combination, validate_zero_point
from qdebug_tui.numerics.rounding import quantize_zero_point_first

FORMAT_NAME = "qdebug-scenario"
FORMAT_VERSION = 1

# The fix that a message on fractional integers gives; ``qdebug new`` names its flag instead.
REAL_VALUES_HINT = '(use "real" for real values)'

DEFAULT_MAX_ELEMENTS = 50_000_000
MAX_ELEMENTS_VARIABLE = "QDEBUG_MAX_ELEMENTS"

TOP_LEVEL_KEYS = ("format", "version", "name", "description", "layer", "input", "weight", "bias", "output", "engine")
REQUIRED_TOP_LEVEL = ("format", "version", "name", "layer", "input", "weight", "output", "engine")


class _StopReading(Exception):
    """Raised inside the reader when a problem makes the rest of a field unreadable."""


def max_elements_setting() -> int:
    """Return the tensor size limit: ``QDEBUG_MAX_ELEMENTS`` if set, else 50 million."""
    text = os.environ.get(MAX_ELEMENTS_VARIABLE, "")
    try:
        return int(text) if text.strip() else DEFAULT_MAX_ELEMENTS
    except ValueError:
        return DEFAULT_MAX_ELEMENTS


def load_scenario(path: str | os.PathLike, *, max_elements: int | None = None) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` listing every problem."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(source, [_file_problem(source, "the file does not exist; check the path")]) from None
    except IsADirectoryError:
        raise ScenarioError(source, [_file_problem(source, "this is a folder; give the path of a scenario .json file")]) from None
    except UnicodeDecodeError:
        raise ScenarioError(source, [_file_problem(source, "the file is not UTF-8 text; a scenario is a JSON file")]) from None
    except OSError as error:
        raise ScenarioError(source, [_file_problem(source, f"the file cannot be read: {error.strerror or error}")]) from None
    except ValueError as error:
        # A path with a NUL byte or a character the file system cannot encode.
        raise ScenarioError(source, [_file_problem(source, f"the path is invalid: {error}")]) from None
    return parse_scenario(text, source=source, base_dir=path.parent, max_elements=max_elements, origin=path)


def _file_problem(source: str, statement: str) -> Problem:
    return Problem("", source, statement, statement)


def parse_scenario(
    text: str,
    *,
    source: str = "<scenario>",
    base_dir: Path | None = None,
    max_elements: int | None = None,
    origin: Path | None = None,
) -> Scenario:
    """Validate the JSON text of a scenario; tensor file paths resolve against ``base_dir``."""
    try:
        document = json.loads(text, object_pairs_hook=_JsonObject.from_pairs)
    except json.JSONDecodeError as error:
        position = f"line {error.lineno}, column {error.colno}"
        # Some of json's reasons end in " at" or " starting at", because json appends the position.
        reason = error.msg.removesuffix(" at").removesuffix(" starting")
        statement = f"malformed JSON at {position}: {reason}; fix the file's syntax"
        raise ScenarioError(source, [Problem("", position, "fix the file's syntax", statement)]) from None
    except RecursionError:
        statement = "malformed JSON: lists or objects are nested too deeply to parse; flatten the file"
        raise ScenarioError(source, [Problem("", "nesting", "flatten the file", statement)]) from None
    reader = _Reader(source, base_dir or Path.cwd(), max_elements or max_elements_setting())
    return reader.read(document, origin)


class _JsonObject(dict):
    """A JSON object that remembers keys given more than once (``json`` keeps the last)."""

    duplicates: list[str]

    @classmethod
    def from_pairs(cls, pairs):
        obj = cls()
        obj.duplicates = []
        for key, value in pairs:
            if key in obj:
                obj.duplicates.append(key)
            obj[key] = value
        return obj


def _count(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


class _Reader:
    """Walks a parsed scenario document, collecting problems and building the model."""

    def __init__(self, source: str, base_dir: Path, max_elements: int):
        self.source = source
        self.base_dir = base_dir
        self.max_elements = max_elements
        self.problems: list[Problem] = []

    # Reporting -----------------------------------------------------------------------------

    def problem(self, path: str, value: object, expected: str) -> None:
        self.problems.append(Problem(path, value, expected))

    def fail(self) -> None:
        if self.problems:
            raise ScenarioError(self.source, self.problems)

    # Whole document ------------------------------------------------------------------------

    def read(self, document: object, origin: Path | None) -> Scenario:
        if not isinstance(document, dict):
            self.problem("", _type_name(document), f'a scenario is a JSON object with "format": "{FORMAT_NAME}"')
            self.fail()
        self.check_keys(document, "", REQUIRED_TOP_LEVEL, TOP_LEVEL_KEYS)
        fmt = document.get("format")
        if "format" in document and fmt != FORMAT_NAME:
            self.problem("format", fmt, f'expected "{FORMAT_NAME}"; this file is not a qdebug scenario')
            self.fail()
        version = document.get("version")
        if "version" in document and version != FORMAT_VERSION:
            if _is_integer(version) and version > FORMAT_VERSION:
                self.problem("version", version, f"this qdebug reads version {FORMAT_VERSION}; upgrade qdebug to read it")
            else:
                self.problem("version", version, f"expected {FORMAT_VERSION}")
        name = self.string(document, "name", "", required=True)
        description = self.string(document, "description", "", required=False)
        engine = self.choice(document, "engine", "", ENGINES)

        layer = self.layer(document.get("layer"), "layer") if "layer" in document else None
        input_tensor = self.quantized_tensor(document.get("input"), "input", QUINT8, layer) if "input" in document else None
        weight = self.quantized_tensor(document.get("weight"), "weight", QINT8, layer) if "weight" in document else None
        bias = self.bias(document.get("bias"), "bias") if "bias" in document else None
        output = self.output(document.get("output"), "output") if "output" in document else None
        self.fail()

        self.check_shapes(layer, input_tensor, weight, bias)
        combination = validate_scale_combination(
            input_tensor.qparams.scales[0], weight.qparams.scales, output.scale
        )
        if combination is not None:
            self.problems.append(combination)
        self.fail()
        return Scenario(
            name=name,
            description=description,
            layer=layer,
            input=input_tensor,
            weight=weight,
            bias=bias,
            output=output,
            engine=engine,
            path=origin,
        )

    def check_shapes(self, layer, input_tensor, weight, bias) -> None:
        bias_shape = None if bias is None else tuple(bias.values.shape)
        for path, value, expected in shape_problems(layer, input_tensor.shape, weight.shape, bias_shape):
            self.problem(path, value, expected)
        if self.problems:
            return
        cells = element_count(output_shape(layer, input_tensor.shape, weight.shape))
        if cells > self.max_elements:
            self.problem("output", cells, self.size_limit_text("output cells"))
        if layer.is_conv:
            padded = input_tensor.shape[:2] + tuple(size + 2 * pad for size, pad in zip(input_tensor.shape[2:], layer.padding))
            if element_count(padded) > self.max_elements:
                self.problem("layer.padding", list(layer.padding), self.size_limit_text("elements in the padded input"))

    # Generic fields ------------------------------------------------------------------------

    def check_keys(self, obj: dict, path: str, required: tuple[str, ...], allowed: tuple[str, ...]) -> None:
        prefix = f"{path}." if path else ""
        for key in getattr(obj, "duplicates", []):
            self.problem(f"{prefix}{key}", key, "this key appears more than once; keep one")
        for key in required:
            if key not in obj:
                self.problem(f"{prefix}{key}", "missing", "this field is required")
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f'; did you mean "{close[0]}"?' if close else f"; allowed fields: {', '.join(allowed)}"
                self.problem(f"{prefix}{key}", key, f"unknown field{hint}")

    def object(self, value: object, path: str) -> dict | None:
        if isinstance(value, dict):
            return value
        self.problem(path, value, f"expected a JSON object, not {_type_name(value)}")
        return None

    def string(self, obj: dict, key: str, path: str, *, required: bool) -> str:
        where = f"{path}.{key}" if path else key
        if key not in obj:
            return ""
        value = obj[key]
        if not isinstance(value, str):
            self.problem(where, value, f"expected a string, not {_type_name(value)}")
            return ""
        if required and not value.strip():
            self.problem(where, value, "expected a non-empty string")
        return value

    def choice(self, obj: dict, key: str, path: str, allowed: tuple[str, ...] | list[str], *, hint: str = "") -> str:
        where = f"{path}.{key}" if path else key
        value = obj.get(key)
        if key in obj and value not in allowed:
            listed = ", ".join(f'"{item}"' for item in allowed)
            self.problem(where, value, f"expected one of {listed}{hint}")
        return value if value in allowed else allowed[0]

    def integer(self, value: object, path: str, minimum: int, maximum: int = INT32_MAX) -> int:
        if not _is_integer(value):
            self.problem(path, value, f"expected an integer ≥ {minimum}, not {_type_name(value)}")
            return minimum
        if not minimum <= value <= maximum:
            self.problem(path, value, f"expected an integer in [{minimum}, {maximum}]")
            return minimum
        return int(value)

    def size_limit_text(self, what: str) -> str:
        return (
            f"more than {self.max_elements:,} {what}, the size limit; to raise it, set the environment "
            f"variable {MAX_ELEMENTS_VARIABLE} or pass --max-elements"
        )

    # Layer ---------------------------------------------------------------------------------

    def layer(self, value: object, path: str) -> Layer | None:
        obj = self.object(value, path)
        if obj is None:
            return None
        kind = obj.get("kind")
        if "kind" not in obj:
            self.problem(f"{path}.kind", "missing", f"this field is required; one of {', '.join(LAYER_KINDS)}")
            return None
        if not isinstance(kind, str) or kind not in LAYER_KINDS:
            self.problem(f"{path}.kind", kind, f"expected one of {', '.join(repr(k) for k in LAYER_KINDS)}")
            return None
        dims = LAYER_KINDS[kind]
        if dims == 0:
            self.check_keys(obj, path, ("kind",), ("kind", "relu"))
            return Layer(kind, relu=self.boolean(obj, "relu", path))
        transposed = kind.startswith("conv_transpose")
        allowed = ("kind", "stride", "padding", "dilation", "groups", "relu") + (("output_padding",) if transposed else ())
        self.check_keys(obj, path, ("kind",), allowed)
        relu = self.boolean(obj, "relu", path)
        if transposed and relu:
            self.problem(f"{path}.relu", True, "expected false: PyTorch has no quantized transposed conv with fused ReLU")
        return Layer(
            kind,
            stride=self.per_dimension(obj, "stride", path, dims, 1, 1),
            padding=self.per_dimension(obj, "padding", path, dims, 0, 0),
            dilation=self.per_dimension(obj, "dilation", path, dims, 1, 1),
            groups=self.integer(obj["groups"], f"{path}.groups", 1) if "groups" in obj else 1,
            relu=relu,
            output_padding=self.per_dimension(obj, "output_padding", path, dims, 0, 0),
        )

    def boolean(self, obj: dict, key: str, path: str) -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            self.problem(f"{path}.{key}", value, "expected true or false")
            return False
        return value

    def per_dimension(self, obj: dict, key: str, path: str, dims: int, default: int, minimum: int) -> tuple[int, ...]:
        where = f"{path}.{key}"
        value = obj.get(key, default)
        if isinstance(value, list):
            if len(value) != dims:
                self.problem(where, value, f"expected one integer or a list of {dims} (one per spatial dimension)")
                return (default,) * dims
            return tuple(self.integer(item, f"{where}[{i}]", minimum) for i, item in enumerate(value))
        return (self.integer(value, where, minimum),) * dims

    # Quantization parameters ---------------------------------------------------------------

    def scale(self, value: object, path: str) -> float:
        checked = validate_scale(value, path)
        if isinstance(checked, Problem):
            self.problems.append(checked)
            return 1.0
        return checked

    def zero_point(self, value: object, path: str, dtype: QDtype) -> int:
        checked = validate_zero_point(value, path, dtype)
        if isinstance(checked, Problem):
            self.problems.append(checked)
            return max(dtype.qmin, 0)
        return checked

    def dtype(self, obj: dict, path: str, allowed: tuple[QDtype, ...], hint: str = "") -> QDtype:
        where = f"{path}.dtype"
        if "dtype" not in obj:
            self.problem(where, "missing", f'this field is required; expected "{allowed[0].name}"')
            return allowed[0]
        value = obj["dtype"]
        names = [dtype.name for dtype in allowed]
        if value not in names:
            listed = " or ".join(f'"{name}"' for name in names)
            self.problem(where, value, f"expected {listed}{hint}")
            return allowed[0]
        return DTYPES[value]

    def output(self, value: object, path: str) -> OutputQuant | None:
        obj = self.object(value, path)
        if obj is None:
            return None
        self.check_keys(obj, path, ("dtype", "scale", "zero_point"), ("dtype", "scale", "zero_point"))
        dtype = self.dtype(obj, path, (QUINT8, QINT8))
        scale = self.scale(obj["scale"], f"{path}.scale") if "scale" in obj else 1.0
        zero_point = self.zero_point(obj["zero_point"], f"{path}.zero_point", dtype) if "zero_point" in obj else 0
        return OutputQuant(dtype, scale, zero_point)

    def qparams(self, obj: dict, path: str, dtype: QDtype, channel_axis: int | None, channels: int | None) -> QuantParams:
        """Read scale and zero_point; ``channel_axis`` is None where only per-tensor is allowed."""
        scale_value = obj.get("scale", 1.0)
        zero_value = obj.get("zero_point", 0)
        per_channel = isinstance(scale_value, list) or isinstance(zero_value, list)
        if not per_channel:
            if "axis" in obj:
                self.problem(f"{path}.axis", obj["axis"], "axis applies only to per-channel lists of scale and zero_point; remove it")
            return QuantParams((self.scale(scale_value, f"{path}.scale"),), (self.zero_point(zero_value, f"{path}.zero_point", dtype),))
        if channel_axis is None:
            bad = "scale" if isinstance(scale_value, list) else "zero_point"
            self.problem(f"{path}.{bad}", obj[bad], "expected one number: activations are quantized per tensor")
            return QuantParams((1.0,), (0,))
        axis = obj.get("axis", channel_axis)
        if axis != channel_axis or not _is_integer(axis):
            self.problem(f"{path}.axis", axis, f"expected {channel_axis}, the weight's output-channel axis for this layer kind")
        scales = self.channel_list(scale_value, f"{path}.scale", channels, self.scale, channel_axis)
        zero_points = self.channel_list(zero_value, f"{path}.zero_point", channels, lambda v, p: self.zero_point(v, p, dtype), channel_axis)
        return QuantParams(tuple(scales), tuple(zero_points), channel_axis)

    def channel_list(self, value: object, path: str, count: int | None, check, axis: int) -> list:
        if not isinstance(value, list):
            return [check(value, path)] * (count or 1)
        if count is None:
            return [check(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if len(value) != count:
            self.problem(path, value, f"expected a list of {count} values, one per output channel (weight dimension {axis} has {count})")
            return [check(value[0], f"{path}[0]") if value else 1] * count
        return [check(item, f"{path}[{i}]") for i, item in enumerate(value)]

    # Tensors -------------------------------------------------------------------------------

    def quantized_tensor(self, value: object, path: str, dtype_default: QDtype, layer: Layer | None) -> QuantizedTensor | None:
        obj = self.object(value, path)
        if obj is None:
            return None
        is_weight = path == "weight"
        allowed = ("dtype", "scale", "zero_point", "q", "real") + (("axis",) if is_weight else ())
        self.check_keys(obj, path, ("dtype", "scale", "zero_point"), allowed)
        hint = "" if is_weight else "; no PyTorch CPU engine accepts qint8 activations"
        dtype = self.dtype(obj, path, (dtype_default,), hint)
        if ("q" in obj) == ("real" in obj):
            self.problem(path, "both" if "q" in obj else "neither", 'give exactly one of "q" (integers) or "real" (real values, quantized on load)')
            return None
        content = "q" if "q" in obj else "real"
        values, source = self.tensor(obj[content], f"{path}.{content}", content)
        channel_axis = (layer.weight_channel_axis if layer is not None else 0) if is_weight else None
        if values is None:
            self.qparams(obj, path, dtype, channel_axis, None)
            return None
        channels = values.shape[channel_axis] if channel_axis is not None and values.ndim > channel_axis else None
        qparams = self.qparams(obj, path, dtype, channel_axis, channels)
        if qparams.per_channel and channels is None:
            self.problem(f"{path}.scale", obj.get("scale"), f"per-channel lists need a weight with a dimension {channel_axis}")
            return None
        if qparams.per_channel and layer is not None and layer.is_transposed and layer.groups > 1:
            self.problem(f"{path}.scale", obj.get("scale"), "expected one number: qdebug supports per-channel transposed conv weights only with groups 1")
            return None
        if content == "q":
            q = self.integers(values, f"{path}.q", dtype, source)
            real = None
        else:
            if not self.fits_float32(values, f"{path}.real", source):
                return None
            scales = qparams.broadcast(qparams.scale_array(), values.ndim)
            zero_points = qparams.broadcast(qparams.zero_point_array(), values.ndim)
            real = values.astype(np.float32)
            q = quantize_zero_point_first(real, scales, zero_points, dtype)
        if q is None:
            return None
        return QuantizedTensor(dtype, qparams, q.astype(dtype.storage), source, real)

    def integers(self, values: np.ndarray, path: str, dtype: QDtype, source: TensorSource) -> np.ndarray | None:
        fractional = values != np.floor(values)
        if fractional.any():
            index = tuple(int(i) for i in np.argwhere(fractional)[0])
            self.problem(self.element_path(path, index, source), float(values[index]), f"expected an integer; {_count(int(fractional.sum()), 'value has', 'values have')} a fractional part {REAL_VALUES_HINT}")
            return None
        outside = ~dtype.contains(values)
        if outside.any():
            index = tuple(int(i) for i in np.argwhere(outside)[0])
            self.problem(
                self.element_path(path, index, source),
                int(values[index]),
                f"expected an integer in [{dtype.qmin}, {dtype.qmax}] for {dtype.name}; {_count(int(outside.sum()), 'value is', 'values are')} outside",
            )
            return None
        return values.astype(np.int64)

    @staticmethod
    def element_path(path: str, index: tuple[int, ...], source: TensorSource) -> str:
        if source.kind == "inline":
            return path + "".join(f"[{i}]" for i in index)
        return f"{path} ({source.file}, element {list(index)})"

    def bias(self, value: object, path: str) -> BiasTensor | None:
        if value is None:
            return None
        values, source = self.tensor(value, path, "real")
        if values is None or not self.fits_float32(values, path, source):
            return None
        return BiasTensor(values.astype(np.float32), source)

    def fits_float32(self, values: np.ndarray, path: str, source: TensorSource) -> bool:
        """Check that real values stay finite in float32, the dtype the float path uses."""
        outside = np.abs(values) > _FLOAT32_MAX
        if not outside.any():
            return True
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        self.problem(self.element_path(path, index, source), float(values[index]), f"expected a real value within float32's range, ±{_FLOAT32_MAX:.4g}")
        return False

    def tensor(self, value: object, path: str, content: str) -> tuple[np.ndarray | None, TensorSource]:
        """Read a nested list or a file reference as float64; None after a problem."""
        try:
            if isinstance(value, list):
                return self.nested_list(value, path), TensorSource("inline", content)
            if isinstance(value, dict):
                return self.file_tensor(value, path, content)
            self.problem(path, value, 'expected a nested list of numbers or {"file": "name.npy"} / {"file": "name.csv", "shape": [...]}')
        except _StopReading:
            pass
        return None, TensorSource("inline", content)

    def nested_list(self, value: list, path: str) -> np.ndarray:
        shape = []
        probe: object = value
        while isinstance(probe, list):
            shape.append(len(probe))
            if not probe:
                break
            probe = probe[0]
        if 0 in shape:
            self.problem(path, value, "expected a non-empty nested list")
            raise _StopReading
        if element_count(tuple(shape)) > self.max_elements:
            self.problem(path, shape, self.size_limit_text("elements"))
            raise _StopReading
        flat: list[float] = []
        self.walk(value, shape, 0, path, flat)
        return np.asarray(flat, dtype=np.float64).reshape(shape)

    def walk(self, node: object, shape: list[int], depth: int, path: str, flat: list) -> None:
        if depth == len(shape):
            if not _is_number(node):
                self.problem(path, node, f"expected a number, not {_type_name(node)}")
                raise _StopReading
            if isinstance(node, int) and abs(node) > 2**53:
                self.problem(path, node, "the number is too large")
                raise _StopReading
            if not math.isfinite(node):
                self.problem(path, node, "expected a finite number")
                raise _StopReading
            flat.append(node)
            return
        if not isinstance(node, list) or len(node) != shape[depth]:
            found = f"a list of {len(node)}" if isinstance(node, list) else _type_name(node)
            self.problem(path, node, f"the nested list is ragged: expected a list of {shape[depth]} here, as in its first sibling, not {found}")
            raise _StopReading
        for i, child in enumerate(node):
            self.walk(child, shape, depth + 1, f"{path}[{i}]", flat)

    def file_tensor(self, obj: dict, path: str, content: str) -> tuple[np.ndarray | None, TensorSource]:
        self.check_keys(obj, path, ("file",), ("file", "shape"))
        name = obj.get("file")
        if not isinstance(name, str) or not name:
            self.problem(f"{path}.file", name, "expected a file name ending in .npy or .csv, relative to the scenario's folder")
            raise _StopReading
        shape = self.shape(obj, path) if "shape" in obj else None
        file = self.base_dir / name
        suffix = file.suffix.lower()
        if suffix not in (".npy", ".csv"):
            self.problem(f"{path}.file", name, "expected a .npy or .csv file")
            raise _StopReading
        if not file.exists():
            self.problem(f"{path}.file", name, f"the file does not exist (looked for {file}); paths are relative to the scenario's folder")
            raise _StopReading
        if shape is not None and element_count(shape) > self.max_elements:
            self.problem(f"{path}.shape", list(shape), self.size_limit_text("elements"))
            raise _StopReading
        try:
            values = self.read_file(file, suffix, path)
        except TensorFileError as error:
            self.problem(f"{path}.file", name, str(error))
            raise _StopReading from None
        source = TensorSource(suffix[1:], content, name, shape)
        if shape is not None:
            if values.size != element_count(shape):
                self.problem(
                    f"{path}.shape",
                    list(shape),
                    f"{name} contains {values.size} numbers (shape {list(values.shape)}) but this shape needs {element_count(shape)}",
                )
                raise _StopReading
            values = values.reshape(shape)
        return values, source

    def read_file(self, file: Path, suffix: str, path: str) -> np.ndarray:
        if suffix == ".npy":
            header_shape = npy_shape(file)
            if element_count(header_shape) > self.max_elements:
                self.problem(f"{path}.file", file.name, self.size_limit_text("elements"))
                raise _StopReading
            values = read_npy(file).astype(np.float64)
            if not np.isfinite(values).all():
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
                raise TensorFileError(f"{file}: element {list(index)} is {values[index]}, not a finite number")
            return values
        # A CSV number takes at least two bytes ("0,"), which bounds the count before parsing.
        if file.stat().st_size // 2 > self.max_elements:
            self.problem(f"{path}.file", file.name, self.size_limit_text("elements"))
            raise _StopReading
        values = read_csv(file)
        if values.size > self.max_elements:
            self.problem(f"{path}.file", file.name, self.size_limit_text("elements"))
            raise _StopReading
        return values

    def shape(self, obj: dict, path: str) -> tuple[int, ...]:
        value = obj["shape"]
        if not isinstance(value, list) or not value:
            self.problem(f"{path}.shape", value, "expected a non-empty list of positive integers")
            raise _StopReading
        sizes = tuple(self.integer(item, f"{path}.shape[{i}]", 1) for i, item in enumerate(value))
        return sizes
