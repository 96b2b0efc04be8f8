"""Shapes on which a real torch 2.13 kernel returns wrong integers, found by the kind property tests.

Each test runs the real kernel in its own worker process (some of these kernels write out of
bounds), checks that it differs from the emulator, and that the cell trace names the result
``kernel-mismatch`` with the known bug's description. A torch upgrade that fixes a kernel makes
its test fail, so that the rule in known_bugs.py can be dropped.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.backends.worker import CLEARED_ISA_ENVIRONMENT, WorkerBackend
from qdebug_tui.emulators import emulate
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.testing import LayerSpec, build_scenario
from qdebug_tui.trace import trace_cell


def spec(kind, groups, channels, outputs, spatial, kernel, stride, padding, value_mode="full") -> LayerSpec:
    dims = len(spatial)
    return LayerSpec(
        "bug", (1,), groups, channels, outputs, spatial, kernel, stride, padding, (1,) * dims,
        False, False, "zero", value_mode, "normal", "none", kind=kind,
    )


# (engine, spec, words in the known bug's description)
BUGS = {
    "fbgemm direct transposed, height stride 2": (
        "fbgemm", spec("conv_transpose2d", 1, 8, 8, (4, 4), (2, 3), (2, 1), (0, 0), "narrow"), "height stride",
    ),
    "fbgemm direct transposed, batch of 2": (
        "fbgemm", replace(spec("conv_transpose2d", 1, 8, 8, (4, 4), (2, 3), (1, 1), (0, 0), "narrow"), batch=(2,)), "first sample",
    ),
    "fbgemm 3-D depthwise, input side shorter than padding": (
        "fbgemm", spec("conv3d", 8, 1, 1, (6, 6, 1), (5, 5, 5), (1, 1, 1), (2, 2, 2)), "3-D depthwise",
    ),
    "onednn grouped conv3d of depth 1": (
        "onednn", spec("conv3d", 8, 1, 2, (1, 4, 4), (3, 3, 3), (1, 1, 1), (1, 1, 1)), "conv3d",
    ),
}


@pytest.mark.parametrize("name", sorted(BUGS))
def test_known_bug_differs_and_traces_as_mismatch(name):
    engine, layer_spec, words = BUGS[name]
    assert layer_spec.is_valid()
    scenario = build_scenario(layer_spec, engine, 1)
    emulation = emulate(scenario, "native", environ={})
    description = known_kernel_bug(scenario, emulation.target, "avx512f" in detect_cpu().flags)
    assert description is not None
    assert words in description

    with WorkerBackend(CLEARED_ISA_ENVIRONMENT) as worker:
        run = worker.run(scenario)
    assert run.error is None, run.error
    wrong = np.argwhere(run.q != emulation.q)
    assert len(wrong) > 0, "the kernel now matches the emulator: drop this shape from known_bugs.py"

    cell = tuple(int(i) for i in wrong[0])
    trace = trace_cell(scenario, cell, "native", environ={}, quantized_q=int(run.q[cell]))
    assert trace.cause == "kernel-mismatch"
    assert trace.output_q == emulation.q[cell]
    assert trace.quantized_q == run.q[cell]
    assert f"returned {int(run.q[cell])}" in trace.explanation
    assert description in trace.explanation


def test_direct_transposed_with_height_stride_one_is_right():
    """The same kernel with a height stride of 1 matches the emulator, saturation included."""
    scenario = build_scenario(spec("conv_transpose2d", 1, 8, 8, (4, 4), (2, 3), (1, 2), (0, 0), "extreme"), "fbgemm", 1)
    emulation = emulate(scenario, "native", environ={})
    assert emulation.kernel_path == "direct"
    assert emulation.saturating
    with WorkerBackend(CLEARED_ISA_ENVIRONMENT) as worker:
        run = worker.run(scenario)
    assert int((emulation.saturated_pairs > 0).sum()) > 0
    assert np.array_equal(run.q, emulation.q)
