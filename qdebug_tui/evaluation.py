"""One evaluation of a scenario: float path, real quantized path, exact reference, comparison.

The TUI and the CLI both call :func:`evaluate`. :func:`evaluate_reference` needs no torch, so
the TUI can draw exact results before torch has finished importing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.backends.cpu import CpuInfo, Dispatch, KernelIsa, detect_cpu, dispatch, fbgemm_isa, onednn_isa
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.targets import resolve_target
from qdebug_tui.numerics.compare import Comparison, compare
from qdebug_tui.numerics.float_path import float_layer
from qdebug_tui.numerics.reference import ReferenceResult, reference
from qdebug_tui.numerics.rounding import dequantize


@dataclass(frozen=True)
class FloatPath:
    """The float path's unquantized float32 output and its quantized integers."""

    real: np.ndarray
    q: np.ndarray


@dataclass(frozen=True)
class RunFacts:
    """Facts about a run: torch version, engine, the library it dispatched to, and the CPU."""

    torch: str
    engine: str
    dispatch: Dispatch
    cpu: CpuInfo
    kernel_isa: KernelIsa

    @property
    def library(self) -> str:
        return self.dispatch.library


@dataclass(frozen=True)
class Evaluation:
    """Everything qdebug shows about one scenario."""

    scenario: Scenario
    reference: ReferenceResult
    float_path: FloatPath
    quantized: QuantizedRun
    comparison: Comparison
    facts: RunFacts
    seconds: float

    def quantized_real(self) -> np.ndarray | None:
        """Return the quantized path's output dequantized in float32, or None if it failed."""
        if self.quantized.q is None:
            return None
        out = self.scenario.output
        return dequantize(self.quantized.q, out.scale, out.zero_point)


def run_facts(
    scenario: Scenario, torch_version: str, cpu: CpuInfo | None = None, environ: Mapping[str, str] | None = None
) -> RunFacts:
    """Describe where ``scenario`` runs in a process with ``environ`` (default: this process's)."""
    cpu = cpu or detect_cpu()
    environ = dict(os.environ if environ is None else environ)
    chosen = dispatch(scenario.engine, scenario.layer, scenario.weight.qparams.zero_point_array(), cpu)
    if chosen.library == "fbgemm":
        isa = fbgemm_isa(cpu, environ)
    elif chosen.library == "onednn":
        isa = onednn_isa(cpu, environ)
    else:
        isa = KernelIsa(False, cpu.isa, "QNNPACK accumulates exactly in int32")
    return RunFacts(torch_version, scenario.engine, chosen, cpu, _kernel_path_isa(scenario, cpu, environ, isa))


def _kernel_path_isa(scenario: Scenario, cpu: CpuInfo, environ: Mapping[str, str], library_isa: KernelIsa) -> KernelIsa:
    """Return the instruction set of the kernel path that runs ``scenario``.

    A library's GEMM instruction set is not every kernel's: FBGEMM's depthwise kernels exist
    only in an AVX2 form, its groupwise kernel ignores FBGEMM_ENABLE_INSTRUCTIONS, oneDNN's
    depthwise kernel sums exactly, and QNNPACK runs SSE2 code on x86.
    """
    try:
        target = resolve_target(scenario, "native", cpu=cpu, environ=environ)
    except ValueError:
        return library_isa
    if target.isa == library_isa.label.removesuffix(" (forced)").replace("_", "-") and target.saturating == library_isa.saturating:
        return library_isa
    reason = target.notes[0] if target.notes else f"{target.library}'s {target.kernel_path} kernel"
    return KernelIsa(target.saturating, target.isa, reason)


def evaluate_reference(scenario: Scenario) -> ReferenceResult:
    """Compute only the exact integer reference; needs no torch."""
    return reference(scenario)


def evaluate(
    scenario: Scenario, backend: QuantizedBackend, exact: ReferenceResult | None = None, real: np.ndarray | None = None
) -> Evaluation:
    """Run both paths and the reference, and compare the two paths cell by cell.

    ``exact`` and ``real`` (the float layer's float32 output) are computed unless given.
    """
    started = time.perf_counter()
    exact = exact if exact is not None else reference(scenario)
    real = real if real is not None else float_layer(scenario)
    float_q = backend.quantize_output(real, scenario.output)
    run = backend.run(scenario)
    out = scenario.output
    quantized_real = None if run.q is None else dequantize(run.q, out.scale, out.zero_point)
    comparison = compare(float_q, run.q, real, quantized_real)
    facts = run_facts(scenario, backend.version(), environ=backend.kernel_environment())
    return Evaluation(scenario, exact, FloatPath(real, float_q), run, comparison, facts, time.perf_counter() - started)
