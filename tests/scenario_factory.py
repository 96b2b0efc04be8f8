"""Scenario files for tests, written with NumPy into a temporary folder.

The sample files hold one channel each; these add batches, input and output channels,
per-channel weights and a 224×224 input for scrolling.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def write_scenario(folder: Path, name: str, document: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` as .npy files next to the scenario and return the scenario's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, values in arrays.items():
        np.save(folder / file_name, values)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


def multi_channel_conv(folder: Path, engine: str = "fbgemm") -> Path:
    """2×3×6×7 input, 4×3×3×3 per-channel weight, padding 1.

    Scales 1, 1 and 2 put many outputs exactly halfway between two integers. torch 2.13's
    quantize adds the zero point before rounding and FBGEMM after it, so with an odd output
    zero point the float path and FBGEMM differ by 1 LSB on those ties.
    """
    rng = np.random.default_rng(2024)
    x = (100 + rng.integers(-2, 3, size=(2, 3, 6, 7))).astype(np.uint8)
    w = rng.integers(-2, 3, size=(4, 3, 3, 3)).astype(np.int8)
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "test: multi-channel conv with ties",
        "layer": {"kind": "conv2d", "padding": 1},
        "input": {"dtype": "quint8", "scale": 1.0, "zero_point": 100, "q": {"file": "multi_x.npy"}},
        "weight": {
            "dtype": "qint8",
            "scale": [1.0, 1.0, 0.5, 0.25],
            "zero_point": [0, 0, 0, 0],
            "axis": 0,
            "q": {"file": "multi_w.npy"},
        },
        "bias": None,
        "output": {"dtype": "quint8", "scale": 2.0, "zero_point": 101},
        "engine": engine,
    }
    return write_scenario(folder, "multi_channel", document, {"multi_x.npy": x, "multi_w.npy": w})


def large_conv(folder: Path) -> Path:
    """1×3×224×224 input and a 64×3×3×3 weight: a 222×222 output slice in 64 channels."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, size=(1, 3, 224, 224)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(64, 3, 3, 3)).astype(np.int8)
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "test: 224x224 input, 64 output channels",
        "layer": {"kind": "conv2d"},
        "input": {"dtype": "quint8", "scale": 0.02, "zero_point": 128, "q": {"file": "large_x.npy"}},
        "weight": {"dtype": "qint8", "scale": 0.01, "zero_point": 0, "q": {"file": "large_w.npy"}},
        "bias": None,
        "output": {"dtype": "quint8", "scale": 0.5, "zero_point": 128},
        "engine": "fbgemm",
    }
    return write_scenario(folder, "large", document, {"large_x.npy": x, "large_w.npy": w})


def linear_with_real_values(folder: Path) -> Path:
    """A linear layer whose input is given as real values, for the keep-real-values mode."""
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "test: linear from real values",
        "layer": {"kind": "linear"},
        "input": {"dtype": "quint8", "scale": 0.1, "zero_point": 10, "real": [[0.5, 1.0, -0.5, 2.0]]},
        "weight": {"dtype": "qint8", "scale": 0.05, "zero_point": 0, "q": [[10, -20, 30, 40], [1, 2, 3, 4]]},
        "bias": [0.25, -0.5],
        "output": {"dtype": "quint8", "scale": 0.05, "zero_point": 64},
        "engine": "fbgemm",
    }
    return write_scenario(folder, "linear_real", document, {})


def multi_channel_conv1d(folder: Path) -> Path:
    """1×3×10 input and a 4×3×3 weight: the output grid shows 4 channels × 8 positions."""
    rng = np.random.default_rng(11)
    x = rng.integers(90, 110, size=(1, 3, 10)).astype(np.uint8)
    w = rng.integers(-3, 4, size=(4, 3, 3)).astype(np.int8)
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "test: conv1d with 4 output channels",
        "layer": {"kind": "conv1d"},
        "input": {"dtype": "quint8", "scale": 0.5, "zero_point": 100, "q": {"file": "conv1d_x.npy"}},
        "weight": {"dtype": "qint8", "scale": [0.1, 0.2, 0.3, 0.4], "zero_point": [0, 0, 0, 0], "axis": 0, "q": {"file": "conv1d_w.npy"}},
        "bias": None,
        "output": {"dtype": "quint8", "scale": 0.25, "zero_point": 128},
        "engine": "fbgemm",
    }
    return write_scenario(folder, "conv1d", document, {"conv1d_x.npy": x, "conv1d_w.npy": w})
