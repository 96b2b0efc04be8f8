"""Unit tests of the emulators: pair saturation, kernel targets, speed, and no torch import."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.emulators import emulate, resolve_target
from qdebug_tui.emulators.operands import GemmOperands, natural_order, per_tap_padded_order
from qdebug_tui.emulators.saturation import pair_sums_u8s8_sat16
from qdebug_tui.io.scenario_file import load_scenario

SEED = Path(__file__).resolve().parents[1] / "sample_data" / "seed_conv2d.json"
VNNI_CPU = CpuInfo("x86_64", "test CPU with VNNI", frozenset({"avx2", "avx512f", "avx512bw", "avx512_vnni"}), "linux")


def brute_force_correction(activations, weights, order):
    """Return Σ (sat16(s) − s) and the clipped count with a loop over every pair."""
    batch, groups, positions, _ = activations.shape
    outputs = weights.shape[2]
    correction = np.zeros((batch, groups, positions, outputs), dtype=np.int64)
    clipped = np.zeros_like(correction)
    for slot in range(0, len(order), 2):
        pair = [int(k) for k in order[slot : slot + 2]]
        total = 0
        for k in pair:
            if k >= 0:
                total = total + activations[..., k, None].astype(np.int64) * weights[None, :, None, k, :]
        clip = np.clip(total, -32768, 32767) - total
        correction += clip
        clipped += clip != 0
    return correction, clipped


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    groups=st.integers(1, 3),
    reduction=st.integers(1, 13),
    outputs=st.integers(1, 5),
    positions=st.integers(1, 7),
    padded=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_saturation_matches_brute_force(groups, reduction, outputs, positions, padded, seed):
    rng = np.random.default_rng(seed)
    activations = np.where(rng.random((2, groups, positions, reduction)) < 0.5, 255, rng.integers(0, 256, (2, groups, positions, reduction)))
    weights = np.where(rng.random((groups, reduction, outputs)) < 0.5, rng.choice([-128, 127], (groups, reduction, outputs)), rng.integers(-128, 128, (groups, reduction, outputs)))
    operands = GemmOperands(activations.astype(np.int32), weights.astype(np.int32), 0, (), True)
    order = per_tap_padded_order(reduction, (1,)) if padded else natural_order(reduction)
    result = pair_sums_u8s8_sat16(operands, order)
    expected_correction, expected_clipped = brute_force_correction(activations, weights, order)
    assert np.array_equal(result.correction, expected_correction)
    assert np.array_equal(result.clipped_pairs, expected_clipped)


def test_fbgemm_variable_selects_form():
    seed = load_scenario(SEED).with_engine("fbgemm")
    forms = {
        "AVX2": True, "avx512": True, "AVX512_256": True, "AVX512_E1": False, "avx512_e1_256": False, "": False,
    }
    for value, saturating in forms.items():
        target = resolve_target(seed, cpu=VNNI_CPU, environ={"FBGEMM_ENABLE_INSTRUCTIONS": value})
        assert target.saturating is saturating, value


def test_x86_dispatch_follows_cpu():
    scenario = load_scenario(SEED)
    symmetric = Scenario(
        "symmetric", scenario.layer, scenario.input,
        QuantizedTensor(QINT8, QuantParams((0.003,), (0,)), scenario.weight.q), None, scenario.output, "x86",
    )
    assert resolve_target(symmetric, cpu=VNNI_CPU, environ={}).library == "onednn"
    assert resolve_target(symmetric, "avx2", cpu=VNNI_CPU, environ={}).library == "fbgemm"
    assert resolve_target(scenario, cpu=VNNI_CPU, environ={}).library == "fbgemm"


def test_onednn_unaligned_groups_take_reference_kernel():
    rng = np.random.default_rng(0)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 2, False)
    inputs = QuantizedTensor(QUINT8, QuantParams((0.1,), (3,)), rng.integers(0, 256, (1, 6, 4, 4)).astype(np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((0.1,), (0,)), rng.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8))
    scenario = Scenario("grouped", layer, inputs, weight, None, OutputQuant(QUINT8, 1.0, 0), "onednn")
    avx2 = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert resolve_target(scenario, cpu=VNNI_CPU, environ=avx2).kernel_path == "reference"
    assert not resolve_target(scenario, cpu=VNNI_CPU, environ=avx2).saturating
    assert resolve_target(scenario, cpu=VNNI_CPU, environ={}).kernel_path == "direct"


def test_full_layer_emulation_is_interactive():
    # A 64 → 64 3×3 conv on 56×56 with full-range random weights: the worst case for pair saturation.
    rng = np.random.default_rng(0)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 1, False)
    inputs = QuantizedTensor(QUINT8, QuantParams((0.02,), (10,)), rng.integers(0, 256, (1, 64, 56, 56)).astype(np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((0.005,), (0,)), rng.integers(-128, 128, (64, 64, 3, 3)).astype(np.int8))
    bias = BiasTensor(rng.normal(0, 1, 64).astype(np.float32))
    scenario = Scenario("speed", layer, inputs, weight, bias, OutputQuant(QUINT8, 0.5, 128), "fbgemm")
    emulate(scenario, "avx2")
    started = time.perf_counter()
    emulation = emulate(scenario, "avx2")
    elapsed = time.perf_counter() - started
    assert emulation.saturated_pairs.any()
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_emulators_and_trace_import_without_torch():
    code = (
        "import sys\n"
        "from qdebug_tui.emulators import emulate\n"
        "from qdebug_tui.trace import trace_cell\n"
        "from qdebug_tui.io.scenario_file import load_scenario\n"
        f"scenario = load_scenario({str(SEED)!r})\n"
        "emulate(scenario, 'avx2'); trace_cell(scenario, (0, 0, 0, 0), 'avx2', float_q=0)\n"
        "print(sorted(m for m in ('torch', 'textual', 'rich') if m in sys.modules))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"
    assert output.stderr == ""


def test_unknown_fbgemm_value_keeps_cpu_isa():
    seed = load_scenario(SEED).with_engine("fbgemm")
    assert not resolve_target(seed, cpu=VNNI_CPU, environ={"FBGEMM_ENABLE_INSTRUCTIONS": "bogus"}).saturating


def test_onednn_uses_avx_vnni():
    linear = load_scenario(SEED.with_name("pytorch_issue_76390_linear.json")).with_engine("onednn")
    alder_lake = CpuInfo("x86_64", "AVX-VNNI CPU", frozenset({"avx2", "avx_vnni"}), "linux")
    assert not resolve_target(linear, cpu=alder_lake, environ={}).saturating
    assert resolve_target(linear, cpu=alder_lake, environ={"ONEDNN_MAX_CPU_ISA": "AVX2"}).saturating
    assert resolve_target(linear, cpu=VNNI_CPU, environ={"ONEDNN_MAX_CPU_ISA": "AVX2_VNNI"}).saturating
    assert resolve_target(linear, cpu=VNNI_CPU, environ={"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}).saturating
    assert not resolve_target(linear, cpu=VNNI_CPU, environ={"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"}).saturating
