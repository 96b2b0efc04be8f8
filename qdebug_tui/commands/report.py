"""``qdebug report``: both paths, the grids of one slice, the summary and every mismatch."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass

import numpy as np
from rich.columns import Columns
from rich.console import Console, Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from qdebug_tui.commands.common import (
    EXIT_FINDING,
    EXIT_OK,
    InvalidInput,
    add_scenario_arguments,
    check_engine_available,
    clipping_notes,
    load_for_command,
    parse_int_list,
    run_guarded,
)
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import ISA_CHOICES
from qdebug_tui.emulators.reproduce import plan_real_run
from qdebug_tui.trace.batch import analyse_for_report
from qdebug_tui.core.slicing import SliceChoice, TensorSlices, describe, matrix, slice_problems, tensor_slices
from qdebug_tui.evaluation import Evaluation, evaluate
from qdebug_tui.failure import quantized_failure
from qdebug_tui.render.grids import MARK, grid_table

# The text report lists at most this many mismatched cells; --json lists all of them.
MAX_LISTED_MISMATCHES = 40


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="compare the float path with the real quantized kernel, cell by cell",
        description="Run the float path (dequantize, float layer, quantize) and the real quantized kernel "
        "on the scenario's engine, and show where their output integers differ.",
    )
    add_scenario_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument(
        "--slice",
        metavar="N,OC[,IC[,D]]",
        help="2-D slice to show: batch item N, output channel OC, input channel IC of its group "
        "and, for conv3d, output depth D (default 0,0,0,0); for linear layers, the leading batch indices",
    )
    parser.add_argument(
        "--fail-on-mismatch",
        action="store_true",
        help="exit with status 1 when any cell differs or the quantized path failed (the kernel rejected "
        "the layer or crashed); without it the exit status is 0 whenever the report is printed",
    )
    parser.add_argument(
        "--isa",
        choices=ISA_CHOICES,
        default="native",
        help="native: the kernels this machine runs; avx2: a CPU without VNNI, run in a worker process "
        "under FBGEMM_ENABLE_INSTRUCTIONS=AVX2 and ONEDNN_MAX_CPU_ISA=AVX2 (default: native)",
    )


def run(args: argparse.Namespace) -> int:
    return run_guarded(_report, args)


def _report(args: argparse.Namespace) -> int:
    scenario = load_for_command(args)
    choice = _slice_choice(scenario, args.slice)
    evaluation, notes = _evaluate(scenario, args.isa)
    notes = (*clipping_notes(scenario), *notes)
    analysis = _analyse(scenario, evaluation, args.isa, notes)
    if args.json:
        print(json.dumps(report_document(evaluation, analysis), allow_nan=False))
    else:
        print_report(Console(highlight=False), evaluation, choice, analysis)
    failed = not evaluation.quantized.ok or evaluation.comparison.summary.mismatched
    if args.fail_on_mismatch and failed:
        return EXIT_FINDING
    return EXIT_OK


def _evaluate(scenario: Scenario, isa: str) -> tuple[Evaluation, tuple[str, ...]]:
    """Evaluate on this process's kernels, or on the AVX2 kernels in a worker process."""
    if isa == "native":
        from qdebug_tui.backends import load_torch_backend

        backend = load_torch_backend()
        check_engine_available(scenario, backend.available_engines())
        return evaluate(scenario, backend), ()

    from qdebug_tui.backends.worker import WorkerBackend

    plan = plan_real_run(scenario, isa)
    with WorkerBackend.for_isa(isa) as worker:
        check_engine_available(plan.scenario, worker.available_engines())
        evaluation = evaluate(plan.scenario, worker)
    return evaluation, plan.notes


