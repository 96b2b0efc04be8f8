"""The layers the benchmarks time, built with NumPy and written as scenario files.

Activations are uniform over the full quint8 range. Weights are drawn from N(0, 30) and
clipped to int8, closer to trained layers than full-range noise. ``full-range`` weights, the
worst case for int16 pair saturation, are used only where a benchmark says so.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.io.scenario_file import load_scenario

REPOSITORY = Path(__file__).resolve().parent.parent
SEED = REPOSITORY / "sample_data" / "seed_conv2d.json"

# torch's default quantized engine on x86-64; on this CPU it picks oneDNN for convs.
ENGINE = "x86"
INPUT_QPARAMS = (0.02, 10)
WEIGHT_QPARAMS = (0.005, 0)
OUTPUT_QPARAMS = (0.5, 128)


@dataclass(frozen=True)
class BenchLayer:
    """One benchmarked layer: a short key for tables and JSON, a title, and its shapes.

    ``input_shape`` and ``weight_shape`` follow PyTorch; the seed layer has none and is read
    from ``sample_data/seed_conv2d.json``.
    """

    key: str
    title: str
    kind: str = "conv2d"
    input_shape: tuple[int, ...] = ()
    weight_shape: tuple[int, ...] = ()
    stride: int = 1
    padding: int = 0

    @property
    def is_seed(self) -> bool:
        return not self.input_shape

    def layer(self) -> Layer:
        if self.kind == "linear":
            return Layer("linear")
        return Layer("conv2d", (self.stride,) * 2, (self.padding,) * 2, (1, 1), 1, False)

    def scenario(self, weights: str = "normal", engine: str = ENGINE) -> Scenario:
        """Build the layer's scenario; ``weights`` is ``normal`` (N(0, 30)) or ``full-range``."""
        if self.is_seed:
            return load_scenario(SEED).with_engine(engine)
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, self.input_shape).astype(np.uint8)
        if weights == "full-range":
            w = rng.integers(-128, 128, self.weight_shape).astype(np.int8)
        else:
            w = np.clip(np.rint(rng.normal(0, 30, self.weight_shape)), -128, 127).astype(np.int8)
        bias = BiasTensor(rng.normal(0, 1, self.weight_shape[0]).astype(np.float32))
        inputs = QuantizedTensor(QUINT8, QuantParams((INPUT_QPARAMS[0],), (INPUT_QPARAMS[1],)), x)
        weight = QuantizedTensor(QINT8, QuantParams((WEIGHT_QPARAMS[0],), (WEIGHT_QPARAMS[1],)), w)
        output = OutputQuant(QUINT8, *OUTPUT_QPARAMS)
        return Scenario(f"benchmark: {self.title}", self.layer(), inputs, weight, bias, output, engine)

    def write(self, folder: Path) -> Path:
        """Write the layer as a scenario file with .npy tensors into ``folder``; return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.is_seed:
            path = folder / SEED.name
            shutil.copy(SEED, path)
            return path
        scenario = self.scenario()
        np.save(folder / f"{self.key}-input.npy", scenario.input.q)
        np.save(folder / f"{self.key}-weight.npy", scenario.weight.q)
        layer = {"kind": self.kind}
        if self.kind == "conv2d":
            layer.update(stride=self.stride, padding=self.padding)
        document = {
            "format": "qdebug-scenario",
            "version": 1,
            "name": scenario.name,
            "layer": layer,
            "input": {"dtype": "quint8", "scale": INPUT_QPARAMS[0], "zero_point": INPUT_QPARAMS[1], "q": {"file": f"{self.key}-input.npy"}},
            "weight": {"dtype": "qint8", "scale": WEIGHT_QPARAMS[0], "zero_point": WEIGHT_QPARAMS[1], "q": {"file": f"{self.key}-weight.npy"}},
            "bias": scenario.bias.values.astype(np.float64).tolist(),
            "output": {"dtype": "quint8", "scale": OUTPUT_QPARAMS[0], "zero_point": OUTPUT_QPARAMS[1]},
            "engine": ENGINE,
        }
        path = folder / f"{self.key}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return path


LAYERS = (
    BenchLayer("seed", "seed 1×1×5×5 conv (sample file)"),
    BenchLayer("conv64", "conv 64→64 3×3 on 56×56", input_shape=(1, 64, 56, 56), weight_shape=(64, 64, 3, 3), padding=1),
    BenchLayer("conv256", "conv 256→256 3×3 on 14×14", input_shape=(1, 256, 14, 14), weight_shape=(256, 256, 3, 3), padding=1),
    BenchLayer("stem", "conv 3→64 7×7 stride 2 on 224×224", input_shape=(1, 3, 224, 224), weight_shape=(64, 3, 7, 7), stride=2, padding=3),
    BenchLayer("linear1", "linear 1024→1024, 1 row", "linear", (1, 1024), (1024, 1024)),
    BenchLayer("linear1024", "linear 1024→1024, 1024 rows", "linear", (1024, 1024), (1024, 1024)),
)
LAYERS_BY_KEY = {layer.key: layer for layer in LAYERS}

# Drill-down layers by reduction length K: the 64 → 64 conv (K = 64·3·3) and a wide linear.
DRILL_DOWN_LAYERS = {
    576: LAYERS_BY_KEY["conv64"],
    50_000: BenchLayer("linear50k", "linear 50000→16, 1 row", "linear", (1, 50_000), (16, 50_000)),
}
