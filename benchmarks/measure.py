"""Repetitions, medians and the facts about the machine that every figure depends on."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sample:
    """Repeated timings of one measurement, in milliseconds."""

    median: float
    minimum: float
    maximum: float
    runs: int

    @classmethod
    def of(cls, milliseconds: list[float]) -> Sample:
        if not milliseconds:
            raise ValueError("a sample needs at least one timing")
        return cls(statistics.median(milliseconds), min(milliseconds), max(milliseconds), len(milliseconds))

    def to_json(self) -> dict:
        return {name: round(value, 3) if isinstance(value, float) else value for name, value in asdict(self).items()}


def time_calls(function: Callable[[], object], repeats: int, warmup: int = 1) -> Sample:
    """Call ``function`` ``warmup`` times untimed, then ``repeats`` times; return the timings."""
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return Sample.of(timings)


def load_average() -> float:
    """Return the 1-minute load average."""
    return os.getloadavg()[0]


def machine_facts() -> dict:
    """Describe the machine: cores, CPU model and instruction set, Python, torch and NumPy."""
    import numpy
    import torch

    from qdebug_tui.backends.cpu import detect_cpu

    cpu = detect_cpu()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu.model,
        "isa": cpu.isa,
        "vnni": cpu.has_avx512_vnni,
        "system": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": numpy.__version__,
    }
