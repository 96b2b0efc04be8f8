"""The emulators give the real torch kernels' integers for every layer kind, engine and ISA form.

For each (kind, engine, form), ``QDEBUG_KIND_CASES`` (default 40) seeded random layers of that
kind (``random_kind_spec``: general, depthwise with channel multiplier 1 or 2, grouped,
pointwise, FBGEMM's direct transposed shapes; per-tensor and per-channel weights, bias or
none, fused ReLU) run on the real kernel through one worker process per form and are compared
on every output cell. The ``avx2`` worker runs under FBGEMM_ENABLE_INSTRUCTIONS=AVX2 and
ONEDNN_MAX_CPU_ISA=AVX2. Layers the engine rejects must be rejected by ``emulate`` too.
Shapes that hit a known kernel bug are not run here, because some of them corrupt the
worker's memory; test_known_kernel_bugs.py pins them.
"""

from __future__ import annotations

import collections
import os
from dataclasses import replace

import numpy as np
import pytest
from conftest import emulation_environment
from test_emulators_match_torch import describe_mismatch

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.core.layers import LAYER_KINDS
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.emulators import EmulationError, emulate
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.testing import build_scenario, random_kind_spec

CASES = int(os.environ.get("QDEBUG_KIND_CASES", "40"))

# Kernel paths that the random layers of a kind must reach on each engine and form.
EXPECTED_PATHS = {
    ("conv_transpose2d", "fbgemm", "native"): {"direct", "im2col"},
    ("conv_transpose2d", "fbgemm", "avx2"): {"direct", "im2col"},
    ("conv3d", "fbgemm", "native"): {"depthwise", "im2col", "pointwise"},
    ("conv_transpose2d", "onednn", "avx2"): {"gemm", "direct"},
    ("linear", "fbgemm", "avx2"): {"gemm"},
}


@pytest.mark.parametrize("form", ["native", "avx2"])
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", tuple(LAYER_KINDS))
def test_kind_emulator_matches_real_kernel(workers, kind, engine, form):
    worker = workers[form]
    environ = emulation_environment(form)
    avx512 = "avx512f" in detect_cpu().flags
    seen = collections.Counter()
    for case in range(CASES):
        seed = 1000 * LAYER_KINDS[kind] + case
        spec = random_kind_spec(np.random.default_rng([seed, len(kind)]), kind)
        if spec.is_transposed and engine in ("onednn", "x86") and case % 4:
            # oneDNN's transposed conv is right only with as many output as input channels and
            # rejects per-channel weights and output_padding, so most cases avoid those.
            zeros = (0,) * len(spec.stride)
            matched = replace(spec, outputs_per_group=spec.channels_per_group, per_channel=False, output_padding=zeros)
            spec = matched if matched.is_valid() else spec
        scenario = build_scenario(spec, engine, seed)
        try:
            emulation = emulate(scenario, "native", environ=environ)
        except EmulationError as error:
            run = worker.run(scenario)
            assert run.error is not None, f"emulate rejected a layer the real kernel runs: {error}; {spec}"
            seen["rejected"] += 1
            continue
        if known_kernel_bug(scenario, emulation.target, avx512) is not None:
            seen["known bug"] += 1
            continue
        run = worker.run(scenario)
        assert run.error is None, f"the real kernel rejected a layer that emulate accepts: {run.error}; {spec}"
        assert run.q.shape == emulation.q.shape
        assert np.array_equal(run.q, emulation.q), describe_mismatch(scenario, emulation, run.q)
        seen["compared"] += 1
        seen[emulation.kernel_path] += 1
        seen["saturated cells"] += int((emulation.saturated_pairs > 0).sum())

    if (kind, engine) == ("conv_transpose3d", "qnnpack"):
        # Every QNNPACK conv_transpose3d is a known bug: only its first output depth slice is right.
        assert seen["known bug"] + seen["rejected"] == CASES, f"seen {dict(seen)}"
        return
    assert seen["compared"] >= CASES // 3, f"too few layers compared; seen {dict(seen)}"
    missing = EXPECTED_PATHS.get((kind, engine, form), set()) - set(seen)
    assert not missing, f"no case reached the kernel paths {sorted(missing)}; seen {dict(seen)}"
    if form == "avx2" and engine != "qnnpack":
        assert seen["saturated cells"] > 0, f"no case clipped a pair sum; seen {dict(seen)}"
