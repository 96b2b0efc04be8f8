"""The cell trace agrees with the vectorised emulators and describes the kernel's order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import kind_specs, layer_specs

from qdebug_tui.core.dtypes import QINT8, QUINT8
from qdebug_tui.core.layers import Layer
from qdebug_tui.core.scenario import ENGINES, OutputQuant, QuantizedTensor, QuantParams, Scenario
from qdebug_tui.emulators import EmulationError, emulate
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.numerics.reference import reference
from qdebug_tui.testing import build_scenario
from qdebug_tui.trace import CellIndexError, trace_cell
from qdebug_tui.trace.batch import emulated_entry, mismatch_causes
from qdebug_tui.trace.json_view import trace_to_json

SEED = Path(__file__).resolve().parents[1] / "sample_data" / "seed_conv2d.json"
AVX2 = {"FBGEMM_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    spec=layer_specs(),
    seed=st.integers(0, 2**32 - 1),
    engine=st.sampled_from(ENGINES),
    isa=st.sampled_from(["native", "avx2", "forced-avx2"]),
    pick=st.integers(0, 2**31),
)
def test_trace_matches_emulator(spec, seed, engine, isa, pick):
    scenario = build_scenario(spec, engine, seed)
    environ = AVX2 if isa == "forced-avx2" else {}
    model = "native" if isa == "forced-avx2" else isa
    emulation = emulate(scenario, model, environ=environ)
    exact = reference(scenario)
    cell = tuple(int(i) for i in np.unravel_index(pick % emulation.q.size, emulation.q.shape))
    trace = trace_cell(scenario, cell, model, environ=environ)
    assert trace.backend.accumulator == emulation.kernel_accumulator[cell]
    assert trace.backend.saturated_pairs == emulation.saturated_pairs[cell]
    assert trace.output_q == emulation.q[cell]
    assert trace.exact.accumulator == exact.accumulator[cell]
    assert trace.exact.q == exact.q[cell]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    spec=kind_specs(),
    seed=st.integers(0, 2**32 - 1),
    engine=st.sampled_from(ENGINES),
    isa=st.sampled_from(["native", "avx2", "forced-avx2"]),
    pick=st.integers(0, 2**31),
)
def test_trace_matches_emulator_every_kind(spec, seed, engine, isa, pick):
    scenario = build_scenario(spec, engine, seed)
    environ = AVX2 if isa == "forced-avx2" else {}
    model = "native" if isa == "forced-avx2" else isa
    try:
        emulation = emulate(scenario, model, environ=environ)
    except EmulationError:
        return
    exact = reference(scenario)
    cell = tuple(int(i) for i in np.unravel_index(pick % emulation.q.size, emulation.q.shape))
    trace = trace_cell(scenario, cell, model, environ=environ)
    shape = scenario.weight.shape
    if scenario.layer.is_transposed:
        reduction = shape[0] // scenario.layer.groups * int(np.prod(shape[2:]))
    else:
        reduction = int(np.prod(shape[1:]))
    assert len(trace.terms) == reduction
    assert trace.backend.accumulator == emulation.kernel_accumulator[cell]
    assert trace.backend.saturated_pairs == emulation.saturated_pairs[cell]
    assert trace.output_q == emulation.q[cell]
    assert trace.exact.accumulator == exact.accumulator[cell]
    assert trace.exact.q == exact.q[cell]


def test_fbgemm_pairs_straddle_taps_with_odd_channels():
    rng = np.random.default_rng(0)
    layer = Layer("conv2d", (1, 1), (0, 0), (1, 1), 1, False)
    inputs = QuantizedTensor(QUINT8, QuantParams((0.1,), (3,)), rng.integers(0, 256, (1, 3, 3, 3)).astype(np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((0.1,), (0,)), rng.integers(-128, 128, (1, 3, 3, 3)).astype(np.int8))
    scenario = Scenario("odd", layer, inputs, weight, None, OutputQuant(QUINT8, 1.0, 0), "fbgemm")
    trace = trace_cell(scenario, (0, 0, 0, 0), "avx2")
    # Channels-last order: slot = tap · 3 + channel, so slots 2 and 3 are (c2, tap 0) and (c0, tap 1).
    assert [term.weight_index for term in trace.terms[:4]] == [(0, 0, 0, 0), (0, 1, 0, 0), (0, 2, 0, 0), (0, 0, 0, 1)]
    assert trace.backend.pairs[1].k == (2 * 9 + 0, 0 * 9 + 1)
    assert len(trace.backend.pairs) == 14


def test_onednn_pairs_stay_within_taps():
    rng = np.random.default_rng(1)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 1, False)
    inputs = QuantizedTensor(QUINT8, QuantParams((0.1,), (3,)), rng.integers(0, 256, (1, 3, 3, 3)).astype(np.uint8))
    weight = QuantizedTensor(QINT8, QuantParams((0.1,), (0,)), rng.integers(-128, 128, (1, 3, 3, 3)).astype(np.int8))
    scenario = Scenario("odd", layer, inputs, weight, None, OutputQuant(QUINT8, 1.0, 0), "onednn")
    trace = trace_cell(scenario, (0, 0, 0, 0), "avx2")
    assert trace.backend.library == "onednn"
    assert trace.backend.saturating
    # Three channels padded to four per tap: every second pair is channel 2 and a zero slot.
    assert all(pair.k[1] == -1 for pair in trace.backend.pairs[1::2])
    padded = [term for term in trace.terms if term.input_index is None]
    assert padded and all(term.raw_x == 0 and term.q_x == 3 for term in padded)


def test_fbgemm_padding_holds_input_zero_point():
    scenario = load_scenario(SEED)
    layer = Layer("conv2d", (1, 1), (1, 1), (1, 1), 1, False)
    padded = Scenario("padded", layer, scenario.input, scenario.weight, None, scenario.output, "fbgemm")
    trace = trace_cell(padded, (0, 0, 0, 0), "avx2")
    corners = [term for term in trace.terms if term.input_index is None]
    assert len(corners) == 9
    assert all(term.raw_x == 33 and term.product == 0 for term in corners)


def test_trace_json_has_documented_keys():
    trace = trace_cell(load_scenario(SEED), (0, 0, 0, 0), "avx2", float_q=0, quantized_q=7)
    document = json.loads(json.dumps(trace_to_json(trace)))
    assert document["index"] == [0, 0, 0, 0]
    assert {"q_x", "q_w", "product"} <= set(document["terms"][0])
    assert document["accumulator"] == -13861
    assert document["backend"]["name"] == "fbgemm"
    assert document["backend"]["isa"] == "avx2"
    assert document["backend"]["saturated_pairs"] == 2
    assert document["backend"]["accumulator"] == 4003
    assert len(document["backend"]["pairs"]) == 14
    assert document["output_q"] == 7
    assert document["float_path"]["q"] == 0
    assert isinstance(document["float_path"]["real"], float)
    assert document["quantized_path"]["q"] == 7
    assert document["cause"] == "int16-saturation"
    assert "4003" in document["explanation"]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ((0, 0, 1, 0), "out of range 0..0"),
        ((0, 0, 0), "has 3 indices"),
        (("a", 0, 0, 0), "invalid cell"),
        ((0, 0, 0, -1), "out of range 0..0"),
    ],
)
def test_trace_rejects_bad_cell(cell, message):
    with pytest.raises(CellIndexError, match=message):
        trace_cell(load_scenario(SEED), cell)


def test_trace_rejects_asymmetric_onednn():
    with pytest.raises(EmulationError, match="nonzero weight zero point"):
        trace_cell(load_scenario(SEED).with_engine("onednn"), (0, 0, 0, 0))


def test_emulate_rejects_unknown_isa():
    with pytest.raises(ValueError, match="invalid isa 'avx512'"):
        emulate(load_scenario(SEED), "avx512")


def test_mismatch_causes_name_seed_cell():
    scenario = load_scenario(SEED)
    float_q = np.zeros((1, 1, 1, 1), dtype=np.int64)
    float_real = np.full((1, 1, 1, 1), -0.5151546, dtype=np.float32)
    causes = mismatch_causes(scenario, float_q, float_real, None, "avx2")
    assert causes == {(0, 0, 0, 0): "int16-saturation"}
    assert mismatch_causes(scenario, float_q, float_real, None, "native") == {}


def test_emulated_entry_describes_backend():
    entry = emulated_entry(emulate(load_scenario(SEED), "avx2"))
    assert entry["q"] == [[[[7]]]]
    assert entry["backend"]["library"] == "fbgemm"
    assert entry["backend"]["isa"] == "avx2"
    assert entry["backend"]["cells_with_saturated_pairs"] == 1
