"""Soak test: compare the emulators with the real torch kernels on many random layers.

    python -m benchmarks.soak_emulators --cases 10000 --seed 1

Runs ``--cases`` random layers per instruction-set form (native and AVX2-forced), spread over
the engines, each through one worker process per form. Layers that can hit a known kernel bug
(``qdebug_tui.emulators.known_bugs``) are counted and not run, because those kernels can
corrupt the worker's memory or crash it. Prints a summary and
writes it as JSON to ``--output``; exits with status 1 if any layer mismatched.
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.backends.worker import CLEARED_ISA_ENVIRONMENT, WorkerBackend
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.emulators import emulate
from qdebug_tui.emulators.known_bugs import known_kernel_bug
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT
from qdebug_tui.testing import build_scenario, random_spec

FORMS = {"native": CLEARED_ISA_ENVIRONMENT, "avx2": AVX2_ENVIRONMENT}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compare the emulators with the real kernels on random layers.")
    parser.add_argument("--cases", type=int, default=10000, help="random layers per instruction-set form (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first layer; layer i uses seed + i (default 1)")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/soak_emulators.json"), help="summary file")
    return parser.parse_args(argv)


def soak_form(form: str, cases: int, seed: int, avx512: bool) -> dict:
    """Run ``cases`` layers on one form's worker; return counts and the mismatching layers."""
    counts = collections.Counter()
    mismatches = []
    environ = {name: value for name, value in FORMS[form].items() if value}
    with WorkerBackend(FORMS[form]) as worker:
        for case in range(cases):
            layer_seed = seed + case
            engine = ENGINES[case % len(ENGINES)]
            spec = random_spec(np.random.default_rng(layer_seed))
            scenario = build_scenario(spec, engine, layer_seed)
            emulation = emulate(scenario, "native", environ=environ)
            key = f"{engine}/{emulation.library}/{emulation.kernel_path}"
            if known_kernel_bug(scenario, emulation.target, avx512):
                # These kernels can corrupt the worker's memory or crash it, so they are not run.
                counts["known-bug layers left out"] += 1
                continue
            run = worker.run(scenario)
            counts["layers"] += 1
            counts[key] += 1
            if run.q is None:
                mismatches.append({"seed": layer_seed, "engine": engine, "error": run.error, "spec": repr(spec)})
                continue
            counts["cells"] += int(run.q.size)
            counts["cells with clipped pairs"] += int((emulation.saturated_pairs > 0).sum())
            wrong = int((run.q != emulation.q).sum())
            if wrong:
                mismatches.append({"seed": layer_seed, "engine": engine, "path": key, "cells": wrong, "spec": repr(spec)})
    return {"counts": dict(sorted(counts.items())), "mismatches": mismatches}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cpu = detect_cpu()
    started = time.perf_counter()
    results = {form: soak_form(form, args.cases, args.seed, "avx512f" in cpu.flags) for form in FORMS}
    summary = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{cpu.model}, {cpu.isa}, {platform.system()} {platform.machine()}",
        "command": "python -m benchmarks.soak_emulators " + " ".join(sys.argv[1:] if argv is None else argv),
        "seconds": round(time.perf_counter() - started, 1),
        "forms": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    for form, result in results.items():
        counts = result["counts"]
        print(
            f"{form}: {counts.get('layers', 0)} layers, {counts.get('cells', 0)} cells "
            f"({counts.get('cells with clipped pairs', 0)} with clipped pairs), {len(result['mismatches'])} mismatching layers; "
            f"{counts.get('known-bug layers left out', 0)} known-bug layers left out"
        )
        for mismatch in result["mismatches"][:10]:
            print(f"  mismatch: {mismatch}")
    print(f"{summary['seconds']} s; summary written to {args.output}")
    return 1 if any(result["mismatches"] for result in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
