"""Writing scenarios back to disk, atomically, keeping tensor file references where possible."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from qdebug_tui.core.scenario import QuantizedTensor, Scenario, TensorSource
from qdebug_tui.io.scenario_file import FORMAT_NAME, FORMAT_VERSION
from qdebug_tui.numerics.rounding import quantize_zero_point_first

# Edited tensors up to this many elements are written inline; bigger ones go to a .npy file.
INLINE_LIMIT = 4096

_INNER_LIST = re.compile(r"\[\s*(-?[0-9.eE+\-]+(?:,\s*-?[0-9.eE+\-]+)*)\s*\]")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old file or the new one, never half.

    The data goes to a temporary file in the same folder, is flushed and fsynced, then renamed
    over ``path``. On any failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def save_scenario(scenario: Scenario, path: str | os.PathLike) -> list[str]:
    """Write ``scenario`` to ``path`` atomically and return notes on tensor files written."""
    path = Path(path)
    notes: list[str] = []
    document = scenario_document(scenario, path, notes)
    text = json.dumps(document, indent=2) + "\n"
    atomic_write_bytes(path, compact_inner_lists(text).encode("utf-8"))
    return notes


def scenario_document(scenario: Scenario, path: Path, notes: list[str]) -> dict:
    """Build the JSON document of ``scenario`` as it will be saved at ``path``."""
    layer = scenario.layer
    layer_doc: dict = {"kind": layer.kind}
    if layer.is_conv:
        layer_doc.update(
            stride=list(layer.stride), padding=list(layer.padding), dilation=list(layer.dilation), groups=layer.groups
        )
        if layer.is_transposed:
            layer_doc["output_padding"] = list(layer.output_padding)
    layer_doc["relu"] = layer.relu
    document: dict = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": scenario.name}
    if scenario.description:
        document["description"] = scenario.description
    document["layer"] = layer_doc
    document["input"] = _quantized_tensor_doc(scenario, scenario.input, "input", path, notes)
    document["weight"] = _quantized_tensor_doc(scenario, scenario.weight, "weight", path, notes)
    if scenario.bias is None:
        document["bias"] = None
    else:
        document["bias"] = _values_doc(scenario, scenario.bias.values, scenario.bias.source, "bias", path, notes, as_int=False)
    out = scenario.output
    document["output"] = {"dtype": out.dtype.name, "scale": out.scale, "zero_point": out.zero_point}
    document["engine"] = scenario.engine
    return document


def _quantized_tensor_doc(scenario: Scenario, tensor: QuantizedTensor, field: str, path: Path, notes: list[str]) -> dict:
    qparams = tensor.qparams
    doc: dict = {"dtype": tensor.dtype.name}
    if qparams.per_channel:
        doc.update(scale=list(qparams.scales), zero_point=list(qparams.zero_points), axis=qparams.axis)
    else:
        doc.update(scale=qparams.scales[0], zero_point=qparams.zero_points[0])
    if tensor.source.content == "real" and tensor.real is not None and _real_still_quantizes_to_q(tensor):
        doc["real"] = _values_doc(scenario, tensor.real, tensor.source, f"{field}.real", path, notes, as_int=False)
    else:
        source = tensor.source
        if source.content != "q":
            source = TensorSource("edited", "q")
        doc["q"] = _values_doc(scenario, tensor.q, source, f"{field}.q", path, notes, as_int=True)
    return doc


def _real_still_quantizes_to_q(tensor: QuantizedTensor) -> bool:
    qparams = tensor.qparams
    scales = qparams.broadcast(qparams.scale_array(), tensor.real.ndim)
    zero_points = qparams.broadcast(qparams.zero_point_array(), tensor.real.ndim)
    requantized = quantize_zero_point_first(tensor.real, scales, zero_points, tensor.dtype)
    return bool(np.array_equal(requantized, tensor.q.astype(np.int64)))


def _values_doc(scenario: Scenario, values: np.ndarray, source: TensorSource, field: str, path: Path, notes: list[str], *, as_int: bool):
    """Return a file reference, a new .npy reference, or a nested list for one tensor."""
    if source.kind in ("npy", "csv") and source.file is not None and scenario.path is not None:
        old = (scenario.path.parent / source.file).resolve()
        reference: dict = {"file": _relative(old, path.parent)}
        if source.shape is not None:
            reference["shape"] = list(source.shape)
        return reference
    if source.kind == "edited" and values.size > INLINE_LIMIT:
        target = path.parent / f"{path.stem}.{field.replace('.', '-')}.npy"
        buffer = _npy_bytes(values)
        atomic_write_bytes(target, buffer)
        notes.append(f"{field} was edited and is saved to {target.name}")
        return {"file": target.name}
    return values.astype(np.int64).tolist() if as_int else values.astype(np.float64).tolist()


def _npy_bytes(values: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, np.ascontiguousarray(values), allow_pickle=False)
    return stream.getvalue()


def _relative(target: Path, folder: Path) -> str:
    try:
        return os.path.relpath(target, folder.resolve())
    except ValueError:
        return str(target)


def compact_inner_lists(text: str) -> str:
    """Put each innermost list of numbers on one line, so that a 5×5 grid reads as five rows."""
    return _INNER_LIST.sub(lambda match: "[" + ", ".join(part.strip() for part in match.group(1).split(",")) + "]", text)
