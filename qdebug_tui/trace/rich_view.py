"""Render an accumulator trace with Rich, for ``qdebug explain``."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from qdebug_tui.trace.model import CellTrace
from qdebug_tui.trace.sentences import number

# Terms shown before the table is cut, unless every term is requested.
DEFAULT_TERM_ROWS = 40


def render_trace(trace: CellTrace, *, all_terms: bool = False) -> RenderableType:
    """Return the trace as Rich renderables: verdict, comparison, terms, pairs, requantization."""
    parts: list[RenderableType] = [
        _verdict(trace),
        _comparison(trace),
        _terms(trace, all_terms),
        _accumulation(trace),
        _requantization(trace),
        _float_path(trace),
    ]
    if trace.steps:
        parts.append(_steps(trace))
    notes = [*trace.backend.notes, *trace.notes]
    if notes:
        parts.append(Panel("\n".join(f"• {note}" for note in notes), title="Notes", title_align="left", border_style="dim"))
    return Group(*parts)


def _verdict(trace: CellTrace) -> RenderableType:
    backend = trace.backend
    title = (
        f"{trace.scenario} · cell {list(trace.index)} · {trace.engine} → {backend.library} "
        f"{backend.kernel_path} ({backend.isa}, isa {trace.isa})"
    )
    cause = trace.cause or "none"
    style = "green" if trace.cause in (None, "clamped") else "red"
    body = Text.assemble(("cause: ", "bold"), (cause, f"bold {style}"), "\n", trace.explanation)
    return Panel(body, title=title, title_align="left", border_style=style)


def _comparison(trace: CellTrace) -> RenderableType:
    """Return a table of the kernel's numbers next to the exact ones, marking where they part."""
    table = Table(title="Kernel and exact arithmetic, side by side", title_justify="left")
    table.add_column("step")
    table.add_column("real kernel", justify="right")
    table.add_column(f"model: {trace.backend.library} ({trace.backend.isa})", justify="right")
    table.add_column("exact", justify="right")
    table.add_column("")
    requant = trace.requantization
    real_q = "—" if trace.quantized_q is None else str(trace.quantized_q)
    rows = [
        ("int32 accumulator", "", str(trace.backend.accumulator), str(trace.exact.accumulator + (trace.backend.bias_int32 or 0))),
        ("value before rounding", "", number(requant.before_rounding), number(trace.exact.scaled + _zero_point_before(trace))),
        ("output q", real_q, str(requant.q), str(trace.exact.q)),
    ]
    parted = False
    for name, real, kernel, exact in rows:
        marker = ""
        if not parted and (kernel != exact or (real and real != "—" and real != kernel)):
            marker = f"◀ they part here: {trace.cause or 'rounding'}"
            parted = True
        table.add_row(name, real, kernel, exact, marker)
    real = "not run" if trace.quantized_q is None else str(trace.quantized_q)
    table.caption = f"real kernel: {real} ({trace.quantized_source}) · float path: {trace.float_path.q}"
    table.caption_justify = "left"
    return table


def _zero_point_before(trace: CellTrace) -> int:
    return trace.requantization.zero_point if trace.requantization.zero_point_added == "before rounding" else 0


def _terms(trace: CellTrace, all_terms: bool) -> RenderableType:
    table = Table(title=f"Terms in the kernel's K order ({len(trace.terms)})", title_justify="left")
    for name in ("slot", "input index", "q_x", "q_x − z_x", "weight index", "q_w", "q_w − z_w", "product"):
        table.add_column(name, justify="right")
    visible = trace.terms if all_terms else trace.terms[:DEFAULT_TERM_ROWS]
    for term in visible:
        where = "padding" if term.input_index is None else _index_text(term.input_index)
        table.add_row(
            str(term.slot), where, str(term.q_x), str(term.x_centered), _index_text(term.weight_index),
            str(term.q_w), str(term.w_centered), str(term.product),
        )
    hidden = len(trace.terms) - len(visible)
    table.caption = f"exact accumulator Σ product = {trace.exact.accumulator}" + (f" · {hidden} more terms (--all-terms)" if hidden else "")
    table.caption_justify = "left"
    return table


