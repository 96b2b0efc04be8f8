"""One constructed case per named cause, each checked against the real kernel.

Every test runs the real op in a worker and the float path in this process, then traces the
cell. The trace must name the cause, and the emulator must give the real kernel's integer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import emulation_environment

from qdebug_tui.backends.worker import CRASH_MESSAGE, WorkerBackend
from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import BiasTensor, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.emulators import emulate
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.numerics.float_path import float_layer
from qdebug_tui.numerics.reference import reference
from qdebug_tui.trace import CAUSES, trace_cell

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"


def linear(x, w, s_x, z_x, s_w, s_o, z_o, engine="fbgemm", bias=None) -> Scenario:
    """Return a linear layer with per-tensor, symmetric weights."""
    inputs = QuantizedTensor(QUINT8, QuantParams((s_x,), (z_x,)), np.asarray(x, dtype=np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((s_w,), (0,)), np.asarray(w, dtype=np.int8))
    bias_tensor = None if bias is None else BiasTensor(np.asarray(bias, dtype=np.float32))
    return Scenario("constructed", Layer("linear"), inputs, weight, bias_tensor, OutputQuant(QUINT8, s_o, z_o), engine)


def traced(workers, scenario: Scenario, cell, form: str = "native"):
    """Run the real kernel and the float path, and trace ``cell`` as ``qdebug explain`` does."""
    worker = workers[form]
    real = float_layer(scenario)
    float_q = worker.quantize_output(real, scenario.output)
    run = worker.run(scenario)
    assert run.error is None, run.error
    environ = emulation_environment(form)
    assert emulate(scenario, environ=environ).q[cell] == run.q[cell], "the emulator disagrees with the real kernel"
    return trace_cell(
        scenario,
        cell,
        float_q=int(float_q[cell]),
        float_real=float(real[cell]),
        quantized_q=int(run.q[cell]),
        environ=environ,
    )


def test_seed_avx2_saturates_two_pairs(workers):
    scenario = load_scenario(SAMPLES / "seed_conv2d.json")
    trace = traced(workers, scenario.with_engine("fbgemm"), (0, 0, 0, 0), "avx2")
    clipped = [(pair.activations, pair.weights, pair.exact, pair.saturated) for pair in trace.backend.pairs if pair.clipped_by]
    assert trace.exact.accumulator == -13861
    assert clipped == [((200, 200), (-67, -97), -32800, -32768), ((200, 200), (-128, -125), -50600, -32768)]
    assert trace.backend.accumulator == 4003
    assert trace.quantized_q == 7
    assert trace.output_q == 7
    assert trace.float_path.q == 0
    assert trace.cause == "int16-saturation"
    assert "-50600" in trace.explanation
    assert "reduce_range" in trace.explanation


def test_seed_x86_avx2_model_matches_worker(workers):
    scenario = load_scenario(SAMPLES / "seed_conv2d.json")
    modelled = trace_cell(scenario, (0, 0, 0, 0), "avx2", float_q=0)
    assert scenario.engine == "x86"
    assert modelled.backend.library == "fbgemm"
    assert modelled.backend.accumulator == 4003
    assert modelled.output_q == int(workers["avx2"].run(scenario).q[0, 0, 0, 0])


def test_seed_native_is_clamped(workers):
    scenario = load_scenario(SAMPLES / "seed_conv2d.json")
    trace = traced(workers, scenario, (0, 0, 0, 0), "native")
    assert trace.quantized_q == 0
    assert trace.float_path.q == 0
    assert trace.exact.unclamped_q == -25
    assert trace.cause == "clamped"
    assert "-25" in trace.explanation
    assert "below the output range 0..255" in trace.explanation


def test_bias_rounding_in_qnnpack(workers):
    # The bias is 0.4 accumulator units: QNNPACK rounds it to 0, the float path keeps 0.8 LSB.
    scenario = linear([[100]], [[1]], 1.0, 100, 1.0, 0.5, 100, "qnnpack", bias=[0.4])
    trace = traced(workers, scenario, (0, 0))
    assert trace.backend.bias_int32 == 0
    assert (trace.quantized_q, trace.float_path.q) == (100, 101)
    assert trace.cause == "bias-rounding"


def test_zero_point_order_of_float_path(workers):
    # y = 2.5 exactly: FBGEMM rounds first (2 + 3), torch.quantize_per_tensor adds 3 first (rne(5.5)).
    scenario = linear([[8]], [[1]], 1.0, 3, 1.0, 2.0, 3)
    trace = traced(workers, scenario, (0, 0))
    assert (trace.quantized_q, trace.float_path.q, trace.exact.q) == (5, 6, 5)
    assert trace.cause == "zero-point-rounding-order"


def test_onednn_adds_zero_point_first(workers):
    scenario = linear([[8]], [[1]], 1.0, 3, 1.0, 2.0, 3, "onednn")
    trace = traced(workers, scenario, (0, 0))
    assert trace.requantization.zero_point_added == "before rounding"
    assert (trace.quantized_q, trace.float_path.q, trace.exact.q) == (6, 6, 5)
    assert trace.cause is None


def test_requantization_rounding_near_tie(workers):
    # FBGEMM's float32 value is exactly 96.5 and ties to 96; the exact value is 96.5000081.
    scenario = linear([[242, 18]], [[115, -33]], 0.0012550562637134695, 128, 0.003097252395522599, 0.000674322881705127, 128)
    trace = traced(workers, scenario, (0, 0))
    assert trace.requantization.before_rounding == 96.5
    assert (trace.quantized_q, trace.exact.q) == (224, 225)
    assert trace.float_path.q == 225
    assert trace.cause == "requantization-rounding"


def test_float_accumulation_flips_cells(workers):
    rng = np.random.default_rng(56)
    x = rng.integers(0, 256, (4096, 64))
    w = rng.integers(-128, 128, (1, 64))
    s_x, s_w = float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-3, -1))
    s_o = float(s_x * s_w * 128 * np.abs(w).sum() / 6 / 127 * 10 ** rng.uniform(-0.3, 0.3))
    scenario = linear(x, w, s_x, 128, s_w, s_o, 128)
    real = float_layer(scenario)
    float_q = workers["native"].quantize_output(real, scenario.output)
    exact = reference(scenario).q
    kernel = workers["native"].run(scenario).q
    cells = [tuple(int(i) for i in cell) for cell in np.argwhere((float_q != exact) & (kernel == exact))]
    # NOTE: MKL's float32 summation order decides which cells flip; this seed flips at least one on x86-64 with AVX-512.
    assert cells, "no cell of this layer is flipped by the float path's float32 sum"
    for cell in cells:
        trace = trace_cell(scenario, cell, float_q=int(float_q[cell]), float_real=float(real[cell]), quantized_q=int(kernel[cell]))
        assert trace.cause == "float-accumulation", trace.explanation


@pytest.mark.parametrize("engine", ["fbgemm", "qnnpack"])
def test_output_overflow_gives_zero(workers, engine):
    # y = 20000 / 2^-20 ≈ 2.1e10 is beyond 2^31: cvtps2dq returns INT32_MIN.
    scenario = linear([[200]], [[100]], 1.0, 0, 1.0, 2.0**-20, 3, engine)
    trace = traced(workers, scenario, (0, 0))
    assert (trace.quantized_q, trace.float_path.q) == (0, 255)
    assert trace.requantization.overflow
    assert trace.cause == "output-overflow"


def test_onednn_saturates_instead_of_overflowing(workers):
    scenario = linear([[200]], [[100]], 1.0, 0, 1.0, 2.0**-20, 3, "onednn")
    trace = traced(workers, scenario, (0, 0))
    assert trace.quantized_q == 255
    assert trace.cause == "clamped"


def test_accumulator_overflow_wraps(workers):
    # 70000 · 255 · 127 exceeds 2^31 − 1, so the int32 sum wraps negative.
    scenario = linear(np.full((1, 70000), 255), np.full((1, 70000), 127), 1 / 255, 0, 1 / 127, 300.0, 0)
    trace = traced(workers, scenario, (0, 0))
    assert trace.exact.accumulator == 70000 * 255 * 127
    assert trace.backend.accumulator == 70000 * 255 * 127 - 2**32
    assert (trace.quantized_q, trace.float_path.q) == (0, 233)
    assert trace.cause == "accumulator-overflow"


def test_fbgemm_groupwise_bug_is_kernel_mismatch():
    # Five groups of four channels: FBGEMM's groupwise kernel handles four groups at a time.
    rng = np.random.default_rng(8)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 5, False)
    inputs = QuantizedTensor(QUINT8, QuantParams((0.02,), (90,)), rng.integers(0, 256, (1, 20, 6, 6)).astype(np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((0.01,), (0,)), rng.integers(-128, 128, (20, 4, 3, 3)).astype(np.int8))
    scenario = Scenario("groupwise", layer, inputs, weight, None, OutputQuant(QUINT8, 0.06, 128), "fbgemm")
    # The bug writes out of bounds, so it runs in a worker of its own that no other test reuses.
    with WorkerBackend.cpu_default() as worker:
        run = worker.run(scenario)
    emulation = emulate(scenario, environ={})
    assert emulation.kernel_path == "groupwise"
    assert np.array_equal(emulation.q, reference(scenario).q)
    if not run.ok:
        # The out-of-bounds writes can also abort the worker (twice, as here): a crash is a mismatch too.
        assert run.error.startswith(CRASH_MESSAGE)
        crash = run.error.removeprefix(CRASH_MESSAGE)
        trace = trace_cell(scenario, (0, 0, 0, 0), float_q=int(emulation.q[0, 0, 0, 0]), environ={}, kernel_crash=crash)
        assert trace.cause == "kernel-mismatch"
        assert "crashed" in trace.explanation
        return
    real = run.q
    wrong = [tuple(int(i) for i in cell) for cell in np.argwhere(real != emulation.q)]
    assert wrong, "the real groupwise kernel gave the right answer; the known bug may be fixed"
    cell = wrong[0]
    trace = trace_cell(scenario, cell, float_q=int(emulation.q[cell]), quantized_q=int(real[cell]), environ={})
    assert trace.cause == "kernel-mismatch"
    assert "kernel bug" in trace.explanation
    assert "groupwise" in trace.explanation


def test_every_cause_is_documented():
    documented = (Path(__file__).resolve().parents[1] / "docs" / "causes.md").read_text()
    for cause in CAUSES:
        assert f"`{cause}`" in documented, cause
