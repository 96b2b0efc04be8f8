"""Whole-tensor helpers for reports: the emulated entry and the cause of every mismatch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import Emulation, EmulationError, emulate
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
    cells: list[tuple[int, ...]] | None = None,
) -> dict[tuple[int, ...], str | None]:
    """Trace every cell where the quantized and float paths differ; return {index: cause}.

    ``quantized_q`` is the real kernel's output, or None to compare the emulated kernel's.
    ``cells`` replaces the cells to trace. Each trace costs O(K) Python steps (about 5 ms for
    K = 576 on the 2-core machine the tests run on), so thousands of cells take seconds.
    """
    if quantized_q is None:
        quantized_q = emulate(scenario, isa, cpu=cpu, environ=environ).q
    if cells is None:
        cells = [tuple(int(i) for i in cell) for cell in np.argwhere(np.asarray(quantized_q) != np.asarray(float_q))]
    causes = {}
    for index in cells:
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


@dataclass(frozen=True)
class ReportAnalysis:
    """The report's ``"emulated"`` entry (or its error) and the cause of each mismatching cell."""

    emulated: dict
    causes: dict[tuple[int, ...], str | None]


def analyse_for_report(
    scenario: Scenario,
    float_q: np.ndarray,
    float_real: np.ndarray,
    quantized_q: np.ndarray | None,
    cells: list[tuple[int, ...]],
    isa: str = "native",
) -> ReportAnalysis:
    """Emulate ``scenario`` on ``isa`` and name the cause of each of ``cells``.

    A scenario the emulators do not cover gives ``{"error": message}`` and no causes.
    """
    try:
        emulation = emulate(scenario, isa)
    except EmulationError as error:
        return ReportAnalysis({"error": str(error)}, {})
    causes = mismatch_causes(scenario, float_q, float_real, quantized_q, isa, cells=cells)
    return ReportAnalysis(emulated_entry(emulation), causes)