def _analyse(scenario: Scenario, evaluation: Evaluation, isa: str, notes: tuple[str, ...]) -> Analysis:
    """Emulate the scenario and name the cause of every mismatching cell."""
    cells = evaluation.comparison.mismatch_indices()
    found = analyse_for_report(
        scenario, evaluation.float_path.q, evaluation.float_path.real, evaluation.quantized.q, cells, isa
    )
    failure = None if evaluation.quantized.ok else quantized_failure(evaluation, isa, ENGINE_OPTION)
    return Analysis(isa, found.emulated, found.causes, notes, failure)


# The option that picks another engine, named in failure messages.
ENGINE_OPTION = "--engine"


@dataclass(frozen=True)
class Analysis:
    """The instruction-set form, the emulated entry, the cause of each mismatch, notes, and why the quantized path failed."""

    isa: str
    emulated: dict
    causes: dict[tuple[int, ...], str | None]
    notes: tuple[str, ...] = ()
    failure: str | None = None


def _slice_choice(scenario: Scenario, text: str | None) -> SliceChoice:
    if text is None:
        return SliceChoice()
    numbers = parse_int_list(text, "--slice")
    if scenario.layer.is_conv:
        longest = 4 if scenario.layer.spatial_dims == 3 else 3
        if not 2 <= len(numbers) <= longest:
            form = "N,OC[,IC[,D]]" if longest == 4 else "N,OC[,IC]"
            raise InvalidInput(f"--slice {text!r} is invalid; a {scenario.layer.kind} layer takes {form}")
        padded = (*numbers, 0, 0)
        choice = SliceChoice((numbers[0],), numbers[1], padded[2], padded[3] if len(numbers) == 4 else 0)
    else:
        choice = SliceChoice(numbers)
    problems = slice_problems(scenario, choice)
    if problems:
        raise InvalidInput(f"--slice {text!r} is invalid: " + "; ".join(problems))
    return choice


# JSON ----------------------------------------------------------------------------------------


def report_document(evaluation: Evaluation, analysis: Analysis | None = None) -> dict:
    """Build the ``--json`` object; field names are a stable interface for scripts.

    With ``analysis``, the object also has ``"isa"``, ``"emulated"`` (the emulated integers
    and kernel, or an error), ``"notes"``, and a ``"cause"`` on every mismatch. When the
    quantized path failed, ``summary.compared`` is false, ``mismatched`` and ``max_abs_diff``
    are null, and ``quantized_path`` has the kernel's ``"error"`` and, with ``analysis``, a
    ``"failure"`` sentence with the fix.
    """
    scenario, facts, comparison = evaluation.scenario, evaluation.facts, evaluation.comparison
    compared = evaluation.quantized.ok
    if compared:
        quantized: dict = {"q": evaluation.quantized.q.tolist()}
    else:
        quantized = {"error": evaluation.quantized.error}
        if analysis is not None and analysis.failure:
            quantized["failure"] = analysis.failure
    summary = comparison.summary
    sqnr = summary.sqnr_db if summary.sqnr_db is not None and math.isfinite(summary.sqnr_db) else None
    float_q, quantized_q = evaluation.float_path.q, evaluation.quantized.q
    mismatches = [
        {
            "index": list(index),
            "float_path": int(float_q[index]),
            "quantized_path": int(quantized_q[index]),
            "diff": int(comparison.diff[index]),
        }
        for index in comparison.mismatch_indices()
    ]
    extra: dict = {}
    if analysis is not None:
        for mismatch in mismatches:
            mismatch["cause"] = analysis.causes.get(tuple(mismatch["index"]))
        extra = {"isa": analysis.isa, "emulated": analysis.emulated, "notes": list(analysis.notes)}
    return extra | {
        "scenario": str(scenario.path) if scenario.path else None,
        "name": scenario.name,
        "engine": facts.engine,
        "backend": {"library": facts.dispatch.library, "reason": facts.dispatch.reason, "isa": facts.kernel_isa.label},
        "torch": facts.torch,
        "cpu": {"machine": facts.cpu.machine, "model": facts.cpu.model, "isa": facts.cpu.isa},
        "output_shape": list(scenario.output_shape),
        "float_path": {"q": float_q.tolist(), "real": evaluation.float_path.real.astype(np.float64).tolist()},
        "quantized_path": quantized,
        "reference": {"q": evaluation.reference.q.tolist(), "accumulator": evaluation.reference.accumulator.tolist()},
        "mismatches": mismatches,
        "summary": {
            "compared": compared,
            "cells": summary.cells,
            "mismatched": summary.mismatched if compared else None,
            "max_abs_diff": summary.max_abs_diff if compared else None,
            "sqnr_db": sqnr,
            "sqnr_infinite": summary.sqnr_db is not None and math.isinf(summary.sqnr_db) and summary.sqnr_db > 0,
        },
    }


