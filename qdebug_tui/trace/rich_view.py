"""Render an accumulator trace with Rich, for ``qdebug explain``.

The texts come from :mod:`qdebug_tui.trace.text_rows`, which the TUI's drill-down screen and
the Markdown export share.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from qdebug_tui.trace import text_rows
from qdebug_tui.trace.model import CellTrace

# Terms shown before the table is cut, unless every term is requested.
DEFAULT_TERM_ROWS = 40


def render_trace(trace: CellTrace, *, all_terms: bool = False) -> RenderableType:
    """Return the trace as Rich renderables: verdict, comparison, terms, pairs, requantization."""
    parts: list[RenderableType] = [
        _verdict(trace),
        _comparison(trace),
        _terms(trace, all_terms),
        _panel(text_rows.accumulation_lines(trace), "Accumulation in the kernel"),
        _panel(text_rows.requantization_lines(trace), "Requantization"),
        _panel(text_rows.float_path_lines(trace), "Float path"),
    ]
    if trace.steps:
        parts.append(_steps(trace))
    notes = [*trace.backend.notes, *trace.notes]
    if notes:
        parts.append(Panel("\n".join(f"• {note}" for note in notes), title="Notes", title_align="left", border_style="dim"))
    return Group(*parts)


def _verdict(trace: CellTrace) -> RenderableType:
    cause = trace.cause or "none"
    style = "green" if trace.cause in (None, "clamped") else "red"
    body = Text.assemble(("cause: ", "bold"), (cause, f"bold {style}"), "\n", trace.explanation)
    return Panel(body, title=text_rows.title_text(trace), title_align="left", border_style=style)


def _comparison(trace: CellTrace) -> RenderableType:
    """Return a table of the kernel's numbers next to the exact ones, marking where they part."""
    table = Table(title="Kernel and exact arithmetic, side by side", title_justify="left")
    table.add_column("step")
    table.add_column("real kernel", justify="right")
    table.add_column(f"model: {trace.backend.library} ({trace.backend.isa})", justify="right")
    table.add_column("exact", justify="right")
    table.add_column("")
    for row in text_rows.comparison_rows(trace):
        table.add_row(*row)
    table.caption = text_rows.comparison_caption(trace)
    table.caption_justify = "left"
    return table


def _terms(trace: CellTrace, all_terms: bool) -> RenderableType:
    table = Table(title=f"Terms in the kernel's K order ({len(trace.terms)})", title_justify="left")
    for name in text_rows.TERM_COLUMNS:
        table.add_column(name, justify="right")
    visible = trace.terms if all_terms else trace.terms[:DEFAULT_TERM_ROWS]
    for term in visible:
        table.add_row(*text_rows.term_cells(term))
    hidden = len(trace.terms) - len(visible)
    table.caption = f"exact accumulator Σ product = {trace.exact.accumulator}" + (f" · {hidden} more terms (--all-terms)" if hidden else "")
    table.caption_justify = "left"
    return table


def _panel(lines: list[str], title: str) -> RenderableType:
    return Panel("\n".join(lines), title=title, title_align="left")


def _steps(trace: CellTrace) -> RenderableType:
    table = Table(title="From the kernel's output to the float path's, one effect at a time", title_justify="left")
    for name in ("cause", "undone by", "q before", "q after"):
        table.add_column(name)
    for step in trace.steps:
        table.add_row(step.cause, step.description, str(step.q_before), str(step.q_after))
    return table
