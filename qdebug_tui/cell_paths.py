"""Both paths of one scenario, run once, for tracing any of its output cells.

``qdebug explain`` traces one cell; the TUI's drill-down screen traces one cell after another
of the same scenario. Both run the float layer in this process and the real kernel on a
:class:`~qdebug_tui.backends.base.QuantizedBackend` (a worker process for ``qdebug explain``),
then trace cells with :func:`trace_with_paths`. So the drill-down's trace of a cell is the
document ``qdebug explain --json`` prints for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.backends.worker import CRASH_MESSAGE, WorkerError
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.reproduce import RealRunPlan, plan_real_run
from qdebug_tui.evaluation import Evaluation
from qdebug_tui.numerics.float_path import float_layer
from qdebug_tui.trace import CellTrace, trace_cell

@dataclass(frozen=True)
class BothPaths:
    """The float layer's output, its quantized integers and the real kernel's run of one scenario.

    ``isa`` is the instruction-set form the run reproduces. ``float_q`` and ``run`` are None
    when the backend failed; ``notes`` give the reason, and what the run cannot reproduce. ``where``
    names where the real kernel ran, for the trace's ``quantized_source``.
    """

    scenario: Scenario
    isa: str
    plan: RealRunPlan
    real: np.ndarray
    float_q: np.ndarray | None
    run: QuantizedRun | None
    where: str
    notes: tuple[str, ...]

    def quantized_minus_float(self) -> np.ndarray | None:
        """Return the real kernel's output minus the float path's, or None when either is missing."""
        if self.float_q is None or self.run is None or self.run.q is None:
            return None
        return np.asarray(self.run.q, dtype=np.int64) - np.asarray(self.float_q, dtype=np.int64)


def worker_description(isa: str) -> str:
    """Describe the worker process of ``qdebug explain`` for ``isa``, as its traces name it."""
    if isa == "avx2":
        return "torch in a worker process with FBGEMM_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2"
    return "torch in a worker process"


def run_both_paths(
    scenario: Scenario, isa: str, backend: QuantizedBackend, where: str, cpu: CpuInfo | None = None
) -> BothPaths:
    """Run the float layer here and the real kernel on ``backend``, which must reproduce ``isa``.

    A :class:`~qdebug_tui.backends.worker.WorkerError` from the backend becomes a note, and the
    trace then has no real kernel's value.
    """
    plan = plan_real_run(scenario, isa, cpu)
    real = float_layer(scenario)
    try:
        float_q = backend.quantize_output(real, scenario.output)
        run = backend.run(plan.scenario)
    except WorkerError as error:
        return BothPaths(scenario, isa, plan, real, None, None, where, (*plan.notes, f"the real kernel could not be run: {error}"))
    return BothPaths(scenario, isa, plan, real, float_q, run, where, plan.notes)


def paths_from_evaluation(evaluation: Evaluation, where: str) -> BothPaths:
    """Return this CPU's paths from an evaluation that already ran, such as the main screen's.

    ``where`` names the backend that ran the real kernel.
    """
    scenario = evaluation.scenario
    float_path = evaluation.float_path
    return BothPaths(
        scenario, "native", plan_real_run(scenario, "native"), float_path.real, float_path.q, evaluation.quantized, where, ()
    )


def trace_with_paths(
    paths: BothPaths, cell: tuple[int, ...], *, cpu: CpuInfo | None = None, environ: Mapping[str, str] | None = None
) -> CellTrace:
    """Trace ``cell`` with the float path's and the real kernel's values from ``paths``.

    ``cpu`` and ``environ`` are as in :func:`qdebug_tui.trace.trace_cell`.
    """
    notes = list(paths.notes)
    quantized_q, source = _real_value(paths, cell, notes)
    run = paths.run
    crash = None
    if run is not None and run.error and run.error.startswith(CRASH_MESSAGE):
        crash = run.error.removeprefix(CRASH_MESSAGE).lstrip(": ")
    trace = trace_cell(
        paths.scenario,
        cell,
        paths.isa,
        float_q=None if paths.float_q is None else int(paths.float_q[cell]),
        float_real=float(np.float32(paths.real[cell])),
        quantized_q=quantized_q,
        quantized_source=source,
        kernel_crash=crash,
        cpu=cpu,
        environ=environ,
    )
    return replace(trace, notes=(*trace.notes, *notes))


def _real_value(paths: BothPaths, cell: tuple[int, ...], notes: list[str]) -> tuple[int | None, str]:
    run = paths.run
    if run is None:
        return None, "not run"
    engine = paths.plan.scenario.engine
    if run.q is None:
        notes.append(f"the real {engine} kernel returned no result: {run.error}")
        return None, f"{engine} returned no result"
    value = int(run.q[cell])
    if not paths.plan.reproducible:
        notes.append(f"the real {engine} kernel on this machine gave {value}")
        return None, f"not reproducible here ({engine} on this machine gave {value})"
    return value, f"{engine}, {paths.where}"