def _index_text(index: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in index)


def _accumulation(trace: CellTrace) -> RenderableType:
    backend = trace.backend
    lines = [backend.summation]
    if backend.raw_sum is not None:
        lines.append(f"Σ raw products = {backend.raw_sum}; Σ pair sums as the kernel adds them = {backend.pair_sum}")
    lines.extend(_pair_lines(trace))
    lines.extend(_correction_lines(trace))

    bias = trace.bias
    if bias.real is not None:
        lines.append(
            f"bias {number(bias.real)}: {bias.mode}; exact {number(bias.exact)}, applied {number(bias.applied)} "
            f"(error {bias.rounding_error:+.3g}) in accumulator units"
        )
    lines.append(f"int32 accumulator the kernel requantizes: {backend.accumulator}")
    return Panel("\n".join(lines), title="Accumulation in the kernel", title_align="left")


def _pair_lines(trace: CellTrace) -> list[str]:
    backend = trace.backend
    lines = []
    for pair in backend.pairs:
        if not pair.clipped_by:
            continue
        (a0, a1), (w0, w1) = pair.activations, pair.weights
        lines.append(
            f"  clipped pair at slots {pair.slots[0]},{pair.slots[1]}: {a0}·({w0}) + {a1}·({w1}) = {pair.exact} "
            f"→ {pair.saturated} (by {pair.clipped_by:+d})"
        )
    if backend.pairs:
        lines.append(f"{backend.saturated_pairs} of {len(backend.pairs)} pairs clipped, moving the sum by {backend.clipping:+d}")
    return lines


def _correction_lines(trace: CellTrace) -> list[str]:
    correction = trace.backend.zero_point
    if correction is None:
        return []
    if trace.backend.library == "fbgemm":
        return [
            f"zero-point corrections, subtracted: z_x·column_offset = {correction.input_zero_point}·({correction.column_offset}) "
            f"= {correction.column_term} and row_offset·z_w = {correction.row_offset}·({correction.weight_zero_point}) "
            f"= {correction.row_term}"
        ]
    return [
        f"zero-point compensation, subtracted: z_x·Σ W over the taps inside the input = "
        f"{correction.input_zero_point}·({correction.column_offset}) = {correction.column_term}"
    ]


def _requantization(trace: CellTrace) -> RenderableType:
    requant = trace.requantization
    lines = [
        f"multiplier {number(requant.multiplier_f32)} in float32 (exact {number(requant.multiplier_exact)})",
        f"value multiplied {number(requant.value)} → scaled {number(requant.scaled)} → rounded value {number(requant.before_rounding)}",
        f"{requant.rounding_rule}; zero point {requant.zero_point} added {requant.zero_point_added}",
        f"clamp to {requant.low}..{requant.high}" + (" (overflow: INT32_MIN)" if requant.overflow else ""),
        f"output q = {requant.q}",
    ]
    return Panel("\n".join(lines), title="Requantization", title_align="left")


def _float_path(trace: CellTrace) -> RenderableType:
    path = trace.float_path
    lines = [
        f"dequantized terms summed in float32: {number(path.terms_sum_f32)} (exact {number(path.terms_sum_exact)}); bias {number(path.bias)}",
        f"float output {number(path.real)} = {number(path.scaled)} LSB; source: {path.source}",
        f"{path.rounding_rule}",
        f"float path q = {path.q}",
    ]
    return Panel("\n".join(lines), title="Float path", title_align="left")


def _steps(trace: CellTrace) -> RenderableType:
    table = Table(title="From the kernel's output to the float path's, one effect at a time", title_justify="left")
    for name in ("cause", "undone by", "q before", "q after"):
        table.add_column(name)
    for step in trace.steps:
        table.add_row(step.cause, step.description, str(step.q_before), str(step.q_after))
    return table
