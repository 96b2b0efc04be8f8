"""Plain-text pieces of an accumulator trace, shared by every rendering of it.

``qdebug explain`` (:mod:`qdebug_tui.trace.rich_view`), the Markdown export
(:mod:`qdebug_tui.trace.markdown_view`) and the TUI's drill-down screen format one
:class:`CellTrace` with these functions, so each number reads the same in all three. Nothing
here imports Rich or Textual.
"""

from __future__ import annotations

import numpy as np

from qdebug_tui.emulators.saturation import PairSum
from qdebug_tui.trace.model import BackendAccumulation, CellTrace, Term
from qdebug_tui.trace.sentences import LIBRARY_NAMES, number

TERM_COLUMNS = ("slot", "input index", "q_x", "q_x − z_x", "weight index", "q_w", "q_w − z_w", "product")

# The input index column's text for a tap outside the input.
PADDING_TEXT = "padding"

# The separator a cause sentence of :mod:`qdebug_tui.trace.sentences` puts before its fix, when it names one.
FIX_SEPARATOR = "; fix: "


def index_text(index: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in index)


def term_cells(term: Term) -> tuple[str, ...]:
    """Return one term's cells in the order of :data:`TERM_COLUMNS`."""
    where = PADDING_TEXT if term.input_index is None else index_text(term.input_index)
    return (
        str(term.slot), where, str(term.q_x), str(term.x_centered), index_text(term.weight_index),
        str(term.q_w), str(term.w_centered), str(term.product),
    )


def running_sums(trace: CellTrace) -> np.ndarray:
    """Return the running sum of the products in the kernel's K order; the last is the exact accumulator."""
    products = np.fromiter((term.product for term in trace.terms), dtype=np.int64, count=len(trace.terms))
    return np.cumsum(products)


def title_text(trace: CellTrace) -> str:
    backend = trace.backend
    return (
        f"{trace.scenario} · cell {list(trace.index)} · {trace.engine} → {backend.library} "
        f"{backend.kernel_path} ({backend.isa}, isa {trace.isa})"
    )


def kernel_path_text(trace: CellTrace) -> str:
    """Name the engine, the library and kernel it dispatches to, and how it sums: "x86 → FBGEMM im2col, AVX2 saturating"."""
    backend = trace.backend
    form = "saturating" if backend.saturating else "exact"
    return f"{trace.engine} → {LIBRARY_NAMES[backend.library]} {backend.kernel_path}, {backend.isa.upper()} {form}"


def comparison_rows(trace: CellTrace) -> list[tuple[str, str, str, str, str]]:
    """Return (step, real kernel, model, exact, marker) rows; the marker names the first row where they part."""
    requant = trace.requantization
    real_q = "—" if trace.quantized_q is None else str(trace.quantized_q)
    zero_point_before = requant.zero_point if requant.zero_point_added == "before rounding" else 0
    rows = [
        ("int32 accumulator", "", str(trace.backend.accumulator), str(trace.exact.accumulator + (trace.backend.bias_int32 or 0))),
        ("value before rounding", "", number(requant.before_rounding), number(trace.exact.scaled + zero_point_before)),
        ("output q", real_q, str(requant.q), str(trace.exact.q)),
    ]
    marked = []
    parted = False
    for name, real, kernel, exact in rows:
        marker = ""
        if not parted and (kernel != exact or (real and real != "—" and real != kernel)):
            marker = f"◀ they part here: {trace.cause or 'rounding'}"
            parted = True
        marked.append((name, real, kernel, exact, marker))
    return marked


def comparison_caption(trace: CellTrace) -> str:
    real = "not run" if trace.quantized_q is None else str(trace.quantized_q)
    return f"real kernel: {real} ({trace.quantized_source}) · float path: {trace.float_path.q}"


def summation_lines(trace: CellTrace) -> list[str]:
    """Return how the kernel sums, and its raw and pair sums when it has them."""
    backend = trace.backend
    lines = [backend.summation]
    if backend.raw_sum is not None:
        lines.append(f"Σ raw products = {backend.raw_sum}; Σ pair sums as the kernel adds them = {backend.pair_sum}")
    return lines


def pair_expression(pair: PairSum) -> str:
    """Return the pair's raw products as written out: ``200·(-67) + 200·(-97)``."""
    (a0, a1), (w0, w1) = pair.activations, pair.weights
    return f"{a0}·({w0}) + {a1}·({w1})"


def clipped_pair_line(pair: PairSum) -> str:
    return (
        f"clipped pair at slots {pair.slots[0]},{pair.slots[1]}: {pair_expression(pair)} = {pair.exact} "
        f"→ {pair.saturated} (by {pair.clipped_by:+d})"
    )


def pair_count_line(backend: BackendAccumulation) -> str | None:
    if not backend.pairs:
        return None
    return f"{backend.saturated_pairs} of {len(backend.pairs)} pairs clipped, moving the sum by {backend.clipping:+d}"


def correction_lines(trace: CellTrace) -> list[str]:
    """Return the zero-point corrections the kernel subtracts from its sum, if it has any."""
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


def bias_line(trace: CellTrace) -> str | None:
    bias = trace.bias
    if bias.real is None:
        return None
    return (
        f"bias {number(bias.real)}: {bias.mode}; exact {number(bias.exact)}, applied {number(bias.applied)} "
        f"(error {bias.rounding_error:+.3g}) in accumulator units"
    )


def accumulator_line(trace: CellTrace) -> str:
    return f"int32 accumulator the kernel requantizes: {trace.backend.accumulator}"


def accumulation_lines(trace: CellTrace) -> list[str]:
    """Return the kernel's summation from the products to the int32 it requantizes, bias included."""
    lines = summation_lines(trace)
    lines.extend(f"  {clipped_pair_line(pair)}" for pair in trace.backend.pairs if pair.clipped_by)
    count = pair_count_line(trace.backend)
    if count is not None:
        lines.append(count)
    lines.extend(correction_lines(trace))
    bias = bias_line(trace)
    if bias is not None:
        lines.append(bias)
    lines.append(accumulator_line(trace))
    return lines


def requantization_lines(trace: CellTrace) -> list[str]:
    requant = trace.requantization
    return [
        f"multiplier {number(requant.multiplier_f32)} in float32 (exact {number(requant.multiplier_exact)})",
        f"value multiplied {number(requant.value)} → scaled {number(requant.scaled)} → rounded value {number(requant.before_rounding)}",
        f"{requant.rounding_rule}; zero point {requant.zero_point} added {requant.zero_point_added}",
        f"clamp to {requant.low}..{requant.high}" + (" (overflow: INT32_MIN)" if requant.overflow else ""),
        f"output q = {requant.q}",
    ]


def float_path_lines(trace: CellTrace) -> list[str]:
    path = trace.float_path
    return [
        f"dequantized terms summed in float32: {number(path.terms_sum_f32)} (exact {number(path.terms_sum_exact)}); bias {number(path.bias)}",
        f"float output {number(path.real)} = {number(path.scaled)} LSB; source: {path.source}",
        f"{path.rounding_rule}",
        f"float path q = {path.q}",
    ]


def split_fix(explanation: str) -> tuple[str, str | None]:
    """Split a cause sentence into what happened and its fix; the fix is None when it names none."""
    sentence, separator, fix = explanation.partition(FIX_SEPARATOR)
    if not separator:
        return explanation, None
    return sentence, fix
