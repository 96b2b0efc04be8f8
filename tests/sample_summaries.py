"""Print, as JSON, the mismatch summary of every sample scenario on every engine.

Run as a script in a subprocess, so that the caller can set FBGEMM_ENABLE_INSTRUCTIONS or
ONEDNN_MAX_CPU_ISA before torch loads.
"""

from __future__ import annotations

import json
from pathlib import Path

from qdebug_tui.backends import load_torch_backend
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.evaluation import evaluate
from qdebug_tui.io.scenario_file import load_scenario

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def summaries() -> dict[str, dict[str, list]]:
    backend = load_torch_backend()
    table: dict[str, dict[str, list]] = {}
    for path in sorted(SAMPLES.glob("*.json")):
        scenario = load_scenario(path)
        table[path.name] = {}
        for engine in ENGINES:
            evaluation = evaluate(scenario.with_engine(engine), backend)
            summary = evaluation.comparison.summary
            table[path.name][engine] = [summary.mismatched, summary.max_abs_diff, evaluation.quantized.error]
    return table


if __name__ == "__main__":
    print(json.dumps(summaries()))
