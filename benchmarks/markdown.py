"""Print the tables of a benchmark run's JSON file as Markdown, for BENCHMARKS.md.

    python -m benchmarks.markdown [benchmarks/results/latest.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.layers import DRILL_DOWN_LAYERS, LAYERS_BY_KEY
from benchmarks.report import DRILLDOWN_LIMIT_MS, EDIT_LIMIT_LAYER, EDIT_LIMIT_MS, FIRST_PAINT_FRACTION, RATIO_LIMIT, RSS_LIMIT_MB

DEFAULT_INPUT = Path("benchmarks/results/latest.json")


def _ms(sample: dict) -> str:
    return f"{sample['median']:.1f} ({sample['minimum']:.1f}–{sample['maximum']:.1f})"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _title(key: str) -> str:
    if key in LAYERS_BY_KEY:
        return LAYERS_BY_KEY[key].title
    return f"{LAYERS_BY_KEY['conv64'].title}, full-range weights"


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def startup_table(report: dict) -> str:
    startup = report["startup"]
    torch_ms = startup["import_torch"]["median"]
    rows = [["bare `python -c \"import torch\"`", _ms(startup["import_torch"]), "1.00", "", ""]]
    for key, figures in startup["layers"].items():
        paint = figures["first_paint"]
        rows.append(
            [_title(key), _ms(paint), f"{paint['median'] / torch_ms:.2f}", f"{figures['ready_ms']:.0f}", f"{figures['peak_rss_mb']:.0f}"]
        )
    header = ["layer", "first paint, ms: median (min–max)", "÷ import torch", "ready, ms", "peak RSS, MB"]
    return _table(header, rows)


def edits_table(report: dict) -> str:
    rows = []
    for key, layer_edits in report["edits"].items():
        floor = layer_edits["floor"]["both"]
        for kind, figures in layer_edits.items():
            if kind == "floor":
                continue
            edit = figures["edit_to_highlight"]
            rows.append(
                [
                    _title(key),
                    kind,
                    _ms(edit),
                    f"{figures['recompute']['median']:.1f}",
                    _ms(floor),
                    f"{edit['median'] / floor['median']:.1f}×",
                    f"{edit['minimum'] / floor['minimum']:.1f}×",
                ]
            )
    header = ["layer", "edit", "edit-to-highlight, ms", "recompute, ms", "raw ops, ms", "ratio of medians", "ratio of minima"]
    return _table(header, rows)


def drilldown_table(report: dict) -> str:
    rows = []
    for k, figures in report["drilldown"].items():
        app = figures["app"]
        for index, isa in enumerate(name for name in figures if name != "app"):
            opening = [_ms(app["open"]), f"{app['first_open']:.1f}"] if index == 0 else ["", ""]
            rows.append([f"{int(k):,}", DRILL_DOWN_LAYERS[int(k)].title, *opening, isa, _ms(figures[isa]["trace"]), _ms(figures[isa]["render"])])
    header = ["K", "layer", "open, ms", "first open, ms", "form", "trace, ms", "render, ms"]
    return _table(header, rows)


def emulation_table(report: dict) -> str:
    rows = []
    for key, engines in report["emulation"].items():
        for engine, forms in engines.items():
            cells = [f"{forms[isa]['median']:.1f}" if isinstance(forms[isa], dict) else "rejected" for isa in ("native", "avx2")]
            clipped = f"{forms['clipped_cells_avx2']:,}" if "clipped_cells_avx2" in forms else ""
            rows.append([_title(key), engine, *cells, clipped])
    header = ["layer", "engine", "native, ms", "avx2, ms", "cells with clipped pairs, avx2"]
    return _table(header, rows)


def targets_table(report: dict) -> str:
    """Check the targets as :func:`benchmarks.report.targets` does, from the JSON form."""
    rows = []
    startup = report.get("startup")
    if startup:
        paint = startup["layers"]["seed"]["first_paint"]["median"]
        limit = FIRST_PAINT_FRACTION * startup["import_torch"]["median"]
        rows.append(["first paint of the seed ≤ ½ bare import torch", f"{paint:.0f} ms", f"{limit:.0f} ms", _yes(paint <= limit)])
        rss = startup["layers"][EDIT_LIMIT_LAYER]["peak_rss_mb"]
        rows.append([f"peak RSS, {_title(EDIT_LIMIT_LAYER)}", f"{rss:.0f} MB", f"{RSS_LIMIT_MB:.0f} MB", _yes(rss <= RSS_LIMIT_MB)])
    for key, layer_edits in report.get("edits", {}).items():
        floor = layer_edits["floor"]["both"]["median"]
        for kind, figures in layer_edits.items():
            if kind == "floor":
                continue
            median = figures["edit_to_highlight"]["median"]
            if key == EDIT_LIMIT_LAYER:
                rows.append([f"edit-to-highlight, {_title(key)}, {kind}", f"{median:.1f} ms", f"{EDIT_LIMIT_MS:.0f} ms", _yes(median < EDIT_LIMIT_MS)])
            ratio = median / floor
            rows.append([f"edit ÷ raw ops, {_title(key)}, {kind}", f"{ratio:.1f}×", f"{RATIO_LIMIT:.0f}×", _yes(ratio <= RATIO_LIMIT)])
    drilldown = report.get("drilldown", {})
    if "576" in drilldown:
        opening = drilldown["576"]["app"]["open"]["median"]
        rows.append(["drill-down open, K = 576", f"{opening:.1f} ms", f"{DRILLDOWN_LIMIT_MS:.0f} ms", _yes(opening < DRILLDOWN_LIMIT_MS)])
    return _table(["target", "measured", "limit", "met"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.markdown", description="Print a results file's tables as Markdown.")
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_INPUT, help=f"results file (default: {DEFAULT_INPUT})")
    path = parser.parse_args(argv).file
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot read the results file {path}: {error}; run python -m benchmarks first", file=sys.stderr)
        return 2
    load = report["load_average"]
    print(f"<!-- {path}: {report['date']}, {report['command']}, load average {load['start']:.2f} → {load['end']:.2f} -->\n")
    sections = [("targets", targets_table), ("startup", startup_table), ("edits", edits_table), ("drilldown", drilldown_table), ("emulation", emulation_table)]
    for name, table in sections:
        if name == "targets" or name in report:
            print(f"### {name}\n\n{table(report)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
