"""``qdebug explain``: the accumulator trace of one output cell, from the terms to the output.

The real kernel runs in a worker process, so that a crashing kernel cannot take qdebug down
and ``--isa avx2`` can set the instruction-set variables. The float path runs in this
process. The trace is printed with Rich, or as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np

from qdebug_tui.commands.common import EXIT_FINDING, EXIT_OK, InvalidInput, add_scenario_arguments, load_for_command, run_guarded
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import ISA_CHOICES, EmulationError, check_supported
from qdebug_tui.emulators.reproduce import plan_real_run
from qdebug_tui.trace import CellIndexError, CellTrace, trace_cell
from qdebug_tui.trace.cell import check_index
from qdebug_tui.trace.json_view import trace_to_json


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``explain`` and its options."""
    parser = subparsers.add_parser(
        "explain",
        help="show every step of one output cell, from the integer terms to the output value",
        description=(
            "Trace one output cell: the terms in the kernel's order, the exact and the kernel's int32 accumulator, "
            "int16 pair saturation, bias, requantization, the float path, and the cause of any difference."
        ),
    )
    add_scenario_arguments(parser)
    parser.add_argument("--cell", required=True, help="output index, comma-separated, for example 0,0,0,0 (N, C, H, W)")
    parser.add_argument(
        "--isa",
        choices=ISA_CHOICES,
        default="native",
        help="native: the kernels this machine runs; avx2: a CPU without VNNI (default: native)",
    )
    parser.add_argument("--json", action="store_true", help="print the trace as JSON instead of tables")
    parser.add_argument("--all-terms", action="store_true", help="list every term, not only the first 40")
    parser.add_argument(
        "--fail-on-mismatch", action="store_true", help="exit with status 1 when the quantized and float paths differ"
    )
    return parser


def parse_cell(text: str, scenario: Scenario) -> tuple[int, ...]:
    """Parse ``--cell``; raise :class:`CellIndexError` naming the value and the allowed ranges."""
    shape = scenario.output_shape
    ranges = ", ".join(f"0..{size - 1}" for size in shape)
    parts = [part.strip() for part in text.split(",")]
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise CellIndexError(
            f"invalid --cell {text!r}: expected {len(shape)} comma-separated integers in the ranges {ranges} "
            f"(output shape {list(shape)})"
        ) from None
    return check_index(scenario, values)


def run(args: argparse.Namespace) -> int:
    """Print the trace of ``args.cell``; return the exit status."""
    return run_guarded(_explain, args)


def _explain(args: argparse.Namespace) -> int:
    scenario = load_for_command(args)
    try:
        cell = parse_cell(args.cell, scenario)
        check_supported(scenario)
    except (CellIndexError, EmulationError) as error:
        raise InvalidInput(str(error)) from None

    trace = explain_cell(scenario, cell, args.isa)
    if args.json:
        print(json.dumps(trace_to_json(trace), indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        from qdebug_tui.trace.rich_view import render_trace

        Console(highlight=False).print(render_trace(trace, all_terms=args.all_terms))
    mismatch = trace.cause not in (None, "clamped")
    return EXIT_FINDING if args.fail_on_mismatch and mismatch else EXIT_OK


def explain_cell(scenario: Scenario, cell: tuple[int, ...], isa: str, worker=None) -> CellTrace:
    """Run the real kernel and the float path, and trace ``cell``.

    ``worker`` is a running :class:`~qdebug_tui.backends.worker.WorkerBackend` for ``isa`` to
    reuse; by default a new one is started and stopped.
    """
    from qdebug_tui.backends.worker import CRASH_MESSAGE, WorkerBackend

    plan = plan_real_run(scenario, isa)
    notes = list(plan.notes)
    if worker is not None:
        real, float_q, run = _run_both(scenario, plan, worker, notes)
    else:
        with WorkerBackend.for_isa(isa) as started:
            real, float_q, run = _run_both(scenario, plan, started, notes)

    quantized_q, source = _real_value(plan, run, cell, isa, notes)
    crash = None
    if run is not None and run.error and run.error.startswith(CRASH_MESSAGE):
        crash = run.error.removeprefix(CRASH_MESSAGE).lstrip(": ")
    trace = trace_cell(
        scenario,
        cell,
        isa,
        float_q=None if float_q is None else int(float_q[cell]),
        float_real=float(np.float32(real[cell])),
        quantized_q=quantized_q,
        quantized_source=source,
        kernel_crash=crash,
    )
    return replace(trace, notes=(*trace.notes, *notes))


def _run_both(scenario: Scenario, plan, worker, notes: list[str]):
    """Return the float layer's output, its quantized integers and the real kernel's run."""
    from qdebug_tui.backends.worker import WorkerError
    from qdebug_tui.numerics.float_path import float_layer

    real = float_layer(scenario)
    try:
        worker.start()
        return real, worker.quantize_output(real, scenario.output), worker.run(plan.scenario)
    except WorkerError as error:
        notes.append(f"the real kernel could not be run: {error}")
        return real, None, None


def _real_value(plan, run, cell, isa: str, notes: list[str]) -> tuple[int | None, str]:
    if run is None:
        return None, "not run"
    engine = plan.scenario.engine
    where = "torch in a worker process" + (" with FBGEMM_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2" if isa == "avx2" else "")
    if run.q is None:
        notes.append(f"the real {engine} kernel returned no result: {run.error}")
        return None, f"{engine} returned no result"
    value = int(run.q[cell])
    if not plan.reproducible:
        notes.append(f"the real {engine} kernel on this machine gave {value}")
        return None, f"not reproducible here ({engine} on this machine gave {value})"
    return value, f"{engine}, {where}"
