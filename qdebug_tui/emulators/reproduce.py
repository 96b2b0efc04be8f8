"""Which real kernel run reproduces an instruction-set form on this machine, and what cannot.

``isa="avx2"`` models a CPU without VNNI. On a VNNI CPU the what-if worker runs torch under
``FBGEMM_ENABLE_INSTRUCTIONS=AVX2`` and ``ONEDNN_MAX_CPU_ISA=AVX2``, which reproduces most of
that form. Two decisions read cpuinfo and ignore the variables. PyTorch's ``x86`` dispatch
sends a non-VNNI conv to FBGEMM, so the worker runs engine ``fbgemm`` instead. FBGEMM's
groupwise kernel keeps using VNNI, so its AVX2 result cannot be run here.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdebug_tui.backends.cpu import CpuInfo, detect_cpu
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT, resolve_target


@dataclass(frozen=True)
class RealRunPlan:
    """The scenario to run on the real kernel, and whether that run is the modelled kernel."""

    scenario: Scenario
    reproducible: bool
    notes: tuple[str, ...]


def plan_real_run(scenario: Scenario, isa: str, cpu: CpuInfo | None = None) -> RealRunPlan:
    """Return how to run ``scenario`` for real so that it matches ``isa``'s model."""
    if isa == "native":
        return RealRunPlan(scenario, True, ())
    cpu = cpu or detect_cpu()
    modelled = resolve_target(scenario, isa, cpu=cpu)
    notes = []
    run = scenario
    if scenario.engine == "x86":
        run = scenario.with_engine(modelled.library)
        if scenario.layer.is_conv and cpu.has_avx512_vnni:
            notes.append(
                "x86 dispatch reads cpuinfo, which reports AVX512-VNNI here, so a non-VNNI x86 conv cannot run on this "
                f"machine; it is shown as {modelled.library} with the AVX2 kernels, which x86 picks without VNNI"
            )
    worker = resolve_target(run, "native", cpu=cpu, environ=AVX2_ENVIRONMENT)
    same = (worker.library, worker.kernel_path, worker.saturating) == (modelled.library, modelled.kernel_path, modelled.saturating)
    if not same:
        notes.append(
            f"this machine runs {worker.library}'s {worker.kernel_path} kernel ({worker.isa}) even under "
            f"FBGEMM_ENABLE_INSTRUCTIONS=AVX2, so the real number is not the AVX2 result; the AVX2 numbers are "
            f"qdebug's model of the {modelled.kernel_path} kernel ({modelled.isa})"
        )
    if modelled.kernel_path == "groupwise" and modelled.saturating:
        # NOTE: no CPU without VNNI was available; the pairing comes from reading FBGEMM's source.
        notes.append(
            "the non-VNNI groupwise model pairs adjacent input channels of one tap, as GroupwiseConvAcc32Avx2.cc in "
            "FBGEMM does; it has not been checked against a real CPU without VNNI"
        )
    return RealRunPlan(run, same, tuple(notes))
