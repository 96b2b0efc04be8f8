"""One recompute of a scenario for the screen: reference, both paths, and the emulator's marks.

Headless and blocking; the TUI runs it in a thread worker. Importing this module does not
import torch: the backend is passed in once it has loaded.

A :class:`RecomputeCache` keeps the parts of the last results that an edit may leave as they
were: the exact accumulators, the float layer's output and the saturation mask. Each is keyed
by exactly what it depends on, so an edit of the output scale reuses all three.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.cache import ArrayKeyedCache
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import EmulationError, clipped_pairs
from qdebug_tui.evaluation import evaluate
from qdebug_tui.numerics.float_path import float_layer
from qdebug_tui.numerics.reference import accumulator_terms, accumulators_from_terms, reference
from qdebug_tui.output_view import Results

# Scenarios kept per part: the one on screen, the one before the edit, and one more for undo.
CACHED_SCENARIOS = 3

logger = logging.getLogger(__name__)


class RecomputeCache:
    """The exact accumulators, float layer outputs and saturation masks of recent scenarios."""

    def __init__(self, size: int = CACHED_SCENARIOS) -> None:
        self._terms: ArrayKeyedCache[tuple[np.ndarray, np.ndarray]] = ArrayKeyedCache(size)
        self._accumulators: ArrayKeyedCache[np.ndarray] = ArrayKeyedCache(size)
        self._float_outputs: ArrayKeyedCache[np.ndarray] = ArrayKeyedCache(size)
        self._saturation: ArrayKeyedCache[np.ndarray | None] = ArrayKeyedCache(size)

    def accumulators(self, scenario: Scenario) -> np.ndarray:
        """Return Σ (q_x − z_x)(q_w − z_w) per output cell; it depends on integers and zero points only.

        The GEMM runs once per input and weight: a new input zero point costs one elementwise pass.
        """
        inputs, weight = scenario.input, scenario.weight
        parts = (scenario.layer, inputs.q, weight.q, weight.qparams.zero_points, weight.qparams.axis)

        def from_terms() -> np.ndarray:
            raw, weight_sums = self._terms.get(parts, lambda: accumulator_terms(scenario.layer, inputs.q, weight.centered()))
            return accumulators_from_terms(raw, weight_sums, inputs.qparams.zero_points[0])

        return self._accumulators.get(_integer_parts(scenario), from_terms)

    def float_output(self, scenario: Scenario) -> np.ndarray:
        """Return the float layer's float32 output; the output qparams and the engine play no part."""
        inputs, weight = scenario.input, scenario.weight
        bias = None if scenario.bias is None else scenario.bias.values
        parts = (scenario.layer, inputs.q, inputs.qparams, weight.q, weight.qparams, bias)
        return self._float_outputs.get(parts, lambda: float_layer(scenario))

    def saturation(self, scenario: Scenario, cpu: CpuInfo | None = None) -> np.ndarray | None:
        """Return :func:`saturation_mask`; scales play no part, the engine and the modelled CPU do.

        ``cpu`` None models this process's CPU and environment, which stay fixed while it runs.
        """
        parts = (*_integer_parts(scenario), scenario.engine, cpu)
        return self._saturation.get(parts, lambda: saturation_mask(scenario, cpu))

    def clear(self) -> None:
        for cache in (self._terms, self._accumulators, self._float_outputs, self._saturation):
            cache.clear()


def _integer_parts(scenario: Scenario) -> tuple:
    """Return what the raw operands of a kernel depend on: layer, integers and zero points."""
    inputs, weight = scenario.input, scenario.weight
    return (
        scenario.layer,
        inputs.q,
        inputs.qparams.zero_points,
        inputs.qparams.axis,
        weight.q,
        weight.qparams.zero_points,
        weight.qparams.axis,
    )


def compute_reference(scenario: Scenario, cache: RecomputeCache | None = None) -> Results:
    """Compute the exact reference only; needs no torch."""
    cache = cache or RecomputeCache()
    return Results(scenario, reference(scenario, cache.accumulators(scenario)))


def compute_results(
    scenario: Scenario, backend: QuantizedBackend, cache: RecomputeCache | None = None, cpu: CpuInfo | None = None
) -> tuple[Results, float]:
    """Run the reference, both paths and the emulator; return the results and the seconds taken.

    Parts found in ``cache`` are reused. They are keyed by everything they depend on, so the
    results are the same as without a cache. ``cpu`` is the CPU the emulator models for the
    saturation marks: this machine's by default.
    """
    started = time.perf_counter()
    cache = cache or RecomputeCache()
    exact = reference(scenario, cache.accumulators(scenario))
    evaluation = evaluate(scenario, backend, exact, cache.float_output(scenario))
    saturated = cache.saturation(scenario, cpu)
    return Results(scenario, exact, evaluation, saturated), time.perf_counter() - started


def saturation_mask(scenario: Scenario, cpu: CpuInfo | None = None) -> np.ndarray | None:
    """Return a mask of the output cells where the emulator saw an int16 pair sum saturate.

    Only the pair sums are emulated, so a kernel that accumulates exactly costs nothing.
    Returns None for a scenario the emulators do not cover (a layer kind not emulated yet, or
    one the engine rejects). Any other emulator error is logged with its traceback and not
    raised, because the rest of the results stay valid and the app must keep running.
    """
    try:
        clipped = clipped_pairs(scenario, isa="native", cpu=cpu)
    except EmulationError:
        return None
    except Exception:
        logger.exception("the emulator failed on scenario %r; showing no saturation marks", scenario.name)
        return None
    return np.asarray(clipped) > 0
