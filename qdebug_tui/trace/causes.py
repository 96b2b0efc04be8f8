"""Name why a cell's quantized output differs from the float path, with one sentence.

The classifier walks from the kernel's output to the float path's, undoing one effect at a
time and recomputing the output integer after each:

1. ``output-overflow``: the value before rounding is beyond int32, which FBGEMM and QNNPACK
   turn into INT32_MIN (output 0 or the ReLU floor). Undo: clamp instead.
2. ``int16-saturation`` (pair sums clipped) or ``accumulator-overflow`` (the int32 sum
   wrapped). Undo: requantize the exact accumulator.
3. ``bias-rounding``: QNNPACK rounds the bias to int32. Undo: add the exact bias.
4. ``zero-point-rounding-order`` (oneDNN adds the zero point before rounding) or
   ``requantization-rounding`` (the float32 multiplier or a tie). Undo: the exact result.
5. The float path's quantize rule: ``zero-point-rounding-order`` (torch 2.13's
   quantize_per_tensor adds the zero point before rounding) or ``requantization-rounding``.
6. ``float-accumulation``: the float path's float32 sum differs from the exact value.

Every step that changes the integer is recorded; the first is the cause. Two more names do
not come from the ladder: ``kernel-mismatch`` when the real kernel's integer matches neither
the exact result nor any model of the kernel, and ``clamped`` for agreeing cells whose exact
value lies outside the output range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from qdebug_tui.core.dtypes import INT16_MAX, INT16_MIN
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.kernels import wrap_int32
from qdebug_tui.emulators.requantize import RequantSteps, output_bounds
from qdebug_tui.emulators.targets import KernelTarget
from qdebug_tui.numerics.rounding import f32, quantize_round_first, quantize_zero_point_first
from qdebug_tui.trace.model import BackendAccumulation, BiasTrace, CauseStep, ExactTrace, FloatPathTrace
from qdebug_tui.trace.sentences import FLOAT_QUANTIZE_STEP, explain

CAUSES: dict[str, str] = {
    "int16-saturation": "raw u8 × s8 pair sums clipped to int16 (vpmaddubsw without VNNI)",
    "accumulator-overflow": "the int32 accumulator wrapped around",
    "bias-rounding": "the engine rounds the bias to int32 (QNNPACK)",
    "requantization-rounding": "the float32 multiplier or a rounding tie decides the last LSB",
    "zero-point-rounding-order": "the zero point is added before rounding on one path and after on the other",
    "float-accumulation": "the float path's float32 sum differs from the exact value enough to flip the result",
    "output-overflow": "|y| ≥ 2^31 becomes INT32_MIN in FBGEMM and QNNPACK, so the output is 0",
    "kernel-mismatch": "the real kernel disagrees with the exact result and with every model of it",
    "clamped": "both paths agree, but the exact value lies outside the output range",
}


@dataclass(frozen=True)
class CellFacts:
    """Inputs of the classifier for one cell; ``requantize`` maps an accumulator to steps."""

    scenario: Scenario
    target: KernelTarget
    backend: BackendAccumulation
    steps: RequantSteps
    exact: ExactTrace
    bias: BiasTrace
    float_path: FloatPathTrace
    quantized_q: int | None
    requantize: Callable[[int], RequantSteps]
    known_bug: str | None
    kernel_crash: str | None = None


@dataclass(frozen=True)
class Classification:
    """The cause, its sentence, every step that changed the integer, and notes."""

    cause: str | None
    explanation: str
    steps: tuple[CauseStep, ...]
    notes: tuple[str, ...]


def classify(facts: CellFacts) -> Classification:
    """Name the cause of the cell's mismatch, or of its clamping, and explain it."""
    model_q = int(facts.steps.q)
    if facts.kernel_crash:
        step = CauseStep("kernel-mismatch", "the real kernel crashed", model_q, model_q)
        return Classification("kernel-mismatch", explain("kernel-mismatch", facts, step), (step,), ())
    kernel_q = model_q if facts.quantized_q is None else int(facts.quantized_q)
    accumulator, notes = _kernel_accumulator(facts, kernel_q)
    if accumulator is _MISMATCH:
        step = CauseStep("kernel-mismatch", "the real kernel matches no model of it", kernel_q, model_q)
        return Classification("kernel-mismatch", explain("kernel-mismatch", facts, step), (step,), notes)

    steps = tuple(step for step in _ladder(facts, kernel_q, accumulator) if step.q_before != step.q_after)
    if kernel_q != facts.float_path.q:
        cause = steps[0].cause
        return Classification(cause, explain(cause, facts, steps[0]), steps, notes)
    if not output_bounds(facts.scenario).low <= facts.exact.unclamped_q <= output_bounds(facts.scenario).high:
        return Classification("clamped", explain("clamped", facts, None), steps, notes)
    return Classification(None, explain(None, facts, None), steps, notes)