# Rich ----------------------------------------------------------------------------------------


def print_report(console: Console, evaluation: Evaluation, choice: SliceChoice, analysis: Analysis | None = None) -> None:
    """Print the text report so that no number is cut.

    On a terminal the report fits its width: grids show fewer columns, and the cause column
    of the mismatch table folds. Into a pipe or a file, the report is as wide as its widest
    table needs, at least ``console.width`` (80 columns, or ``$COLUMNS``).
    """
    if console.is_terminal:
        console.print(render_report(evaluation, choice, analysis, width=console.width))
        return
    report = render_report(evaluation, choice, analysis)
    console.width = max(console.width, _widest_table(console, report))
    console.print(report)


def _widest_table(console: Console, report: Group) -> int:
    """Return the width the widest grid or mismatch table of ``report`` needs without cutting.

    The header, a table without column headers, wraps its prose and is left out.
    """
    widest = 0
    for part in report.renderables:
        tables = part.renderables if isinstance(part, Columns) else [part]
        for table in tables:
            if isinstance(table, Table) and table.show_header:
                widest = max(widest, Measurement.get(console, console.options.update(width=10_000), table).maximum)
    return widest


def render_report(
    evaluation: Evaluation, choice: SliceChoice, analysis: Analysis | None = None, width: int | None = None
) -> Group:
    """Build the text report: header, grids of one slice, summary, mismatch list.

    ``width`` is the terminal width that grids and tables must fit; None renders them at
    their natural width.
    """
    scenario = evaluation.scenario
    slices = tensor_slices(scenario, choice)
    parts = [_header(evaluation, slices, analysis), Text()]
    parts.append(_grid_row(_input_and_weight_grids(scenario, slices, width)))
    parts.append(Text())
    out = scenario.output
    parts.append(
        Text(f"output {list(scenario.output_shape)} {out.dtype.name}, scale {out.scale:g}, zero_point {out.zero_point}", style="bold")
    )
    parts.append(_grid_row(_output_grids(evaluation, slices, width)))
    if evaluation.quantized.ok and evaluation.comparison.summary.mismatched:
        parts.append(Text(f"{MARK} after a value: the float path and the quantized path differ in that cell", style="dim"))
    if not evaluation.quantized.ok:
        failure = analysis.failure if analysis is not None and analysis.failure else evaluation.quantized.error or ""
        parts.append(Text.assemble(("quantized path failed: ", "bold red"), failure))
    parts += [Text(), _summary(evaluation)]
    if evaluation.quantized.ok:
        parts += [Text(), _mismatch_list(evaluation, analysis, width)]
    return Group(*parts)


def _emulated_text(analysis: Analysis) -> str:
    if "error" in analysis.emulated:
        return f"not emulated: {analysis.emulated['error']}"
    backend = analysis.emulated["backend"]
    form = "int16 pair saturation" if backend["saturating"] else "exact int32 sums"
    clipped = backend["cells_with_saturated_pairs"]
    cells = "cell" if clipped == 1 else "cells"
    return (
        f"{backend['library']} {backend['kernel_path']} ({backend['isa']}, {form}); "
        f"{clipped} {cells} with clipped pairs; isa {analysis.isa}"
    )


