"""Writing scenarios back to disk, atomically, keeping tensor file references where possible."""

from __future__ import annotations

import errno
import io
import itertools
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
import dataclasses
from pathlib import Path

import numpy as np

from qdebug_tui.core.scenario import QuantizedTensor, Scenario, TensorSource
from qdebug_tui.io.scenario_file import FORMAT_NAME, FORMAT_VERSION
from qdebug_tui.numerics.rounding import quantize_zero_point_first

# Edited tensors that were inline stay inline up to this many elements. Bigger ones, and edited
# tensors read from a file, go to a .npy file beside the scenario.
INLINE_LIMIT = 4096

_INNER_LIST = re.compile(r"\[\s*(-?[0-9.eE+\-]+(?:,\s*-?[0-9.eE+\-]+)*)\s*\]")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old file or the new one, never half.

    The data goes to a temporary file in the same folder, is flushed and fsynced, then renamed
    over ``path``. On any failure the temporary file is removed and ``path`` is untouched. The
    new file keeps the permission bits of the file it replaces; a new path gets the usual
    0o666 less the umask.
    """
    path = Path(path)
    handle, temporary = _create_temporary(path)
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


def _create_temporary(path: Path) -> tuple[int, str]:
    """Create a temporary file beside ``path`` with the permission bits ``path`` should end with.

    :func:`tempfile.mkstemp` would create it with mode 0o600, which the rename would then give
    to the scenario file. Opening with 0o666 lets the kernel apply the umask instead.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    for _ in range(100):
        temporary = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.fchmod(handle, mode)
            except BaseException:
                os.close(handle)
                os.unlink(temporary)
                raise
        return handle, temporary
    raise FileExistsError(errno.EEXIST, "no free temporary file name after 100 tries", str(path.parent))


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


@dataclasses.dataclass
class _Save:
    """One save in progress: the target, the notes for the user, and the tensor files it touches.

    ``protected`` are the resolved paths of the files that the scenario's tensors were read
    from and that the file now at ``path`` refers to. A new tensor file never overwrites them. ``created`` are
    the tensor files this save created, removed again when writing the scenario fails.
    """

    scenario: Scenario
    path: Path
    notes: list[str] = dataclasses.field(default_factory=list)
    protected: set[Path] = dataclasses.field(default_factory=set)
    created: list[Path] = dataclasses.field(default_factory=list)


