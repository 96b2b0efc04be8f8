"""Time the emulators on a 64 → 64 3×3 conv on 56×56, and the trace of one cell.

    python -m benchmarks.emulator_speed

Full-range random weights are the worst case for int16 pair saturation, because about a
quarter of the weight pairs can clip. Weights drawn from N(0, 30) are closer to trained
layers. Each number is the best of three runs after one warm-up run.
"""

from __future__ import annotations

import time

import numpy as np

from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.emulators import emulate
from qdebug_tui.trace import trace_cell

REPEATS = 3


def conv_64x64(weights: str) -> Scenario:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (1, 64, 56, 56)).astype(np.uint8)
    if weights == "full-range":
        w = rng.integers(-128, 128, (64, 64, 3, 3)).astype(np.int8)
    else:
        w = np.clip(np.rint(rng.normal(0, 30, (64, 64, 3, 3))), -128, 127).astype(np.int8)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 1, False)
    inputs = QuantizedTensor(QUINT8, QuantParams((0.02,), (10,)), x)
    weight = QuantizedTensor(QINT8, QuantParams((0.005,), (0,)), w)
    bias = BiasTensor(rng.normal(0, 1, 64).astype(np.float32))
    return Scenario(f"64x64 conv, {weights} weights", layer, inputs, weight, bias, OutputQuant(QUINT8, 0.5, 128), "fbgemm")


def best_seconds(function) -> float:
    function()
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    for weights in ("full-range", "normal"):
        scenario = conv_64x64(weights)
        for engine in ("fbgemm", "onednn", "qnnpack"):
            for isa in ("native", "avx2"):
                engine_scenario = scenario.with_engine(engine)
                seconds = best_seconds(lambda: emulate(engine_scenario, isa))
                clipped = int(np.count_nonzero(emulate(engine_scenario, isa).saturated_pairs))
                print(f"{scenario.name}: emulate {engine:7} {isa:6} {seconds:.3f} s, {clipped} cells with clipped pairs")
        cell_seconds = best_seconds(lambda: trace_cell(scenario, (0, 5, 10, 10), "avx2", float_q=0, quantized_q=0))
        print(f"{scenario.name}: trace_cell of one cell (K = 576) {cell_seconds * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