def _header(evaluation: Evaluation, slices: TensorSlices, analysis: Analysis | None = None) -> Table:
    scenario, facts = evaluation.scenario, evaluation.facts
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("scenario", scenario.name)
    if scenario.path:
        table.add_row("file", str(scenario.path))
    layer = scenario.layer
    settings = f"{layer.kind}" + (
        f", stride {list(layer.stride)}, padding {list(layer.padding)}, dilation {list(layer.dilation)}, groups {layer.groups}"
        if layer.is_conv
        else ""
    )
    table.add_row("layer", settings + (", fused ReLU" if layer.relu else ""))
    table.add_row("engine", f"{facts.engine} → {facts.dispatch.library} ({facts.dispatch.reason})")
    table.add_row("kernel ISA", f"{facts.kernel_isa.label}: {facts.kernel_isa.reason}")
    table.add_row("CPU", f"{facts.cpu.model} ({facts.cpu.isa})")
    table.add_row("torch", facts.torch)
    if analysis is not None:
        table.add_row("emulated", _emulated_text(analysis))
        for note in analysis.notes:
            table.add_row("note", note)
    table.add_row("slice", _slice_text(scenario, slices))
    return table


def _slice_text(scenario: Scenario, slices: TensorSlices) -> str:
    if scenario.layer.is_conv:
        weight_names = ("ic", "oc", "kd") if scenario.layer.is_transposed else ("oc", "ic", "kd")
        return (
            f"input {describe(scenario.input.shape, slices.input, ('n', 'c', 'd'))}, "
            f"weight {describe(scenario.weight.shape, slices.weight, weight_names)}, "
            f"output {describe(scenario.output_shape, slices.output, ('n', 'c', 'd'))}"
        )
    return "all" if not slices.output else f"batch {list(slices.output)}"


def _qparams_text(tensor, slices_weight: tuple[int, ...] = ()) -> str:
    qparams = tensor.qparams
    if qparams.per_channel:
        channel = slices_weight[tensor.qparams.axis] if len(slices_weight) > tensor.qparams.axis else 0
        return f"scale {qparams.scales[channel]:g}, zero_point {qparams.zero_points[channel]} (channel {channel})"
    return f"scale {qparams.scales[0]:g}, zero_point {qparams.zero_points[0]}"


def _input_and_weight_grids(scenario: Scenario, slices: TensorSlices, width: int | None) -> list[Table]:
    input_title = f"input {list(scenario.input.shape)} {scenario.input.dtype.name}\n{_qparams_text(scenario.input)}"
    weight_title = (
        f"weight {list(scenario.weight.shape)} {scenario.weight.dtype.name}\n{_qparams_text(scenario.weight, slices.weight)}"
    )
    return [
        grid_table(matrix(scenario.input.q, slices.input), input_title, max_width=width),
        grid_table(matrix(scenario.weight.q, slices.weight), weight_title, max_width=width),
    ]


def _output_grids(evaluation: Evaluation, slices: TensorSlices, width: int | None) -> list[Table]:
    facts = evaluation.facts
    marked = matrix(evaluation.comparison.mismatch_mask, slices.output)
    grids = [grid_table(matrix(evaluation.float_path.q, slices.output), "float path q", marked=marked, max_width=width)]
    if evaluation.quantized.ok:
        title = f"quantized path q ({facts.engine} → {facts.dispatch.library})"
        grids.append(grid_table(matrix(evaluation.quantized.q, slices.output), title, marked=marked, max_width=width))
    grids.append(grid_table(matrix(evaluation.reference.q, slices.output), "exact reference q", max_width=width))
    return grids


def _grid_row(grids: list[Table]) -> Columns:
    """Lay grids side by side, wrapping to the next line where the terminal is too narrow."""
    return Columns(grids, padding=(0, 4))


