"""A backend for screenshots: outputs that do not depend on this machine's CPU.

The real kernels give different integers with and without AVX512-VNNI, so screenshots
taken on one CPU would fail on another. This backend returns the exact integer reference,
with the cells that the sample files' descriptions record from FBGEMM without VNNI
(FBGEMM_ENABLE_INSTRUCTIONS=AVX2) put back in. The float path still runs on real torch.
"""

from __future__ import annotations

import numpy as np

from qdebug_tui.backends import load_torch_backend
from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.core.scenario import ENGINES, OutputQuant, Scenario
from qdebug_tui.numerics.reference import reference
from qdebug_tui.path_runner import PathRunner

# Scenario name: {output index: integer FBGEMM gives without VNNI}, from the sample files.
RECORDED_WITHOUT_VNNI: dict[str, dict[tuple[int, ...], int]] = {
    "Forum case: float path 0, quantized conv 7 without VNNI": {(0, 0, 0, 0): 7},
    "PyTorch issue 50720: a 3x3 conv2d one LSB and more off": {(0, 0, 0, 0): 15},
    "PyTorch issue 76390 as a linear layer: 255 becomes 223": {(0, 0): 223},
}


class RecordedKernelBackend(QuantizedBackend):
    """The exact reference as the kernel's output, with recorded non-VNNI cells."""

    name = "recorded FBGEMM without VNNI"

    def __init__(self) -> None:
        self._torch = load_torch_backend()

    def version(self) -> str:
        return "2.13.0+cpu"

    def available_engines(self) -> tuple[str, ...]:
        return ENGINES

    def run(self, scenario: Scenario) -> QuantizedRun:
        q = reference(scenario).q.copy()
        for index, value in RECORDED_WITHOUT_VNNI.get(scenario.name, {}).items():
            q[index] = value
        return QuantizedRun(np.asarray(q, dtype=np.int64))

    def quantize_output(self, real: np.ndarray, output: OutputQuant) -> np.ndarray:
        return self._torch.quantize_output(real, output)


def recorded_path_runner() -> PathRunner:
    """Return a drill-down path runner whose kernels are this module's recorded backend on either path.

    The run plan models the CPU of the screenshots' fixed facts, an AVX2 CPU without VNNI.
    """
    from conftest import FIXED_FACTS

    return PathRunner(lambda isa: RecordedKernelBackend(), cpu=FIXED_FACTS.cpu)
