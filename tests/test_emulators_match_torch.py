"""The emulators give the real torch kernels' integers on every cell of random layers.

Each engine and instruction-set form gets ``QDEBUG_PROPERTY_CASES`` (default 500) hypothesis
cases, run on the real kernel through one worker process per form. The ``avx2`` form runs
under FBGEMM_ENABLE_INSTRUCTIONS=AVX2 and ONEDNN_MAX_CPU_ISA=AVX2, and the emulator models that
same process (``emulate(..., environ=...)``). Shapes that hit a known kernel bug are left out
here and tested in test_causes.py.
"""

from __future__ import annotations

import collections
import os

import numpy as np
import pytest
from conftest import emulation_environment
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import layer_specs

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.emulators import emulate
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.testing import build_scenario

CASES = int(os.environ.get("QDEBUG_PROPERTY_CASES", "500"))

# Kernel paths every run of CASES examples must reach, per (engine, form).
EXPECTED_PATHS = {
    ("fbgemm", "native"): {"im2col", "pointwise", "depthwise", "groupwise", "gemm"},
    ("fbgemm", "avx2"): {"im2col", "pointwise", "depthwise", "groupwise", "gemm"},
    ("onednn", "native"): {"direct", "depthwise", "gemm"},
    ("onednn", "avx2"): {"direct", "depthwise", "reference", "gemm"},
    ("qnnpack", "native"): {"direct", "depthwise", "gemm"},
    ("qnnpack", "avx2"): {"direct", "depthwise", "gemm"},
    ("x86", "native"): {"direct", "im2col", "gemm"},
    ("x86", "avx2"): {"direct", "im2col", "gemm"},
}


def describe_mismatch(scenario, emulation, real: np.ndarray) -> str:
    cells = np.argwhere(real != emulation.q)[:5]
    listed = ", ".join(
        f"{tuple(int(i) for i in cell)}: real {int(real[tuple(cell)])}, emulated {int(emulation.q[tuple(cell)])}" for cell in cells
    )
    return (
        f"{int((real != emulation.q).sum())} of {real.size} cells differ on {emulation.library} {emulation.kernel_path} "
        f"({emulation.isa}); layer {scenario.layer}, input {scenario.input.shape}, weight {scenario.weight.shape}, "
        f"per-channel {scenario.weight.qparams.per_channel}, bias {scenario.bias is not None}: {listed}"
    )


@pytest.mark.parametrize("form", ["native", "avx2"])
@pytest.mark.parametrize("engine", ENGINES)
def test_emulator_matches_real_kernel(workers, engine, form):
    worker = workers[form]
    environ = emulation_environment(form)
    avx512 = "avx512f" in detect_cpu().flags
    seen = collections.Counter()

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(spec=layer_specs(), seed=st.integers(0, 2**32 - 1))
    def check(spec, seed):
        scenario = build_scenario(spec, engine, seed)
        emulation = emulate(scenario, "native", environ=environ)
        assume(known_kernel_bug(scenario, emulation.target, avx512) is None)
        run = worker.run(scenario)
        assert run.error is None, f"the real kernel rejected a valid layer: {run.error}"
        assert run.q.shape == emulation.q.shape
        assert np.array_equal(run.q, emulation.q), describe_mismatch(scenario, emulation, run.q)
        seen["cases"] += 1
        seen[emulation.kernel_path] += 1
        seen["saturated cells"] += int((emulation.saturated_pairs > 0).sum())

    check()
    assert seen["cases"] >= CASES
    missing = EXPECTED_PATHS[(engine, form)] - set(seen)
    assert not missing, f"no case reached the kernel paths {sorted(missing)}; seen {dict(seen)}"
    if form == "avx2" and engine != "qnnpack":
        assert seen["saturated cells"] > 0, f"no case clipped a pair sum; seen {dict(seen)}"
