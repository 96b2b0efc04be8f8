"""A backend for screenshots: outputs that do not depend on this machine's CPU.

The real kernels give different integers with and without AVX512-VNNI, so screenshots
taken on one CPU would fail on another. This backend returns what the emulators compute for
a CPU without AVX512-VNNI (the ``avx2`` form), the CPU that ``FIXED_FACTS`` describes. The
emulators agree with the real kernels bit for bit (tests/test_emulators*.py, the soak in
docs/verification.md). Layer kinds the emulators do not cover yet fall back to the exact
reference. The float path still runs on real torch.
"""

from __future__ import annotations

import numpy as np

from qdebug_tui.backends import load_torch_backend
from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.core.scenario import ENGINES, OutputQuant, Scenario
from qdebug_tui.emulators import EMULATED_KINDS, EmulationError, emulate
from qdebug_tui.numerics.reference import reference
from qdebug_tui.path_runner import PathRunner


class RecordedKernelBackend(QuantizedBackend):
    """The emulated kernel of a CPU without AVX512-VNNI, as the kernel's output."""

    name = "emulated kernels without VNNI"

    def __init__(self) -> None:
        self._torch = load_torch_backend()

    def version(self) -> str:
        return "2.13.0+cpu"

    def available_engines(self) -> tuple[str, ...]:
        return ENGINES

    def run(self, scenario: Scenario) -> QuantizedRun:
        if scenario.layer.kind not in EMULATED_KINDS:
            return QuantizedRun(reference(scenario).q.astype(np.int64))
        try:
            return QuantizedRun(np.asarray(emulate(scenario, isa="avx2").q, dtype=np.int64))
        except EmulationError as error:
            return QuantizedRun(None, str(error))

    def quantize_output(self, real: np.ndarray, output: OutputQuant) -> np.ndarray:
        return self._torch.quantize_output(real, output)


def recorded_path_runner() -> PathRunner:
    """Return a drill-down path runner whose kernels are this module's recorded backend on either path.

    The run plan models the CPU of the screenshots' fixed facts, an AVX2 CPU without VNNI.
    """
    from conftest import FIXED_FACTS

    return PathRunner(lambda isa: RecordedKernelBackend(), cpu=FIXED_FACTS.cpu)
