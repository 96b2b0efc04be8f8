"""One sentence per cause, with the cell's numbers and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdebug_tui.emulators.requantize import output_bounds

if TYPE_CHECKING:
    from qdebug_tui.trace.causes import CellFacts
    from qdebug_tui.trace.model import CauseStep

# The ladder step of the float path's quantize rule, as opposed to the kernel's requantization.
FLOAT_QUANTIZE_STEP = "quantize the exact real value as the float path does"

LIBRARY_NAMES = {"fbgemm": "FBGEMM", "onednn": "oneDNN", "qnnpack": "QNNPACK"}


def explain(cause: str | None, facts: CellFacts, step: CauseStep | None) -> str:
    """Return the sentence for ``cause``; ``step`` is the ladder step that names it."""
    if cause is None:
        return _agree(facts)
    if cause == "clamped":
        return _clamped(facts)
    writers = {
        "int16-saturation": _saturation,
        "accumulator-overflow": _accumulator_overflow,
        "bias-rounding": _bias_rounding,
        "requantization-rounding": _requantization_rounding,
        "zero-point-rounding-order": _zero_point_order,
        "float-accumulation": _float_accumulation,
        "output-overflow": _output_overflow,
        "kernel-mismatch": _kernel_mismatch,
    }
    return writers[cause](facts, step)


def number(value: float) -> str:
    """Format a real value with up to 10 significant digits, enough to show how close a tie is."""
    return f"{value:.10g}"


def _kernel_name(facts: CellFacts) -> str:
    target = facts.target
    return f"{LIBRARY_NAMES[target.library]}'s {target.kernel_path} kernel ({target.isa})"


def _pair_text(pair) -> str:
    (a0, a1), (w0, w1) = pair.activations, pair.weights
    return f"{a0}·({w0}) + {a1}·({w1}) = {pair.exact} became {pair.saturated}"


def _saturation(facts: CellFacts, step: CauseStep) -> str:
    backend = facts.backend
    clipped = [pair for pair in backend.pairs if pair.clipped_by]
    first_pairs = " and ".join(_pair_text(pair) for pair in clipped[:2])
    more = f" (and {len(clipped) - 2} more)" if len(clipped) > 2 else ""
    count = f"{len(clipped)} int16 pair sum{'s' if len(clipped) != 1 else ''}"
    return (
        f"{count} clipped in {_kernel_name(facts)}: {first_pairs}{more}, so the kernel holds {backend.accumulator} instead of "
        f"the exact {facts.exact.accumulator} and outputs {step.q_before} instead of {step.q_after}; fix: 7-bit "
        f"activations (reduce_range=True, 0..127), smaller adjacent weights, {_exact_alternative(facts)}"
    )


def _exact_alternative(facts: CellFacts) -> str:
    """Name the kernels that sum this layer's products exactly."""
    target = facts.target
    if target.library == "fbgemm" and target.kernel_path == "depthwise":
        # FBGEMM's depthwise kernels have no VNNI form, so a newer CPU does not help.
        return "or engine onednn or qnnpack, whose depthwise kernels sum exactly on every CPU"
    return "a CPU with AVX512-VNNI, or engine qnnpack"


def _accumulator_overflow(facts: CellFacts, step: CauseStep) -> str:
    return (
        f"The accumulator {facts.exact.accumulator} does not fit in int32 and wraps to {facts.backend.accumulator}, so the "
        f"output is {step.q_before} instead of {step.q_after}; fix: a shorter reduction or a narrower input range"
    )


def _bias_rounding(facts: CellFacts, step: CauseStep) -> str:
    bias = facts.bias
    return (
        f"QNNPACK rounds the bias {number(bias.real)} / (s_x·s_w) = {bias.exact:.6f} to the int32 {int(bias.applied)}, "
        f"an error of {bias.rounding_error:+.6f} accumulator units that moves the output from {step.q_after} to "
        f"{step.q_before}; fix: round the bias to int32 in your reference too, or use fbgemm or x86, which keep it in float"
    )


def _requantization_rounding(facts: CellFacts, step: CauseStep) -> str:
    if step.description == FLOAT_QUANTIZE_STEP:
        out = facts.scenario.output
        return (
            f"torch.quantize_per_tensor multiplies the exact value {number(facts.exact.real)} by f32(1/{number(out.scale)}) "
            f"in float32 and rounds to {step.q_after}, where exact arithmetic gives {step.q_before}; fix: accept ±1 LSB, "
            "or quantize the reference in float64"
        )
    requant = facts.steps
    return (
        f"{_kernel_name(facts)} requantizes in float32: the value rounded is {number(float(requant.before_rounding))} "
        f"(multiplier {number(float(requant.multiplier))}) where the exact value is "
        f"{number(facts.exact.scaled)}{_zero_point_suffix(facts)}, so it outputs {step.q_before} instead of {step.q_after}; "
        "fix: accept ±1 LSB, or compare with qdebug's emulator, which reproduces these float32 steps"
    )


