"""Full-tensor emulation: ``emulate`` on every output cell, per engine and instruction-set form.

``native`` models this process's CPU. ``avx2`` models a CPU without AVX-512 and VNNI, where
FBGEMM and oneDNN sum u8 × s8 pairs with int16 saturation; its cost grows with the number of
(pair, output channel) candidates that can clip, so full-range random weights are its worst
case.
"""

from __future__ import annotations

import numpy as np

from benchmarks.measure import Sample, time_calls
from qdebug_tui.core.scenario import ENGINES, Scenario
from qdebug_tui.emulators import EmulationError, emulate

ISA_FORMS = ("native", "avx2")


def emulation_timings(scenario: Scenario, repeats: int) -> dict[str, dict[str, Sample | str | int]]:
    """Time ``emulate`` for each engine and form; a rejected scenario gives the reason instead.

    ``clipped_cells_avx2`` counts the output cells with at least one clipped pair in the
    avx2 form, which is what the avx2 timings depend on.
    """
    results: dict[str, dict[str, Sample | str | int]] = {}
    for engine in ENGINES:
        engine_scenario = scenario.with_engine(engine)
        results[engine] = {}
        for isa in ISA_FORMS:
            try:
                results[engine][isa] = time_calls(lambda: emulate(engine_scenario, isa), repeats)
            except EmulationError as error:
                results[engine][isa] = f"rejected: {error}"
        if isinstance(results[engine]["avx2"], Sample):
            clipped = emulate(engine_scenario, "avx2").saturated_pairs
            results[engine]["clipped_cells_avx2"] = int(np.count_nonzero(clipped))
    return results
