"""``qdebug explain``: the accumulator trace of one output cell, from the terms to the output.

The real kernel runs in a worker process, so that a crashing kernel cannot take qdebug down
and ``--isa avx2`` can set the instruction-set variables. The float path runs in this
process. The trace is printed with Rich, or as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import sys

from qdebug_tui.cell_paths import run_both_paths, trace_with_paths, worker_description
from qdebug_tui.commands.common import EXIT_FINDING, EXIT_OK, InvalidInput, add_scenario_arguments, load_for_command, run_guarded
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import ISA_CHOICES, EmulationError, check_supported
from qdebug_tui.trace import CellIndexError, CellTrace
from qdebug_tui.trace.cell import check_index
from qdebug_tui.trace.json_view import trace_to_json_text


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
        sys.stdout.write(trace_to_json_text(trace))
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
    from qdebug_tui.backends.worker import WorkerBackend

    if worker is not None:
        return trace_with_paths(run_both_paths(scenario, isa, worker, worker_description(isa)), cell)
    with WorkerBackend.for_isa(isa) as started:
        paths = run_both_paths(scenario, isa, started, worker_description(isa))
    return trace_with_paths(paths, cell)
