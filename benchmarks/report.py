"""Tables and targets of a benchmark run, and its JSON form."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from benchmarks.layers import DRILL_DOWN_LAYERS, LAYERS_BY_KEY
from benchmarks.measure import Sample

# The targets on a 2-core machine: first paint at most this fraction of a bare import torch,
FIRST_PAINT_FRACTION = 0.5
# edit-to-highlight of the 64 → 64 conv on 56×56 below this median,
EDIT_LIMIT_MS = 50.0
EDIT_LIMIT_LAYER = "conv64"
# and within this multiple of the raw ops on every layer,
RATIO_LIMIT = 20.0
# drill-down open below this at K = 576,
DRILLDOWN_LIMIT_MS = 100.0
# and peak RSS below this with the 64 → 64 conv loaded.
RSS_LIMIT_MB = 400.0


def edit_ratio(layer_edits: dict, kind: str) -> float:
    """Return the edit-to-highlight median over the median of the raw ops."""
    return layer_edits[kind]["edit_to_highlight"].median / layer_edits["floor"]["both"].median


def targets(report: dict) -> list[dict]:
    """Check each target the run measured; return one row per target."""
    rows = []
    startup = report.get("startup")
    if startup and "seed" in startup["layers"]:
        torch_ms = startup["import_torch"].median
        paint = startup["layers"]["seed"]["first_paint"].median
        rows.append(_row("first paint (seed) ≤ ½ bare import torch", paint, FIRST_PAINT_FRACTION * torch_ms, "ms"))
    if startup and EDIT_LIMIT_LAYER in startup["layers"]:
        rss = startup["layers"][EDIT_LIMIT_LAYER]["peak_rss_mb"]
        rows.append(_row("peak RSS, conv 64→64 on 56×56", rss, RSS_LIMIT_MB, "MB"))
    for key, layer_edits in report.get("edits", {}).items():
        for kind in _kinds(layer_edits):
            if key == EDIT_LIMIT_LAYER:
                median = layer_edits[kind]["edit_to_highlight"].median
                rows.append(_row(f"edit-to-highlight, {key}, {kind}", median, EDIT_LIMIT_MS, "ms"))
            rows.append(_row(f"edit / raw ops, {key}, {kind}", edit_ratio(layer_edits, kind), RATIO_LIMIT, "×"))
    drilldown = report.get("drilldown", {})
    if 576 in drilldown:
        rows.append(_row("drill-down open, K = 576", drilldown[576]["app"]["open"].median, DRILLDOWN_LIMIT_MS, "ms"))
    return rows


def _row(name: str, value: float, limit: float, unit: str) -> dict:
    return {"target": name, "value": round(value, 2), "limit": round(limit, 2), "unit": unit, "met": value <= limit}


def _kinds(layer_edits: dict) -> list[str]:
    return [kind for kind in layer_edits if kind != "floor"]


# Wide enough for the emulation table's layer titles, also when the output is piped.
CONSOLE_WIDTH = 150


def print_report(report: dict) -> None:
    console = Console(highlight=False, width=CONSOLE_WIDTH)
    machine = report["machine"]
    load = report["load_average"]
    console.print(
        f"{report['date']} · {machine['cores']} cores, {machine['cpu']} ({machine['isa']}) · torch {machine['torch']} "
        f"({machine['torch_threads']} threads) · load average {load['start']:.2f} → {load['end']:.2f} · {report['seconds']} s"
    )
    if "startup" in report:
        console.print(_startup_table(report["startup"]))
    if "edits" in report:
        console.print(_edits_table(report["edits"]))
    if "drilldown" in report:
        console.print(_drilldown_table(report["drilldown"]))
    if "emulation" in report:
        console.print(_emulation_table(report["emulation"]))
    table = Table(title="Targets", title_justify="left")
    for column in ("target", "measured", "limit", "met"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for row in targets(report):
        table.add_row(row["target"], f"{row['value']:g} {row['unit']}", f"{row['limit']:g} {row['unit']}", "yes" if row["met"] else "NO")
    console.print(table)


def _ms(sample: Sample) -> str:
    return f"{sample.median:.1f} ({sample.minimum:.1f}–{sample.maximum:.1f})"


def _startup_table(startup: dict) -> Table:
    torch_ms = startup["import_torch"].median
    table = Table(title=f"Start-up in tmux, ms: median (min–max); bare import torch {_ms(startup['import_torch'])}", title_justify="left")
    for column in ("layer", "first paint", "÷ import torch", "ready", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for key, figures in startup["layers"].items():
        paint = figures["first_paint"]
        table.add_row(
            LAYERS_BY_KEY[key].title, _ms(paint), f"{paint.median / torch_ms:.2f}", f"{figures['ready_ms']:.0f}", f"{figures['peak_rss_mb']:.0f}"
        )
    return table


def _edits_table(edits: dict) -> Table:
    table = Table(title="Edit-to-highlight through the app (Pilot), ms: median (min–max)", title_justify="left")
    columns = ("layer", "edit", "edit-to-highlight", "recompute", "raw ops", "ratio", "ratio of minima")
    for column in columns:
        table.add_column(column, justify="left" if column in ("layer", "edit") else "right")
    for key, layer_edits in edits.items():
        floor = layer_edits["floor"]["both"]
        for kind in _kinds(layer_edits):
            figures = layer_edits[kind]
            table.add_row(
                LAYERS_BY_KEY[key].title,
                kind,
                _ms(figures["edit_to_highlight"]),
                f"{figures['recompute'].median:.1f}",
                _ms(floor),
                f"{edit_ratio(layer_edits, kind):.1f}×",
                # Fastest edit over fastest raw ops: less sensitive to other processes on the cores.
                f"{figures['edit_to_highlight'].minimum / floor.minimum:.1f}×",
            )
    return table


def _drilldown_table(drilldown: dict) -> Table:
    title = "Drill-down of the middle cell, ms: enter to the trace on screen (app), and its steps in process per form"
    table = Table(title=title, title_justify="left")
    for column in ("K", "layer", "open: median (min–max)", "first open", "form", "trace", "render"):
        table.add_column(column, justify="left" if column in ("layer", "form") else "right")
    for k, figures in drilldown.items():
        app = figures["app"]
        forms = [isa for isa in figures if isa != "app"]
        for index, isa in enumerate(forms):
            opening = (_ms(app["open"]), f"{app['first_open']:.1f}") if index == 0 else ("", "")
            table.add_row(
                f"{k:,}", DRILL_DOWN_LAYERS[k].title, *opening, isa, _ms(figures[isa]["trace"]), _ms(figures[isa]["render"])
            )
    return table


def _emulation_table(emulation: dict) -> Table:
    table = Table(title="Full-tensor emulation, ms: median", title_justify="left")
    table.add_column("layer")
    table.add_column("engine")
    table.add_column("native", justify="right")
    table.add_column("avx2", justify="right")
    table.add_column("cells with clipped pairs, avx2", justify="right")
    for key, engines in emulation.items():
        title = LAYERS_BY_KEY[key].title if key in LAYERS_BY_KEY else f"{LAYERS_BY_KEY['conv64'].title}, full-range weights"
        for engine, forms in engines.items():
            cells = [_emulation_cell(forms[isa]) for isa in ("native", "avx2")]
            table.add_row(title, engine, *cells, f"{forms['clipped_cells_avx2']:,}" if "clipped_cells_avx2" in forms else "")
    return table


def _emulation_cell(value: Sample | str) -> str:
    return f"{value.median:.1f}" if isinstance(value, Sample) else "rejected"


def to_json(value):
    """Turn samples into dicts and keys into strings, recursively."""
    if isinstance(value, Sample):
        return value.to_json()
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, float):
        return round(value, 3)
    return value
