"""The summary lines under the grids: differences, signal quality and where the layer ran."""

from __future__ import annotations

import math

from textual.widgets import Static

from qdebug_tui.evaluation import Evaluation, RunFacts
from qdebug_tui.failure import quantized_failure
from qdebug_tui.widgets.text_update import update_text


class Summary(Static):
    """Mismatched cells, max |Δ|, SQNR, engine and dispatch, CPU ISA, torch version, recompute time."""

    def show_loading(self, scenario_engine: str, message: str) -> None:
        """Show what is known before the quantized path has run."""
        update_text(self, f"engine {scenario_engine} · quantized path: {message}")

    def show_evaluation(self, evaluation: Evaluation, facts: RunFacts, seconds: float | None) -> None:
        """Show one evaluation; ``seconds`` None leaves the timing out."""
        timing = "" if seconds is None else f" · recompute {seconds * 1000:.1f} ms"
        update_text(self, f"{difference_text(evaluation)}{timing}\n{facts_text(facts)}")


def difference_text(evaluation: Evaluation) -> str:
    summary = evaluation.comparison.summary
    if evaluation.quantized.error is not None:
        return f"quantized path failed: {quantized_failure(evaluation, engine_control='engine selector')} · float path computed for {_cells(summary.cells)}"
    return (
        f"mismatched {summary.mismatched} of {_cells(summary.cells)} · max |Δ| {summary.max_abs_diff} LSB"
        f" · SQNR {sqnr_text(summary.sqnr_db)}"
    )


def _cells(count: int) -> str:
    return f"{count} cell" if count == 1 else f"{count} cells"


def sqnr_text(sqnr_db: float | None) -> str:
    if sqnr_db is None:
        return "n/a"
    if math.isinf(sqnr_db):
        return "+∞ dB (equal)" if sqnr_db > 0 else "-∞ dB"
    return f"{sqnr_db:.1f} dB"


def facts_text(facts: RunFacts) -> str:
    if facts.library == facts.engine:
        engine = f"engine {facts.engine}"
    else:
        # Dispatch reasons read "x86 picks FBGEMM: <why>"; the arrow already names the library.
        cause = facts.dispatch.reason.split(": ", 1)[-1]
        engine = f"engine {facts.engine} → {facts.library} ({cause})"
    accumulation = "saturating int16 pairs" if facts.kernel_isa.saturating else "exact int32"
    return f"{engine} · CPU {facts.cpu.isa} · kernel {facts.kernel_isa.label}, {accumulation} · torch {facts.torch}"
