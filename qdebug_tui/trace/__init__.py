"""The accumulator trace of one output cell: every step from the terms to the output integer.

:func:`trace_cell` returns a :class:`CellTrace`, a tree of plain frozen dataclasses that the
TUI and ``qdebug explain`` render. It needs no torch: pass the float path's and the real
kernel's values for the cell when they are known, and the trace compares them with the
emulated kernel and the exact result, and names the cause of any difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from qdebug_tui.backends.cpu import CpuInfo, detect_cpu
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.trace.causes import CAUSES, CellFacts, classify
from qdebug_tui.trace.cell import (
    CellIndexError,
    backend_accumulation,
    bias_trace,
    cell_operands,
    check_index,
    exact_trace,
    float_path_trace,
    requant_trace,
    requantize_cell,
    resolve,
    terms_in_kernel_order,
)
from qdebug_tui.trace.model import CellTrace

__all__ = ["CAUSES", "CellIndexError", "CellTrace", "trace_cell"]


def trace_cell(
    scenario: Scenario,
    index,
    isa: str = "native",
    *,
    float_q: int | None = None,
    float_real: float | None = None,
    quantized_q: int | None = None,
    quantized_source: str = "",
    kernel_crash: str | None = None,
    cpu: CpuInfo | None = None,
    environ: Mapping[str, str] | None = None,
) -> CellTrace:
    """Trace output cell ``index`` of ``scenario`` on the kernel that ``isa`` selects.

    ``float_q`` and ``float_real`` are the float path's integer and real value for the cell
    (computed from the dequantized terms when not given); ``quantized_q`` is the real kernel's
    integer, if it ran, and ``quantized_source`` names where it ran. ``kernel_crash`` describes
    how the real kernel crashed the process that ran it, if it did. ``isa``, ``cpu`` and ``environ``
    are as in :func:`qdebug_tui.emulators.emulate`. Raises :class:`CellIndexError` for an
    index outside the output, :class:`qdebug_tui.emulators.EmulationError` for a scenario the
    engine rejects, and ValueError for an unknown ``isa``.
    """
    cell = check_index(scenario, index)
    target = resolve(scenario, isa, cpu, environ)
    operands = cell_operands(scenario, cell, target)
    terms = terms_in_kernel_order(operands)
    exact_accumulator = sum(term.product for term in terms)

    backend = backend_accumulation(scenario, target, operands, exact_accumulator)
    requantize = partial(requantize_cell, scenario, target, operands.channel)
    steps = requantize(backend.accumulator)
    exact = exact_trace(scenario, operands.channel, exact_accumulator)
    bias = bias_trace(scenario, target, operands.channel, backend)
    float_path = float_path_trace(scenario, operands, float_real, float_q)

    real_cpu = cpu or detect_cpu()
    facts = CellFacts(
        scenario, target, backend, steps, exact, bias, float_path, quantized_q, requantize,
        known_kernel_bug(scenario, target, "avx512f" in real_cpu.flags),
        kernel_crash,
    )
    verdict = classify(facts)
    source = quantized_source or ("no real kernel run" if quantized_q is None else "the real kernel")
    return CellTrace(
        scenario.name, cell, scenario.engine, isa, terms, exact, backend, bias,
        requant_trace(scenario, target, operands.channel, steps), float_path,
        None if quantized_q is None else int(quantized_q), source,
        verdict.cause, verdict.explanation, verdict.steps, verdict.notes,
    )
