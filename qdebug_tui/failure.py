"""Descriptions of a quantized path that produced no output, for the report and the TUI."""

from __future__ import annotations

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.backends.worker import CRASH_MESSAGE
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT, resolve_target
from qdebug_tui.evaluation import Evaluation


def quantized_failure(evaluation: Evaluation, isa: str = "native", engine_control: str = "") -> str:
    """Describe why the quantized path produced no output, with the fix where one is known.

    ``engine_control`` names how the user picks another engine, such as ``--engine``.
    """
    error = evaluation.quantized.error or "no output"
    if error.startswith(CRASH_MESSAGE):
        details = error.removeprefix(CRASH_MESSAGE).lstrip(": ")
        environ = AVX2_ENVIRONMENT if isa == "avx2" else None
        cpu = detect_cpu()
        try:
            target = resolve_target(evaluation.scenario, "native", cpu=cpu, environ=environ)
        except ValueError:
            bug = None  # the layer has no kernel target, so no known bug applies
        else:
            bug = known_kernel_bug(evaluation.scenario, target, "avx512f" in cpu.flags)
        known = f"; known kernel bug: {bug}" if bug else "; no known kernel bug matches this layer"
        return f"the real kernel crashed the worker process that ran it twice ({details}){known}"
    if "ONEDNN only supports symmetric quantization of weight" in error:
        control = f" ({engine_control})" if engine_control else ""
        return f"{error} Fix: set weight.zero_point to 0, or run engine x86, fbgemm or qnnpack{control}."
    return error