_MISMATCH = object()


def _kernel_accumulator(facts: CellFacts, kernel_q: int):
    """Return the accumulator that explains the kernel's integer (None: the exact result), and notes."""
    backend = facts.backend
    if facts.quantized_q is None or kernel_q == int(facts.steps.q):
        return backend.accumulator, ()
    if facts.known_bug:
        # A kernel with a known bug can hit another model's integer by chance; that is no explanation.
        return _MISMATCH, ()
    variants = []
    if backend.pairs:
        clipping = sum(min(max(pair.exact, INT16_MIN), INT16_MAX) - pair.exact for pair in backend.pairs)
        saturating = int(wrap_int32(facts.exact.accumulator + clipping))
        variants.append((saturating, "the real kernel clipped int16 pair sums, where qdebug expected an exact sum"))
        variants.append((int(wrap_int32(facts.exact.accumulator)), "the real kernel summed exactly, where qdebug expected int16 saturation"))
    for accumulator, note in variants:
        if int(facts.requantize(accumulator).q) == kernel_q:
            return accumulator, (note,)
    if kernel_q == facts.exact.q:
        return None, ("the real kernel gave the exact result, unlike qdebug's model of it",)
    return _MISMATCH, ()


def _ladder(facts: CellFacts, kernel_q: int, accumulator: int | None) -> list[CauseStep]:
    scenario = facts.scenario
    library = facts.target.library
    exact_accumulator = facts.exact.accumulator + (facts.backend.bias_int32 or 0)
    steps: list[CauseStep] = []
    current = kernel_q
    if accumulator is not None:
        requantized = facts.requantize(accumulator)
        if bool(requantized.overflow):
            after = _without_overflow(scenario, requantized)
            steps.append(CauseStep("output-overflow", "clamp instead of INT32_MIN", current, after))
            current = after
        if accumulator != exact_accumulator:
            cause = "int16-saturation" if facts.backend.clipping else "accumulator-overflow"
            after = _without_overflow(scenario, facts.requantize(exact_accumulator))
            steps.append(CauseStep(cause, "requantize the exact accumulator", current, after))
            current = after
        if library == "qnnpack" and facts.bias.real is not None:
            after = _qnnpack_float_bias_q(facts)
            steps.append(CauseStep("bias-rounding", "add the exact bias instead of its int32 rounding", current, after))
            current = after
        cause = "requantization-rounding"
        if library == "onednn" and current == _zero_point_first_exact(facts) != facts.exact.q:
            cause = "zero-point-rounding-order"
        steps.append(CauseStep(cause, "exact requantization", current, facts.exact.q))
        current = facts.exact.q

    out = scenario.output
    real = f32(facts.exact.real)
    quantized = int(quantize_zero_point_first(real, out.scale, out.zero_point, out.dtype))
    round_first = int(quantize_round_first(real, out.scale, out.zero_point, out.dtype))
    cause = "zero-point-rounding-order" if round_first == current != quantized else "requantization-rounding"
    steps.append(CauseStep(cause, FLOAT_QUANTIZE_STEP, current, quantized))
    steps.append(CauseStep("float-accumulation", "the float path's own float32 sum", quantized, facts.float_path.q))
    return steps


def _without_overflow(scenario: Scenario, steps: RequantSteps) -> int:
    """Return the output with an out-of-range value before rounding clamped instead of wrapped."""
    if not bool(steps.overflow):
        return int(steps.q)
    bounds = output_bounds(scenario)
    rounded = float(np.rint(np.float64(steps.scaled)))
    return int(min(max(rounded + bounds.zero_point, bounds.low), bounds.high))


def _qnnpack_float_bias_q(facts: CellFacts) -> int:
    """Return QNNPACK's output with the exact float bias in place of its int32 rounding."""
    value = f32(facts.exact.accumulator + facts.bias.exact)
    scaled = f32(np.float64(value) * np.float64(facts.steps.multiplier))
    bounds = output_bounds(facts.scenario)
    return int(min(max(float(np.rint(np.float64(scaled))) + bounds.zero_point, bounds.low), bounds.high))


def _zero_point_first_exact(facts: CellFacts) -> int:
    """Return the exact result rounded with the zero point added first, as oneDNN does."""
    bounds = output_bounds(facts.scenario)
    value = Fraction(facts.exact.scaled) + bounds.zero_point
    return min(max(round(value), bounds.low), bounds.high)
