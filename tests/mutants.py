"""Broken versions of the sample scenarios and the bad tensor files they refer to.

Each mutant deletes a field, puts a wrong type, an extreme or non-finite number, a huge
shape or a bad tensor file in its place, truncates the file, or replaces it with random
bytes. ``write_bad_tensor_files`` creates the files that the replacements name.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from conftest import SAMPLES

# json.dumps writes NaN and Infinity, which json.loads reads back, as a hand-edited file may.
REPLACEMENTS = [
    None, True, 0, -1, 0.5, 1e308, -1e308, 2**70, 1e-320, float("nan"), float("inf"), -float("inf"),
    "", "x", [], [1, 2], {}, [[[[]]]], [[1], [2, 3]],
    {"file": "nope.npy"},
    {"file": "ragged.csv"},
    {"file": "text.csv"},
    {"file": "empty.csv"},
    {"file": "binary.csv"},
    {"file": "nan.csv"},
    {"file": "huge_header.npy"},
    {"file": "truncated.npy"},
    {"file": "objects.npy"},
    {"file": "forum_input_32x32.csv", "shape": [100000, 100000]},
    {"file": "forum_input_32x32.csv", "shape": [2**62]},
    {"file": "forum_input_32x32.csv", "shape": [3, 3]},
    {"file": "forum_input_32x32.csv", "shape": [0, 1024]},
]  # fmt: skip


def write_bad_tensor_files(folder: Path) -> None:
    """Write the sample CSV files and the broken tensor files that REPLACEMENTS refer to."""
    for path in SAMPLES.glob("*.csv"):
        shutil.copy(path, folder)
    (folder / "ragged.csv").write_text("1,2,3\n4,5\n")
    (folder / "text.csv").write_text("1,2\nthree,4\n")
    (folder / "empty.csv").write_text("\n\n")
    (folder / "binary.csv").write_bytes(bytes(range(256)))
    (folder / "nan.csv").write_text("1,nan\n2,3\n")
    header = {"descr": "|u1", "fortran_order": False, "shape": (1_000_000, 1_000_000)}
    with (folder / "huge_header.npy").open("wb") as stream:
        np.lib.format.write_array_header_1_0(stream, header)
    full = (folder / "full.npy")
    np.save(full, np.zeros((1, 1, 32, 32), dtype=np.uint8))
    (folder / "truncated.npy").write_bytes(full.read_bytes()[:200])
    np.save(folder / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield from _paths(value, (*prefix, index))


def mutate(document: dict, rng: random.Random) -> str:
    """Return the JSON text of ``document`` with one random field deleted, replaced or broken."""
    document = copy.deepcopy(document)
    targets = [path for path in _paths(document) if path]
    path = rng.choice(targets)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.25 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action < 0.35:
        text = json.dumps(document)
        return text[: rng.randrange(1, len(text))]
    elif action < 0.4:
        return "".join(chr(rng.randrange(0, 256)) for _ in range(rng.randrange(1, 200)))
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(REPLACEMENTS))
    return json.dumps(document)


def mutants(count: int, seed: int) -> Iterator[str]:
    """Yield ``count`` mutated scenario texts, the same ones for the same seed."""
    rng = random.Random(seed)
    documents = [json.loads(path.read_text()) for path in sorted(SAMPLES.glob("*.json"))]
    for _ in range(count):
        yield mutate(rng.choice(documents), rng)


def write_mutant(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return path
