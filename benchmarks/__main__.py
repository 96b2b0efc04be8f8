"""Run every benchmark, print the tables and write the results as JSON.

    python -m benchmarks            # the figures in BENCHMARKS.md, 3 to 4 minutes on 2 cores
    python -m benchmarks --quick    # fewer repetitions, under a minute

The app runs as installed: ``qdebug`` must be on PATH or next to this Python, and tmux
installed. Figures depend on the machine and on its load, which is recorded with them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.layers import DRILL_DOWN_LAYERS, LAYERS, LAYERS_BY_KEY
from benchmarks.measure import load_average, machine_facts
from benchmarks.report import print_report, to_json

DEFAULT_OUTPUT = Path("benchmarks/results/latest.json")
SECTIONS = ("startup", "edits", "drilldown", "emulation")


@dataclass(frozen=True)
class Repeats:
    """Repetitions per measurement; ``edit_kinds`` are the edits timed on every layer."""

    import_torch: int
    first_paint: int
    layer_launches: int
    edits: int
    edit_kinds: tuple[str, ...]
    raw_ops: int
    drilldown: int
    drilldown_openings: int
    drilldown_forms: tuple[str, ...]
    emulation: int


FULL = Repeats(7, 7, 3, 15, ("output-scale", "input-zero-point"), 21, 11, 8, ("native", "avx2"), 5)
QUICK = Repeats(3, 3, 1, 5, ("output-scale",), 7, 3, 3, ("native",), 1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Time qdebug against the raw torch ops.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and edit kinds; under a minute")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only this section (repeatable)")
    parser.add_argument(
        "--layers", nargs="+", choices=list(LAYERS_BY_KEY), help="benchmark only these layers (default: all)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON results file (default {DEFAULT_OUTPUT})")
    return parser.parse_args(argv)


def run_sections(args: argparse.Namespace, repeats: Repeats, folder: Path) -> dict:
    """Run the chosen sections and return their results."""
    sections = args.only or SECTIONS
    layers = [LAYERS_BY_KEY[key] for key in args.layers] if args.layers else list(LAYERS)
    results: dict = {}
    if "startup" in sections:
        from benchmarks.startup import import_torch, startup

        results["startup"] = {"import_torch": import_torch(repeats.import_torch), "layers": {}}
        for layer in layers:
            path = None if layer.is_seed else layer.write(folder)
            launches = repeats.first_paint if layer.is_seed else repeats.layer_launches
            results["startup"]["layers"][layer.key] = startup(path, launches)
    if "edits" in sections:
        from benchmarks.edits import edit_latency
        from benchmarks.raw_ops import raw_ops

        results["edits"] = {}
        for layer in layers:
            path = layer.write(folder)
            timings = {kind: edit_latency(path, kind, repeats.edits) for kind in repeats.edit_kinds}
            results["edits"][layer.key] = {"floor": raw_ops(layer.scenario(), repeats.raw_ops), **timings}
    if "drilldown" in sections:
        from benchmarks.drilldown import open_timings, trace_timings
        from qdebug_tui.backends import load_torch_backend

        backend = load_torch_backend()
        results["drilldown"] = {}
        for k, layer in DRILL_DOWN_LAYERS.items():
            forms = {isa: trace_timings(layer.scenario(), backend, isa, repeats.drilldown) for isa in repeats.drilldown_forms}
            results["drilldown"][k] = {"app": open_timings(layer.write(folder), repeats.drilldown_openings), **forms}
    if "emulation" in sections:
        from benchmarks.emulation import emulation_timings

        results["emulation"] = {layer.key: emulation_timings(layer.scenario(), repeats.emulation) for layer in layers}
        if not args.layers or "conv64" in args.layers:
            worst = LAYERS_BY_KEY["conv64"].scenario(weights="full-range")
            results["emulation"]["conv64-full-range"] = emulation_timings(worst, repeats.emulation)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = QUICK if args.quick else FULL
    started = time.monotonic()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="qdebug-bench-") as folder:
        results = run_sections(args, repeats, Path(folder))
    report = {
        "date": datetime.date.today().isoformat(),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]) if argv is None else " ".join(["python -m benchmarks", *argv]),
        "machine": machine_facts(),
        "load_average": {"start": load_before, "end": load_average()},
        "seconds": round(time.monotonic() - started, 1),
        **results,
    }
    print_report(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(to_json(report), indent=1) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