def _summary(evaluation: Evaluation) -> Text:
    summary = evaluation.comparison.summary
    if not evaluation.quantized.ok:
        return Text.assemble(
            ("not compared: ", "bold red"),
            "the quantized path failed, so no output cell has a quantized value to compare",
        )
    if summary.sqnr_db is None:
        sqnr = "n/a (no quantized output)"
    elif math.isinf(summary.sqnr_db):
        sqnr = "∞ dB (equal outputs)" if summary.sqnr_db > 0 else "−∞ dB"
    else:
        sqnr = f"{summary.sqnr_db:.2f} dB"
    style = "bold red" if summary.mismatched else "bold green"
    return Text.assemble(
        ("mismatched ", "bold"),
        (f"{summary.mismatched} / {summary.cells} cells", style),
        f", max |Δ| {summary.max_abs_diff} LSB, SQNR {sqnr} (quantized output vs. unquantized float output)",
    )


def _mismatch_list(evaluation: Evaluation, analysis: Analysis | None = None, width: int | None = None) -> Table | Group | Text:
    """List the mismatched cells as a table, or as one line per cell where the table cannot fit."""
    indices = evaluation.comparison.mismatch_indices()
    if not indices:
        return Text("The float path and the quantized path agree on every cell.")
    rows = [_mismatch_row(evaluation, index, analysis) for index in indices[:MAX_LISTED_MISMATCHES]]
    more = None
    if len(indices) > MAX_LISTED_MISMATCHES:
        more = f"… and {len(indices) - MAX_LISTED_MISMATCHES} more (all of them with --json)"
    headers = _MISMATCH_HEADERS[: len(rows[0])]
    widths = [max([len(header)] + [len(row[column]) for row in rows]) for column, header in enumerate(headers)]
    number_columns = len(_MISMATCH_HEADERS) - 1
    needed = sum(widths[:number_columns]) + _MISMATCH_GAP * (number_columns - 1)
    if analysis is not None:
        needed += _MISMATCH_GAP + _MIN_CAUSE_WIDTH
    if width is not None and needed > width:
        return _mismatch_lines(headers, rows, more)

    table = Table(title="mismatched cells", box=None, header_style="bold", padding=(0, 1), pad_edge=False, caption=more)
    for column, header in enumerate(headers):
        if header == "cause":
            table.add_column(header, justify="left", overflow="fold", min_width=min(widths[column], _MIN_CAUSE_WIDTH))
        else:
            justify = "left" if header == "index" else "right"
            table.add_column(header, justify=justify, no_wrap=True, min_width=widths[column])
    for row in rows:
        table.add_row(*row)
    return table


# Headers of the mismatch table: short, so that the numbers under them keep their width.
_MISMATCH_HEADERS = ("index", "float q", "quant q", "Δ LSB", "exact q", "float value", "cause")
_MISMATCH_GAP = 2
_MIN_CAUSE_WIDTH = 10


def _mismatch_row(evaluation: Evaluation, index: tuple[int, ...], analysis: Analysis | None) -> list[str]:
    row = [
        ",".join(str(i) for i in index),
        str(int(evaluation.float_path.q[index])),
        str(int(evaluation.quantized.q[index])),
        f"{int(evaluation.comparison.diff[index]):+d}",
        str(int(evaluation.reference.q[index])),
        f"{float(evaluation.float_path.real[index]):.6g}",
    ]
    if analysis is not None:
        row.append(analysis.causes.get(index) or "—")
    return row


def _mismatch_lines(headers: tuple[str, ...], rows: list[list[str]], more: str | None) -> Group:
    """List each mismatched cell on its own line, for a terminal too narrow for the table."""
    lines = [Text("mismatched cells", style="bold")]
    for row in rows:
        fields = ", ".join(f"{header} {value}" for header, value in zip(headers[1:], row[1:]))
        lines.append(Text(f"{row[0]}: {fields}"))
    if more:
        lines.append(Text(more))
    return Group(*lines)