def _zero_point_suffix(facts: CellFacts) -> str:
    if facts.target.library == "onednn":
        return f" + {output_bounds(facts.scenario).zero_point}"
    return ""


def _zero_point_order(facts: CellFacts, step: CauseStep) -> str:
    zero_point = output_bounds(facts.scenario).zero_point
    scaled = number(facts.exact.scaled)
    if step.description == FLOAT_QUANTIZE_STEP:
        return (
            f"torch.quantize_per_tensor (torch 2.13) adds the zero point before rounding, in one fused multiply-add: "
            f"rne({scaled} + {zero_point}) = {step.q_after}, while rounding first gives rne({scaled}) + {zero_point} = "
            f"{step.q_before}; fix: quantize the float path with torch.ao.quantization.fx._decomposed.quantize_per_tensor, "
            "which rounds first, or accept ±1 LSB"
        )
    return (
        f"oneDNN adds the output zero point before rounding: rne({scaled} + {zero_point}) = {step.q_before}, while "
        f"rounding first gives rne({scaled}) + {zero_point} = {step.q_after}; fix: accept ±1 LSB, or round the same way "
        "in your reference (fbgemm rounds first)"
    )


def _float_accumulation(facts: CellFacts, step: CauseStep) -> str:
    float_path = facts.float_path
    difference = float_path.real - facts.exact.real
    lsb = difference / facts.scenario.output.scale
    return (
        f"The float path's float32 result is {number(float_path.real)} where the exact value is "
        f"{number(facts.exact.real)}; the difference of {difference:.3g} ({lsb:.3g} LSB) crosses a rounding boundary, "
        f"so the float path gives {step.q_after} and exact arithmetic {step.q_before}; fix: run the float reference in float64"
    )


def _output_overflow(facts: CellFacts, step: CauseStep) -> str:
    return (
        f"The value before rounding, {number(float(facts.steps.scaled))}, is beyond ±2^31, which "
        f"{LIBRARY_NAMES[facts.target.library]}'s cvtps2dq turns into INT32_MIN, so the output is {step.q_before} "
        f"instead of {step.q_after}; fix: a larger output scale"
    )


_KERNEL_BUG_FIX = "; fix: report it to PyTorch with this scenario file, or use another engine"


def _kernel_mismatch(facts: CellFacts, step: CauseStep) -> str:
    known = f" ({facts.known_bug})" if facts.known_bug else ""
    if facts.kernel_crash:
        return (
            f"The real kernel crashed the process that ran it ({facts.kernel_crash}); the exact result is "
            f"{facts.exact.q} and qdebug's model of {_kernel_name(facts)} gives {step.q_after}, so this looks like a "
            f"kernel bug{known}{_KERNEL_BUG_FIX}"
        )
    return (
        f"The real kernel returned {facts.quantized_q}, but the exact result is {facts.exact.q} and qdebug's model of "
        f"{_kernel_name(facts)} gives {step.q_after}: no model reproduces {facts.quantized_q}, so this looks like a "
        f"kernel bug{known}{_KERNEL_BUG_FIX}"
    )


def _clamped(facts: CellFacts) -> str:
    exact = facts.exact
    bounds = output_bounds(facts.scenario)
    relu = " (the fused ReLU raises the lower bound to the zero point)" if facts.scenario.layer.relu else ""
    side = "below" if exact.unclamped_q < bounds.low else "above"
    return (
        f"Both paths give {exact.q}: the exact result is {number(exact.scaled)} LSB, {exact.unclamped_q} after rounding "
        f"and adding the zero point {bounds.zero_point}, {side} the output range {bounds.low}..{bounds.high}{relu}, so "
        "it is clamped; fix: a larger output scale or another zero point if that value matters"
    )


def _agree(facts: CellFacts) -> str:
    clipped = facts.backend.saturated_pairs
    note = f"; {clipped} int16 pair sum{'s' if clipped != 1 else ''} clipped without changing the output" if clipped else ""
    exact = "so does exact arithmetic" if facts.exact.q == facts.float_path.q else f"exact arithmetic gives {facts.exact.q}"
    return f"Both paths give {facts.float_path.q}, and {exact}{note}"
