"""Whole-tensor helpers for reports: the emulated entry and the cause of every mismatch."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import Emulation
from qdebug_tui.trace import trace_cell


def emulated_entry(emulation: Emulation) -> dict:
    """Return the ``"emulated"`` entry of a report: the emulated integers and the kernel behind them."""
    return {
        "q": emulation.q.tolist(),
        "backend": {
            "engine": emulation.engine,
            "library": emulation.library,
            "kernel_path": emulation.kernel_path,
            "isa": emulation.isa,
            "saturating": emulation.saturating,
            "cells_with_saturated_pairs": int(np.count_nonzero(emulation.saturated_pairs)),
        },
    }


def mismatch_causes(
    scenario: Scenario,
    float_q: np.ndarray,
    float_real: np.ndarray,
    quantized_q: np.ndarray | None,
    isa: str = "native",
    *,
    cpu: CpuInfo | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[tuple[int, ...], str]:
    """Trace every cell where the quantized and float paths differ; return {index: cause}.

    ``quantized_q`` is the real kernel's output, or None to compare the emulated kernel's.
    Each trace costs O(K) Python steps, so a layer with many thousands of mismatching cells
    takes seconds.
    """
    if quantized_q is None:
        from qdebug_tui.emulators import emulate

        quantized_q = emulate(scenario, isa, cpu=cpu, environ=environ).q
    causes = {}
    for cell in np.argwhere(np.asarray(quantized_q) != np.asarray(float_q)):
        index = tuple(int(i) for i in cell)
        trace = trace_cell(
            scenario,
            index,
            isa,
            float_q=int(float_q[index]),
            float_real=float(float_real[index]),
            quantized_q=int(quantized_q[index]),
            cpu=cpu,
            environ=environ,
        )
        causes[index] = trace.cause
    return causes
