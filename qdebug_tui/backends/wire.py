"""The message format between qdebug and its worker process: JSON headers and .npy arrays.

A message is a 4-byte big-endian header length, the UTF-8 JSON header, then one frame per
name in the header's ``"arrays"`` list: an 8-byte big-endian length and the bytes of
``np.save(..., allow_pickle=False)``. Nothing is unpickled on either side.
"""

from __future__ import annotations

import io
import json
import struct
from typing import BinaryIO

import numpy as np

from qdebug_tui.core.dtypes import DTYPES
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario

_HEADER_LENGTH = struct.Struct(">I")
_ARRAY_LENGTH = struct.Struct(">Q")

# Upper bounds that catch a corrupt stream before it allocates memory.
MAX_HEADER_BYTES = 16 * 2**20
MAX_ARRAY_BYTES = 8 * 2**30


class WireError(Exception):
    """A malformed message, or a stream that ended in the middle of one."""


def write_message(stream: BinaryIO, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    """Write one message and flush the stream."""
    arrays = arrays or {}
    header = dict(header, arrays=list(arrays))
    encoded = json.dumps(header).encode("utf-8")
    stream.write(_HEADER_LENGTH.pack(len(encoded)))
    stream.write(encoded)
    for values in arrays.values():
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(values), allow_pickle=False)
        stream.write(_ARRAY_LENGTH.pack(buffer.tell()))
        stream.write(buffer.getbuffer())
    stream.flush()


def read_message(read_exactly) -> tuple[dict, dict[str, np.ndarray]]:
    """Read one message with ``read_exactly(n) -> bytes``; raise :class:`WireError` if malformed.

    ``read_exactly`` raises EOFError when the stream ends before ``n`` bytes.
    """
    (length,) = _HEADER_LENGTH.unpack(read_exactly(_HEADER_LENGTH.size))
    if length > MAX_HEADER_BYTES:
        raise WireError(f"message header of {length} bytes exceeds the limit of {MAX_HEADER_BYTES}")
    try:
        header = json.loads(read_exactly(length).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"malformed message header: {error}") from error
    if not isinstance(header, dict) or not isinstance(header.get("arrays", []), list):
        raise WireError("malformed message header: expected a JSON object with an 'arrays' list")
    arrays = {}
    for name in header.get("arrays", []):
        (size,) = _ARRAY_LENGTH.unpack(read_exactly(_ARRAY_LENGTH.size))
        if size > MAX_ARRAY_BYTES:
            raise WireError(f"array {name!r} of {size} bytes exceeds the limit of {MAX_ARRAY_BYTES}")
        try:
            arrays[name] = np.load(io.BytesIO(read_exactly(size)), allow_pickle=False)
        except ValueError as error:
            raise WireError(f"malformed array {name!r}: {error}") from error
    return header, arrays


def stream_reader(stream: BinaryIO):
    """Return a ``read_exactly`` function over a blocking binary stream."""

    def read_exactly(size: int) -> bytes:
        data = stream.read(size)
        if data is None or len(data) < size:
            raise EOFError(f"stream ended after {0 if data is None else len(data)} of {size} bytes")
        return data

    return read_exactly


def scenario_header(scenario: Scenario) -> tuple[dict, dict[str, np.ndarray]]:
    """Encode a scenario as a JSON-safe header and its arrays."""
    layer = scenario.layer
    header = {
        "name": scenario.name,
        "engine": scenario.engine,
        "layer": {
            "kind": layer.kind,
            "stride": list(layer.stride),
            "padding": list(layer.padding),
            "dilation": list(layer.dilation),
            "groups": layer.groups,
            "relu": layer.relu,
            "output_padding": list(layer.output_padding),
        },
        "input": _tensor_header(scenario.input),
        "weight": _tensor_header(scenario.weight),
        "output": {"dtype": scenario.output.dtype.name, "scale": scenario.output.scale, "zero_point": scenario.output.zero_point},
    }
    arrays = {"input": scenario.input.q, "weight": scenario.weight.q}
    if scenario.bias is not None:
        arrays["bias"] = scenario.bias.values.astype(np.float32)
    return header, arrays


def scenario_from_header(header: dict, arrays: dict[str, np.ndarray]) -> Scenario:
    """Decode a scenario written by :func:`scenario_header`; raise :class:`WireError` if malformed."""
    try:
        spec = header["layer"]
        layer = Layer(
            spec["kind"],
            tuple(spec["stride"]),
            tuple(spec["padding"]),
            tuple(spec["dilation"]),
            int(spec["groups"]),
            bool(spec["relu"]),
            tuple(spec["output_padding"]),
        )
        output = header["output"]
        bias = BiasTensor(arrays["bias"].astype(np.float32)) if "bias" in arrays else None
        return Scenario(
            name=str(header["name"]),
            layer=layer,
            input=_tensor_from_header(header["input"], arrays["input"]),
            weight=_tensor_from_header(header["weight"], arrays["weight"]),
            bias=bias,
            output=OutputQuant(DTYPES[output["dtype"]], float(output["scale"]), int(output["zero_point"])),
            engine=str(header["engine"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"malformed scenario message: {type(error).__name__}: {error}") from error


def _tensor_header(tensor: QuantizedTensor) -> dict:
    qparams = tensor.qparams
    return {
        "dtype": tensor.dtype.name,
        "scales": [float(s) for s in qparams.scales],
        "zero_points": [int(z) for z in qparams.zero_points],
        "axis": qparams.axis,
    }


def _tensor_from_header(spec: dict, values: np.ndarray) -> QuantizedTensor:
    dtype = DTYPES[spec["dtype"]]
    qparams = QuantParams(tuple(float(s) for s in spec["scales"]), tuple(int(z) for z in spec["zero_points"]), spec["axis"])
    return QuantizedTensor(dtype, qparams, values.astype(dtype.storage))
