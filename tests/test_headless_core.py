"""The headless core imports without Textual, and without torch until a backend loads."""

from __future__ import annotations

import json
import subprocess
import sys

HEADLESS_MODULES = (
    "qdebug_tui.core.scenario",
    "qdebug_tui.core.layers",
    "qdebug_tui.core.dtypes",
    "qdebug_tui.core.slicing",
    "qdebug_tui.io.scenario_file",
    "qdebug_tui.io.validation",
    "qdebug_tui.numerics.reference",
    "qdebug_tui.numerics.compare",
    "qdebug_tui.numerics.rounding",
    "qdebug_tui.numerics.float_path",
    "qdebug_tui.backends",
    "qdebug_tui.backends.cpu",
    "qdebug_tui.evaluation",
    "qdebug_tui.editing",
    "qdebug_tui.slicing",
    "qdebug_tui.grid_data",
    "qdebug_tui.output_view",
    "qdebug_tui.recompute",
    "qdebug_tui.commands.tui",
    "qdebug_tui.cell_paths",
    "qdebug_tui.path_runner",
    "qdebug_tui.drilldown_tables",
    "qdebug_tui.drilldown_sections",
    "qdebug_tui.trace_export",
    "qdebug_tui.trace.text_rows",
    "qdebug_tui.trace.markdown_view",
)

PROBE = """
import importlib, json, sys
for name in {modules!r}:
    importlib.import_module(name)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("textual", "rich", "torch"))
print(json.dumps(loaded))
"""


def imported_packages(modules: tuple[str, ...]) -> list[str]:
    code = PROBE.format(modules=modules)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(completed.stdout)


def test_core_imports_no_textual():
    loaded = imported_packages(HEADLESS_MODULES)
    assert not [name for name in loaded if name.startswith("textual")]
    assert not [name for name in loaded if name.startswith("rich")]


def test_core_imports_no_torch():
    loaded = imported_packages(HEADLESS_MODULES)
    assert not [name for name in loaded if name.startswith("torch")]


def test_probe_detects_textual():
    loaded = imported_packages(("qdebug_tui.app",))
    assert "textual" in loaded
