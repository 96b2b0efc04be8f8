"""Reused parts of a recompute give the integers of a recompute from scratch, bit for bit.

The app keeps exact accumulators, float layer outputs, saturation masks and packed weights
across edits. Each test runs a sequence of edits on random layers twice, once reusing and
once computing everything afresh, and compares every array.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.backends.torch_ao import REUSABLE_PACK_ENGINES, TorchAOBackend
from qdebug_tui.core.cache import ArrayKeyedCache
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import EmulationError, clipped_pairs, emulate, resolve_target
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.numerics.reference import accumulator_terms, accumulators_from_terms, scenario_accumulators
from qdebug_tui.recompute import RecomputeCache, compute_results
from qdebug_tui.testing import build_scenario, random_spec

LAYERS_PER_ENGINE = 40
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def random_layers(engine: str, count: int, seed: int) -> list[Scenario]:
    """Return ``count`` random layers on ``engine`` that hit no known kernel bug in this process."""
    rng = np.random.default_rng(seed)
    avx512 = "avx512f" in detect_cpu().flags
    layers = []
    while len(layers) < count:
        scenario = build_scenario(random_spec(rng), engine, int(rng.integers(0, 2**31)))
        if not known_kernel_bug(scenario, resolve_target(scenario, "native"), avx512):
            layers.append(scenario)
    return layers


def edits_of(scenario: Scenario) -> list[Scenario]:
    """Return a sequence of edits, each built from the one before as the app builds them.

    Scales change by powers of two, which keep the rounding ties of power-of-two scales.
    """
    out = scenario.output
    inputs = scenario.input
    weight = scenario.weight
    steps = [
        lambda s: replace(s, output=replace(out, scale=out.scale * 2.0)),
        lambda s: replace(s, output=replace(s.output, zero_point=(out.zero_point + 7) % 256)),
        lambda s: replace(s, input=replace(inputs, qparams=replace(inputs.qparams, scales=(inputs.qparams.scales[0] * 0.5,)))),
        lambda s: replace(s, input=replace(s.input, qparams=replace(s.input.qparams, zero_points=((inputs.qparams.zero_points[0] + 3) % 256,)))),
        lambda s: replace(s, weight=replace(weight, qparams=replace(weight.qparams, scales=tuple(v * 2.0 for v in weight.qparams.scales)))),
        lambda s: replace(s, output=out),
        lambda s: replace(s, weight=replace(s.weight, qparams=replace(s.weight.qparams, zero_points=_shifted(s.weight.qparams.zero_points)))),
        lambda s: s.with_engine("qnnpack" if s.engine != "qnnpack" else "fbgemm"),
        lambda s: replace(s, input=replace(s.input, q=_bumped(s.input.q))),
        lambda s: scenario,
    ]
    scenarios = []
    current = scenario
    for step in steps:
        current = step(current)
        scenarios.append(current)
    return scenarios


def _shifted(zero_points: tuple[int, ...]) -> tuple[int, ...]:
    """Return int8 weight zero points one step away, inside [-128, 127]."""
    return tuple(zero_point + 1 if zero_point < 127 else zero_point - 1 for zero_point in zero_points)


def _bumped(values: np.ndarray) -> np.ndarray:
    """Return a copy with the first value changed, as a value edit in the app does."""
    copy = values.copy()
    copy.flat[0] = (int(copy.flat[0]) + 1) % 256
    return copy


def assert_same_results(cached, fresh) -> None:
    assert np.array_equal(cached.exact.accumulator, fresh.exact.accumulator)
    assert np.array_equal(cached.exact.scaled, fresh.exact.scaled)
    assert np.array_equal(cached.exact.q, fresh.exact.q)
    assert np.array_equal(cached.evaluation.float_path.real, fresh.evaluation.float_path.real)
    assert np.array_equal(cached.evaluation.float_path.q, fresh.evaluation.float_path.q)
    assert cached.evaluation.quantized.error == fresh.evaluation.quantized.error
    if fresh.evaluation.quantized.q is not None:
        assert np.array_equal(cached.evaluation.quantized.q, fresh.evaluation.quantized.q)
    assert np.array_equal(cached.evaluation.comparison.diff, fresh.evaluation.comparison.diff)
    assert cached.evaluation.comparison.summary == fresh.evaluation.comparison.summary
    assert (cached.saturated is None) == (fresh.saturated is None)
    if fresh.saturated is not None:
        assert np.array_equal(cached.saturated, fresh.saturated)


def with_input_zero_point(scenario: Scenario, zero_point: int) -> Scenario:
    qparams = replace(scenario.input.qparams, zero_points=(zero_point,))
    return replace(scenario, input=replace(scenario.input, qparams=qparams))


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.json")), ids=lambda path: path.stem)
def test_accumulator_terms_every_layer_kind(sample):
    scenario = load_scenario(sample)
    raw, weight_sums = accumulator_terms(scenario.layer, scenario.input.q, scenario.weight.centered())
    for zero_point in (0, 1, 128, 255, scenario.input.qparams.zero_points[0]):
        expected = scenario_accumulators(with_input_zero_point(scenario, zero_point))
        assert np.array_equal(accumulators_from_terms(raw, weight_sums, zero_point), expected), zero_point


def test_accumulator_terms_random_layers():
    rng = np.random.default_rng(3)
    for scenario in random_layers("fbgemm", 200, seed=41):
        raw, weight_sums = accumulator_terms(scenario.layer, scenario.input.q, scenario.weight.centered())
        zero_point = int(rng.integers(0, 256))
        expected = scenario_accumulators(with_input_zero_point(scenario, zero_point))
        assert np.array_equal(accumulators_from_terms(raw, weight_sums, zero_point), expected)


@pytest.mark.parametrize("engine", ["x86", "fbgemm", "onednn", "qnnpack"])
def test_cached_recompute_matches_fresh(engine):
    cache = RecomputeCache()
    reusing = TorchAOBackend()
    for scenario in random_layers(engine, LAYERS_PER_ENGINE // 4, seed=11):
        for edited in edits_of(scenario):
            cached, _ = compute_results(edited, reusing, cache)
            fresh, _ = compute_results(edited, TorchAOBackend())
            assert_same_results(cached, fresh)
    assert cache._terms.hits > 0
    assert cache._accumulators.hits > 0
    assert cache._float_outputs.hits > 0
    assert cache._saturation.hits > 0


@pytest.mark.parametrize("engine", REUSABLE_PACK_ENGINES)
def test_reused_packs_match_fresh_packs(engine):
    reusing = TorchAOBackend()
    runs = 0
    for scenario in random_layers(engine, LAYERS_PER_ENGINE, seed=23):
        for edited in edits_of(scenario)[:7]:
            reused = reusing.run(edited)
            fresh = TorchAOBackend().run(edited)
            assert reused.error == fresh.error
            if fresh.q is not None:
                assert np.array_equal(reused.q, fresh.q), edited
            runs += 1
    assert reusing._packs.hits >= runs // 2


def test_qnnpack_packs_are_not_reused():
    backend = TorchAOBackend()
    scenario = random_layers("qnnpack", 1, seed=5)[0]
    for edited in edits_of(scenario)[:3]:
        backend.run(edited)
    assert backend._packs.hits + backend._packs.misses == 0


def test_reused_qnnpack_pack_would_be_stale():
    # The reason QNNPACK is left out: a pack run once keeps the first output scale.
    import torch

    rng = np.random.default_rng(0)
    weight = torch._make_per_tensor_quantized_tensor(torch.from_numpy(rng.integers(-100, 100, (4, 8, 3, 3)).astype(np.int8)), 0.01, 0)
    inputs = torch._make_per_tensor_quantized_tensor(torch.from_numpy(rng.integers(0, 256, (1, 8, 6, 6)).astype(np.uint8)), 0.02, 10)
    bias = torch.from_numpy(rng.normal(0, 1, 4).astype(np.float32))
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = "qnnpack"
    try:
        packed = torch.ops.quantized.conv2d_prepack(weight, bias, [1, 1], [1, 1], [1, 1], 1)
        torch.ops.quantized.conv2d(inputs, packed, 0.5, 128)
        reused = torch.ops.quantized.conv2d(inputs, packed, 1.0, 100).int_repr()
        repacked = torch.ops.quantized.conv2d_prepack(weight, bias, [1, 1], [1, 1], [1, 1], 1)
        fresh = torch.ops.quantized.conv2d(inputs, repacked, 1.0, 100).int_repr()
    finally:
        torch.backends.quantized.engine = previous
    assert not torch.equal(reused, fresh)


@pytest.mark.parametrize("isa", ["native", "avx2"])
@pytest.mark.parametrize("engine", ["x86", "fbgemm", "onednn", "qnnpack"])
def test_clipped_pairs_match_emulate(engine, isa):
    for scenario in random_layers(engine, LAYERS_PER_ENGINE, seed=37):
        try:
            expected = emulate(scenario, isa).saturated_pairs
        except EmulationError:
            continue
        assert np.array_equal(clipped_pairs(scenario, isa), expected)


def test_cache_keys_arrays_by_identity():
    cache: ArrayKeyedCache[int] = ArrayKeyedCache(2)
    values = np.arange(4)
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get((values, "a"), compute) == 1
    assert cache.get((values, "a"), compute) == 1
    assert cache.get((values.copy(), "a"), compute) == 2
    assert cache.get((values, "b"), compute) == 3
    assert cache.hits == 1
    assert cache.misses == 3


def test_cache_evicts_least_recent():
    cache: ArrayKeyedCache[str] = ArrayKeyedCache(2)
    cache.get(("first",), lambda: "1")
    cache.get(("second",), lambda: "2")
    cache.get(("first",), lambda: "again")
    cache.get(("third",), lambda: "3")
    assert cache.get(("first",), lambda: "recomputed") == "1"
    assert cache.get(("second",), lambda: "recomputed") == "recomputed"


def test_cache_keeps_key_arrays_alive():
    # An id is only unique among live objects, so an entry must keep its arrays alive.
    cache: ArrayKeyedCache[int] = ArrayKeyedCache(4)
    cache.get((np.zeros(1000),), lambda: 1)
    gc.collect()
    for _ in range(100):
        fresh = np.ones(1000)
        assert cache.get((fresh,), lambda: 2) == 2
        del fresh


def test_cache_rejects_unhashable_parts():
    cache: ArrayKeyedCache[int] = ArrayKeyedCache(1)
    with pytest.raises(TypeError, match="hashable"):
        cache.get(([1, 2],), lambda: 1)