def save_scenario(scenario: Scenario, path: str | os.PathLike) -> list[str]:
    """Write ``scenario`` to ``path`` atomically and return notes on the tensor files written.

    Unchanged tensors read from .npy or CSV files keep their file references. An edited
    tensor that came from a file, or an edited tensor of more than INLINE_LIMIT elements,
    goes to a new .npy file beside the scenario, and a note names it. A tensor file that the
    file now at ``path`` refers to is never overwritten, so a failed save leaves that file
    and its data as they were. Raises OSError when writing fails.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "this is a folder; give a file name ending in .json", str(path))
    save = _Save(scenario, path, protected=_referenced_files(scenario, path))
    try:
        document = scenario_document(scenario, path, save)
        text = json.dumps(document, indent=2) + "\n"
        atomic_write_bytes(path, compact_inner_lists(text).encode("utf-8"))
    except BaseException:
        for created in save.created:
            created.unlink(missing_ok=True)
        raise
    return save.notes


def scenario_document(scenario: Scenario, path: Path, save: _Save | None = None) -> dict:
    """Build the JSON document of ``scenario`` as it will be saved at ``path``.

    Edited tensors that go to .npy files are written while the document is built.
    """
    save = save or _Save(scenario, path, protected=_referenced_files(scenario, path))
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
    document["input"] = _quantized_tensor_doc(save, scenario.input, "input")
    document["weight"] = _quantized_tensor_doc(save, scenario.weight, "weight")
    if scenario.bias is None:
        document["bias"] = None
    else:
        document["bias"] = _values_doc(save, scenario.bias.values, scenario.bias.source, "bias", as_int=False)
    out = scenario.output
    document["output"] = {"dtype": out.dtype.name, "scale": out.scale, "zero_point": out.zero_point}
    document["engine"] = scenario.engine
    return document


def _quantized_tensor_doc(save: _Save, tensor: QuantizedTensor, field: str) -> dict:
    qparams = tensor.qparams
    doc: dict = {"dtype": tensor.dtype.name}
    if qparams.per_channel:
        doc.update(scale=list(qparams.scales), zero_point=list(qparams.zero_points), axis=qparams.axis)
    else:
        doc.update(scale=qparams.scales[0], zero_point=qparams.zero_points[0])
    if tensor.source.content == "real" and tensor.real is not None and _real_still_quantizes_to_q(tensor):
        doc["real"] = _values_doc(save, tensor.real, tensor.source, f"{field}.real", as_int=False)
    else:
        source = tensor.source
        if source.content != "q":
            # The real values no longer give these integers, so the integers are saved.
            source = TensorSource("edited", "q", source.file, source.shape)
        doc["q"] = _values_doc(save, tensor.q, source, f"{field}.q", as_int=True)
    return doc


def _real_still_quantizes_to_q(tensor: QuantizedTensor) -> bool:
    qparams = tensor.qparams
    scales = qparams.broadcast(qparams.scale_array(), tensor.real.ndim)
    zero_points = qparams.broadcast(qparams.zero_point_array(), tensor.real.ndim)
    requantized = quantize_zero_point_first(tensor.real, scales, zero_points, tensor.dtype)
    return bool(np.array_equal(requantized, tensor.q.astype(np.int64)))


def _values_doc(save: _Save, values: np.ndarray, source: TensorSource, field: str, *, as_int: bool):
    """Return a file reference, a new .npy reference, or a nested list for one tensor."""
    scenario, path = save.scenario, save.path
    if source.kind in ("npy", "csv") and source.file is not None and scenario.path is not None:
        old = (scenario.path.parent / source.file).resolve()
        reference: dict = {"file": _relative(old, path.parent)}
        if source.shape is not None:
            reference["shape"] = list(source.shape)
        return reference
    from_file = source.kind == "edited" and source.file is not None
    if from_file or (source.kind == "edited" and values.size > INLINE_LIMIT):
        target = _write_npy(save, values, field)
        if from_file:
            save.notes.append(f"{field} was edited, so it is saved to {target.name}; {source.file} is unchanged")
        else:
            save.notes.append(f"{field} was edited and has {values.size:,} elements, so it is saved to {target.name}")
        return {"file": target.name}
    return values.astype(np.int64).tolist() if as_int else values.astype(np.float64).tolist()


def _write_npy(save: _Save, values: np.ndarray, field: str) -> Path:
    """Write ``values`` to ``<stem>.<field>.npy`` beside the scenario and return the path.

    When that name is protected and its content differs, the next free ``<stem>.<field>.N.npy``
    is used instead, so repeated saves alternate between two names.
    """
    data = _npy_bytes(values)
    stem = f"{save.path.stem}.{field.replace('.', '-')}"
    for number in itertools.count(1):
        target = save.path.parent / (f"{stem}.npy" if number == 1 else f"{stem}.{number}.npy")
        if _has_bytes(target, data):
            return target
        if target.resolve() not in save.protected:
            break
    existed = target.exists()
    atomic_write_bytes(target, data)
    if not existed:
        save.created.append(target)
    return target


def _has_bytes(path: Path, data: bytes) -> bool:
    # An unreadable path does not hold ``data``; writing to it then reports the real error.
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _referenced_files(scenario: Scenario, path: Path) -> set[Path]:
    """Return the resolved tensor files that ``scenario``'s sources and the file now at ``path`` refer to."""
    referenced = set()
    if scenario.path is not None:
        for source in _sources(scenario):
            if source.file is not None:
                referenced.add((scenario.path.parent / source.file).resolve())
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        # No readable scenario at ``path`` means no tensor file that it refers to.
        return referenced
    for name in _file_names(document):
        referenced.add((path.parent / name).resolve())
    return referenced


def _sources(scenario: Scenario) -> Iterator[TensorSource]:
    yield scenario.input.source
    yield scenario.weight.source
    if scenario.bias is not None:
        yield scenario.bias.source


def _file_names(document: object) -> Iterator[str]:
    """Yield every ``"file"`` string in a parsed scenario document, at any depth."""
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "file" and isinstance(value, str):
                    yield value
                elif isinstance(value, (dict, list)):
                    pending.append(value)
        elif isinstance(node, list):
            pending.extend(item for item in node if isinstance(item, (dict, list)))


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
