"""The texts of the drill-down screen's short sections, from one cell's trace.

Headless: the screen puts these strings into its widgets. The lines themselves come from
:mod:`qdebug_tui.trace.text_rows`, so they read as in ``qdebug explain``; this module adds
the screen's headings, totals and the lines explain leaves out (the float path's clamp).
"""

from __future__ import annotations

from qdebug_tui.core.dtypes import QUINT8
from qdebug_tui.trace import text_rows
from qdebug_tui.trace.model import CellTrace

# The clipped pairs listed by name above the pair table; the table marks every one.
LISTED_CLIPPED_PAIRS = 4

ISA_NAMES = {"native": "this CPU's path", "avx2": "the AVX2 path (no VNNI)"}
OTHER_ISA = {"native": "avx2", "avx2": "native"}


def title_lines(trace: CellTrace) -> tuple[str, str]:
    """Return the cell and kernel path, then the instruction set and the path shown."""
    first = f"Cell {list(trace.index)} · {text_rows.kernel_path_text(trace)}"
    second = f"instruction set {trace.backend.isa} · {ISA_NAMES[trace.isa]} (i: {ISA_NAMES[OTHER_ISA[trace.isa]]})"
    return first, second


def totals_line(trace: CellTrace) -> str:
    """Return the numbers that stay in view: both accumulators, both outputs and the float path's."""
    real = "not run" if trace.quantized_q is None else str(trace.quantized_q)
    # When the real kernel's output differs from the model's, its accumulator is not known.
    model_only = trace.quantized_q is not None and trace.quantized_q != trace.output_q
    accumulator = f"model acc {trace.backend.accumulator}" if model_only else f"kernel acc {trace.backend.accumulator}"
    return (
        f"exact acc {trace.exact.accumulator} · {accumulator} · "
        f"kernel q {real} (model {trace.output_q}) · float path q {trace.float_path.q}"
    )


def terms_heading(trace: CellTrace) -> str:
    padding = sum(1 for term in trace.terms if term.input_index is None)
    padded = f", {padding} of them padding" if padding else ""
    return f"Terms: {len(trace.terms)} products in the kernel's K order{padded}"


def terms_caption(trace: CellTrace, first: int, last: int) -> str:
    rows_text = f"rows {first}–{last} of {len(trace.terms)}" if last >= first else "no terms"
    return f"{rows_text} · Σ product = exact acc {trace.exact.accumulator}"


def accumulation_text(trace: CellTrace) -> str:
    """Return the kernel's summation: pairs, clipped pairs, corrections, and both accumulators."""
    backend = trace.backend
    lines = text_rows.summation_lines(trace)
    clipped = [pair for pair in backend.pairs if pair.clipped_by]
    lines.extend(f"^ {text_rows.clipped_pair_line(pair)}" for pair in clipped[:LISTED_CLIPPED_PAIRS])
    if len(clipped) > LISTED_CLIPPED_PAIRS:
        lines.append(f"^ and {len(clipped) - LISTED_CLIPPED_PAIRS} more clipped pairs, marked ^ in the table (s: next)")
    count = text_rows.pair_count_line(backend)
    if count is not None:
        lines.append(count)
    lines.extend(text_rows.correction_lines(trace))
    if backend.bias_int32 is not None:
        lines.append(f"int32 bias added to the accumulator: {backend.bias_int32}")
    lines.append(f"{text_rows.accumulator_line(trace)}; exact: {trace.exact.accumulator}")
    return "\n".join(lines)


def pairs_heading(trace: CellTrace) -> str:
    return f"Pairs of raw products u8 × s8, as the kernel adds them: {len(trace.backend.pairs)}"


def pairs_caption(trace: CellTrace, first: int, last: int) -> str:
    backend = trace.backend
    rows_text = f"pairs {first}–{last} of {len(backend.pairs)}" if last >= first else "no pairs"
    return f"{rows_text} · {backend.saturated_pairs} clipped, moving the sum by {backend.clipping:+d}"


def bias_text(trace: CellTrace) -> str:
    return text_rows.bias_line(trace) or "no bias"


def requantization_text(trace: CellTrace) -> str:
    return "\n".join(text_rows.requantization_lines(trace))


def float_path_text(trace: CellTrace) -> str:
    """Return the float path's steps, with the clamp of torch.quantize_per_tensor before its q."""
    lines = text_rows.float_path_lines(trace)
    # The emulators, and so the trace, cover quint8 outputs only.
    lines.insert(-1, f"clamp to the quint8 range {QUINT8.qmin}..{QUINT8.qmax}")
    return "\n".join(lines)


def comparison_caption(trace: CellTrace) -> str:
    return text_rows.comparison_caption(trace)


def verdict_title(trace: CellTrace) -> str:
    return f"Verdict: {trace.cause or 'the paths agree'}"


def verdict_text(trace: CellTrace) -> str:
    """Return the cause's sentence with the cell's numbers, then its fix on a line of its own."""
    sentence, fix = text_rows.split_fix(trace.explanation)
    return sentence if fix is None else f"{sentence}.\nFix: {fix}."


def steps_text(trace: CellTrace) -> str:
    if not trace.steps:
        return "No step changes the output."
    lines = ["From the kernel's output to the float path's, one effect at a time:"]
    lines.extend(f"{step.cause}: {step.description}, q {step.q_before} → {step.q_after}" for step in trace.steps)
    return "\n".join(lines)


def notes_text(trace: CellTrace) -> str:
    return "\n".join(f"• {note}" for note in (*trace.backend.notes, *trace.notes))
