"""One recompute of a scenario for the screen: reference, both paths, and the emulator's marks.

Headless and blocking; the TUI runs it in a thread worker. Importing this module does not
import torch: the backend is passed in once it has loaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.evaluation import evaluate, evaluate_reference
from qdebug_tui.output_view import Results

EMULATORS_MODULE = "qdebug_tui.emulators"

logger = logging.getLogger(__name__)


def compute_reference(scenario: Scenario) -> Results:
    """Compute the exact reference only; needs no torch."""
    return Results(scenario, evaluate_reference(scenario))


def compute_results(scenario: Scenario, backend: QuantizedBackend) -> tuple[Results, float]:
    """Run the reference, both paths and the emulator; return the results and the seconds taken."""
    started = time.perf_counter()
    exact = evaluate_reference(scenario)
    evaluation = evaluate(scenario, backend, exact)
    saturated = saturation_mask(scenario)
    return Results(scenario, exact, evaluation, saturated), time.perf_counter() - started


def emulators_available() -> bool:
    return importlib.util.find_spec(EMULATORS_MODULE) is not None


def saturation_mask(scenario: Scenario) -> np.ndarray | None:
    """Return a mask of the output cells where the emulator saw an int16 pair sum saturate.

    Returns None when the emulators are not installed or the emulator raised. An error is
    logged with its traceback and not raised, because the rest of the results stay valid.
    """
    if not emulators_available():
        return None
    emulators = importlib.import_module(EMULATORS_MODULE)
    try:
        emulation = emulators.emulate(scenario, isa="native")
    except Exception:
        logger.exception("the emulator failed on scenario %r; showing no saturation marks", scenario.name)
        return None
    return np.asarray(emulation.saturated_pairs) > 0
