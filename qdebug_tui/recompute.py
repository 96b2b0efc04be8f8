"""One recompute of a scenario for the screen: reference, both paths, and the emulator's marks.

Headless and blocking; the TUI runs it in a thread worker. Importing this module does not
import torch: the backend is passed in once it has loaded.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import EmulationError, emulate
from qdebug_tui.evaluation import evaluate, evaluate_reference
from qdebug_tui.output_view import Results

logger = logging.getLogger(__name__)


def compute_reference(scenario: Scenario) -> Results:
    """Compute the exact reference only; needs no torch."""
    return Results(scenario, evaluate_reference(scenario))


def compute_results(scenario: Scenario, backend: QuantizedBackend, cpu: CpuInfo | None = None) -> tuple[Results, float]:
    """Run the reference, both paths and the emulator; return the results and the seconds taken.

    ``cpu`` is the CPU the emulator models for the saturation marks: this machine's by default.
    """
    started = time.perf_counter()
    exact = evaluate_reference(scenario)
    evaluation = evaluate(scenario, backend, exact)
    saturated = saturation_mask(scenario, cpu)
    return Results(scenario, exact, evaluation, saturated), time.perf_counter() - started


def saturation_mask(scenario: Scenario, cpu: CpuInfo | None = None) -> np.ndarray | None:
    """Return a mask of the output cells where the emulator saw an int16 pair sum saturate.

    Returns None for a scenario the emulators do not cover (a layer kind not emulated yet, or
    one the engine rejects). Any other emulator error is logged with its traceback and not
    raised, because the rest of the results stay valid and the app must keep running.
    """
    try:
        emulation = emulate(scenario, isa="native", cpu=cpu)
    except EmulationError:
        return None
    except Exception:
        logger.exception("the emulator failed on scenario %r; showing no saturation marks", scenario.name)
        return None
    return np.asarray(emulation.saturated_pairs) > 0
