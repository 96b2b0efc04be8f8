"""CPU instruction-set facts and PyTorch's x86 dispatch rule, read without importing torch.

The ISA decides how FBGEMM and oneDNN accumulate. With AVX512-VNNI (``vpdpbusd``), 8-bit
products are summed exactly. Without it, they are summed in int16 pairs with saturation.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from qdebug_tui.core.layers import Layer

# Values of FBGEMM_ENABLE_INSTRUCTIONS that select a kernel without VNNI, and those with it.
# FBGEMM reads the variable case-insensitively, once per process.
FBGEMM_SATURATING_SETTINGS = frozenset({"avx2", "avx512", "avx512_256"})
FBGEMM_VNNI_SETTINGS = frozenset({"avx512_e1", "avx512_e1_256"})

# Values of ONEDNN_MAX_CPU_ISA that cap oneDNN below every VNNI form (AVX-VNNI and AVX512-VNNI).
ONEDNN_SATURATING_SETTINGS = frozenset({"avx2", "avx512_core", "avx", "sse41"})

# Values that allow AVX-VNNI but not AVX512-VNNI.
ONEDNN_AVX_VNNI_SETTINGS = frozenset({"avx2_vnni", "avx2_vnni_2"})

X86_ONEDNN_MAX_GROUPS = 100


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model and feature flags, from ``/proc/cpuinfo`` on Linux or the platform module elsewhere."""

    machine: str
    model: str
    flags: frozenset[str]
    system: str = sys.platform

    @property
    def is_x86(self) -> bool:
        return self.machine.lower() in {"x86_64", "amd64", "i686", "x86"}

    @property
    def is_arm64(self) -> bool:
        return self.machine.lower() in {"aarch64", "arm64"}

    @property
    def has_avx512_vnni(self) -> bool:
        return "avx512_vnni" in self.flags

    @property
    def has_avx_vnni(self) -> bool:
        """Return True for the VEX-encoded VNNI of AVX-VNNI CPUs such as Alder Lake."""
        return "avx_vnni" in self.flags

    @property
    def isa(self) -> str:
        """Return the best integer-dot-product instruction set, for example ``avx512-vnni``."""
        if self.is_arm64:
            return "arm64-neon-dotprod" if "asimddp" in self.flags else "arm64-neon"
        if not self.is_x86:
            return self.machine or "unknown"
        if self.has_avx512_vnni:
            return "avx512-vnni"
        if "avx512bw" in self.flags:
            return "avx512"
        if "avx_vnni" in self.flags:
            return "avx2-vnni"
        if "avx2" in self.flags:
            return "avx2"
        return "x86-64"


@cache
def detect_cpu() -> CpuInfo:
    """Read the CPU's model and feature flags once per process."""
    machine = platform.machine()
    model = platform.processor() or machine
    flags: set[str] = set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        try:
            text = cpuinfo.read_text(errors="replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in {"flags", "features"} and not flags:
                flags.update(value.split())
            elif key == "model name" and model in {machine, ""}:
                model = value.strip()
    return CpuInfo(machine, model, frozenset(flags))


@dataclass(frozen=True)
class KernelIsa:
    """The accumulation form a library uses in this process, and why."""

    saturating: bool
    label: str
    reason: str


def fbgemm_isa(cpu: CpuInfo, environ: dict[str, str] | None = None) -> KernelIsa:
    """Return how FBGEMM's GEMM kernels accumulate in a process started with ``environ``."""
    environ = os.environ if environ is None else environ
    setting = environ.get("FBGEMM_ENABLE_INSTRUCTIONS", "").strip().lower()
    if setting in FBGEMM_SATURATING_SETTINGS:
        return KernelIsa(True, f"{setting} (forced)", f"FBGEMM_ENABLE_INSTRUCTIONS={setting.upper()}")
    # FBGEMM ignores a value it does not know and uses the CPU's best ISA (fbgemmEnvGetIsa, src/Utils.cc).
    if cpu.has_avx512_vnni:
        return KernelIsa(False, "avx512-vnni", "the CPU has AVX512-VNNI")
    return KernelIsa(True, cpu.isa, f"the CPU has {cpu.isa}, no AVX512-VNNI")


def onednn_isa(cpu: CpuInfo, environ: dict[str, str] | None = None) -> KernelIsa:
    """Return how oneDNN's int8 kernels accumulate in a process started with ``environ``."""
    environ = os.environ if environ is None else environ
    setting = environ.get("ONEDNN_MAX_CPU_ISA", environ.get("DNNL_MAX_CPU_ISA", "")).strip().lower()
    if setting in ONEDNN_SATURATING_SETTINGS:
        return KernelIsa(True, f"{setting} (forced)", f"ONEDNN_MAX_CPU_ISA={setting.upper()}")
    # oneDNN runs int8 with VEX VNNI (avx2_vnni) too; measured exact with ONEDNN_MAX_CPU_ISA=AVX2_VNNI.
    if setting in ONEDNN_AVX_VNNI_SETTINGS:
        if cpu.has_avx_vnni:
            return KernelIsa(False, "avx2-vnni", f"ONEDNN_MAX_CPU_ISA={setting.upper()} on a CPU with AVX-VNNI")
        return KernelIsa(True, "avx2 (forced)", f"ONEDNN_MAX_CPU_ISA={setting.upper()} on a CPU without AVX-VNNI")
    if cpu.has_avx512_vnni:
        return KernelIsa(False, "avx512-vnni", "the CPU has AVX512-VNNI")
    if cpu.has_avx_vnni:
        return KernelIsa(False, "avx2-vnni", "the CPU has AVX-VNNI")
    return KernelIsa(True, cpu.isa, f"the CPU has {cpu.isa}, no VNNI")


@dataclass(frozen=True)
class Dispatch:
    """The library that runs a layer on an engine, and the rule that picked it."""

    library: str
    reason: str


def dispatch(engine: str, layer: Layer, weight_zero_points: np.ndarray, cpu: CpuInfo) -> Dispatch:
    """Return the library that runs ``layer`` on ``engine``.

    For ``x86``, PyTorch's ``should_use_onednn_quant`` (aten/src/ATen/native/quantized/cpu/
    OnednnUtils.h) sends a conv to oneDNN only on Linux, with AVX512-VNNI in cpuinfo, at most
    100 groups, all weight zero points 0 and no output padding; everything else, and every
    linear layer, runs FBGEMM.
    """
    if engine != "x86":
        return Dispatch(engine, f"engine {engine}")
    if not layer.is_conv:
        return Dispatch("fbgemm", "x86 runs every linear layer on FBGEMM")
    reasons = []
    if not cpu.system.startswith("linux"):
        reasons.append("the OS is not Linux")
    if not cpu.has_avx512_vnni:
        reasons.append("the CPU has no AVX512-VNNI")
    if layer.groups > X86_ONEDNN_MAX_GROUPS:
        reasons.append(f"groups = {layer.groups} > {X86_ONEDNN_MAX_GROUPS}")
    if np.any(np.asarray(weight_zero_points) != 0):
        reasons.append("a weight zero point is not 0")
    if any(layer.output_padding):
        reasons.append("output_padding is not 0")
    if reasons:
        return Dispatch("fbgemm", "x86 picks FBGEMM: " + ", ".join(reasons))
    return Dispatch("onednn", "x86 picks oneDNN: Linux, AVX512-VNNI, groups ≤ 100, symmetric weights, no output padding")
