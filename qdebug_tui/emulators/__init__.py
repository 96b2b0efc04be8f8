"""Bit-exact NumPy models of PyTorch's CPU quantized conv and linear kernels.

:func:`emulate` returns the output integers that FBGEMM, oneDNN or QNNPACK compute for a
scenario, with the int32 accumulator the kernel requantizes and the number of int16 pair
sums it clipped. The models are checked against the real torch 2.13 ops by the
property tests in ``tests/`` and by ``python -m benchmarks.soak_emulators``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.kernels import clipping, run_kernel_model
from qdebug_tui.emulators.targets import ISA_CHOICES, KernelTarget, resolve_target

__all__ = ["ISA_CHOICES", "Emulation", "EmulationError", "clipped_pairs", "emulate", "resolve_target"]


class EmulationError(ValueError):
    """A scenario that the engine's real kernel rejects, so there is nothing to emulate."""


@dataclass(frozen=True)
class Emulation:
    """One engine's integers for every output cell, and how the kernel got them.

    ``library`` is the library that runs the layer after ``x86`` dispatch. ``saturating`` is
    True when the kernel sums raw product pairs with int16 saturation. ``q``,
    ``kernel_accumulator`` (the int32 the kernel requantizes, which for QNNPACK
    includes its int32 bias) and ``saturated_pairs`` are int64 arrays of the output shape.
    """

    engine: str
    library: str
    kernel_path: str
    isa: str
    saturating: bool
    q: np.ndarray
    kernel_accumulator: np.ndarray
    saturated_pairs: np.ndarray
    target: KernelTarget | None = None


def emulate(
    scenario: Scenario, isa: str = "native", *, cpu: CpuInfo | None = None, environ: Mapping[str, str] | None = None
) -> Emulation:
    """Compute the output integers of ``scenario.engine`` as its kernel does on the modelled CPU.

    ``isa="native"`` models this process: the detected CPU and the ``FBGEMM_ENABLE_INSTRUCTIONS``
    and ``ONEDNN_MAX_CPU_ISA`` variables in ``os.environ`` (``cpu`` and ``environ`` replace
    them). ``isa="avx2"`` models a CPU without AVX-512 and without VNNI. Raises
    :class:`EmulationError` for a scenario the real kernel rejects, and ValueError for an
    unknown ``isa``.
    """
    check_supported(scenario)
    target = resolve_target(scenario, isa, cpu=cpu, environ=environ)
    result = run_kernel_model(scenario, target)
    return Emulation(
        scenario.engine,
        target.library,
        target.kernel_path,
        target.isa,
        target.saturating,
        result.requant.q,
        result.accumulator,
        result.clipped_pairs,
        target,
    )


def clipped_pairs(
    scenario: Scenario, isa: str = "native", *, cpu: CpuInfo | None = None, environ: Mapping[str, str] | None = None
) -> np.ndarray:
    """Return ``emulate(...).saturated_pairs``: the int16 pair sums clipped in every output cell.

    Only the pair sums are computed, without the accumulators and the requantization, so a
    kernel that accumulates exactly costs nothing. Arguments and errors are as in :func:`emulate`.
    """
    check_supported(scenario)
    return clipping(scenario, resolve_target(scenario, isa, cpu=cpu, environ=environ))[1]


# Layer kinds the emulators model and the property tests check against the real kernels.
EMULATED_KINDS = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "linear")


def check_supported(scenario: Scenario) -> None:
    """Raise :class:`EmulationError` for a layer kind not emulated yet, or one the engine rejects."""
    if scenario.layer.kind not in EMULATED_KINDS:
        raise EmulationError(
            f"layer kind {scenario.layer.kind} is not emulated yet; qdebug emulates {' and '.join(EMULATED_KINDS)}, "
            "so run qdebug report to compare the real kernel with the float path"
        )
    if scenario.output.dtype.name != "quint8":
        raise EmulationError(
            f"output dtype {scenario.output.dtype.name} is not emulated: PyTorch's quantized conv and linear "
            "modules return quint8; set output.dtype to quint8"
        )
    layer = scenario.layer
    if layer.is_transposed and scenario.weight.qparams.per_channel and scenario.engine != "qnnpack":
        raise EmulationError(
            f"the {scenario.engine} engine rejects per-channel transposed conv weights (\"Per Channel Quantization is "
            "currently disabled for transposed conv\"); use one weight scale or the qnnpack engine"
        )
    if layer.is_transposed and scenario.engine == "onednn" and any(layer.output_padding):
        raise EmulationError(
            "the onednn engine rejects a transposed conv with output_padding (\"ONEDNN only supports zero "
            "output_padding\"); set output_padding to 0 or choose the x86, fbgemm or qnnpack engine"
        )
    if scenario.engine == "onednn" and np.any(scenario.weight.qparams.zero_point_array() != 0):
        raise EmulationError(
            "the onednn engine rejects a nonzero weight zero point (it supports only symmetric weights); "
            "set weight.zero_point to 0 or choose the x86, fbgemm or qnnpack engine"
        )
