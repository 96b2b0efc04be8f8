"""Render an accumulator trace as Markdown, for the drill-down screen's export.

The sections follow the arithmetic, as on the drill-down screen: terms, kernel accumulation,
bias, requantization, float path, where the paths part, and the verdict. Every term and
every pair is listed, so each number can be checked by hand. The texts come from
:mod:`qdebug_tui.trace.text_rows`, which ``qdebug explain`` shares.
"""

from __future__ import annotations

from collections.abc import Iterable

from qdebug_tui.trace import text_rows
from qdebug_tui.trace.model import CellTrace


def trace_to_markdown(trace: CellTrace) -> str:
    """Return the whole trace as one Markdown document."""
    parts = [
        f"# Cell {list(trace.index)} of {trace.scenario}",
        f"{text_rows.kernel_path_text(trace)} · instruction set {trace.backend.isa} (isa {trace.isa})",
        _terms(trace),
        _accumulation(trace),
        _section("Bias", [text_rows.bias_line(trace) or "no bias"]),
        _section("Requantization", text_rows.requantization_lines(trace)),
        _section("Float path", text_rows.float_path_lines(trace)),
        _comparison(trace),
        _verdict(trace),
    ]
    notes = [*trace.backend.notes, *trace.notes]
    if notes:
        parts.append("## Notes\n\n" + "\n".join(f"- {note}" for note in notes))
    return "\n\n".join(parts) + "\n"


def _terms(trace: CellTrace) -> str:
    header = [*text_rows.TERM_COLUMNS, "running sum", "pair clipped"]
    clipped = {slot for pair in trace.backend.pairs if pair.clipped_by for slot in pair.slots}
    running = text_rows.running_sums(trace)
    rows = (
        [*text_rows.term_cells(term), str(int(total)), "yes" if term.slot in clipped else ""]
        for term, total in zip(trace.terms, running)
    )
    total = f"Σ product = exact accumulator = {trace.exact.accumulator}"
    return f"## Terms in the kernel's K order ({len(trace.terms)})\n\n{_table(header, rows)}\n\n{total}"


def _accumulation(trace: CellTrace) -> str:
    backend = trace.backend
    lines = text_rows.summation_lines(trace)
    lines.extend(text_rows.clipped_pair_line(pair) for pair in backend.pairs if pair.clipped_by)
    count = text_rows.pair_count_line(backend)
    if count is not None:
        lines.append(count)
    lines.extend(text_rows.correction_lines(trace))
    lines.append(f"{text_rows.accumulator_line(trace)} (exact {trace.exact.accumulator})")
    text = _section("Kernel accumulation", lines)
    if not backend.pairs:
        return text
    header = ["pair", "slots", "raw products", "exact sum", "int16 sum", "clipped by"]
    rows = (
        [str(index), f"{pair.slots[0]},{pair.slots[1]}", text_rows.pair_expression(pair), str(pair.exact),
         str(pair.saturated), f"{pair.clipped_by:+d}" if pair.clipped_by else ""]
        for index, pair in enumerate(backend.pairs)
    )
    return f"{text}\n\n{_table(header, rows)}"


def _comparison(trace: CellTrace) -> str:
    header = ["step", "real kernel", f"model: {trace.backend.library} ({trace.backend.isa})", "exact", ""]
    table = _table(header, ([*row] for row in text_rows.comparison_rows(trace)))
    return f"## Where the paths part\n\n{table}\n\n{text_rows.comparison_caption(trace)}"


def _verdict(trace: CellTrace) -> str:
    sentence, fix = text_rows.split_fix(trace.explanation)
    lines = [f"Cause: **{trace.cause or 'none'}**.", "", f"{sentence}."]
    if fix is not None:
        lines += ["", f"Fix: {fix}."]
    if trace.steps:
        header = ["cause", "undone by", "q before", "q after"]
        steps = ([step.cause, step.description, str(step.q_before), str(step.q_after)] for step in trace.steps)
        lines += ["", "From the kernel's output to the float path's, one effect at a time:", "", _table(header, steps)]
    return "## Verdict\n\n" + "\n".join(lines)


def _section(title: str, lines: list[str]) -> str:
    return f"## {title}\n\n" + "\n".join(f"- {_escape(line.strip())}" for line in lines)


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = [_row(header), "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend(_row(row) for row in rows)
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_escape(cell) for cell in cells) + " |"


def _escape(text: str) -> str:
    """Escape ``|``, which Markdown reads as a table border, also in "|y| ≥ 2^31"."""
    return text.replace("|", "\\|")
