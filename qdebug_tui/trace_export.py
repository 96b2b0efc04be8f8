"""Write one cell's trace as Markdown and JSON, for the drill-down screen's export.

The JSON file contains the text ``qdebug explain --json`` prints for the same trace. Each file
is replaced atomically, so a failed export leaves any earlier file as it was.
"""

from __future__ import annotations

from pathlib import Path

from qdebug_tui.io.scenario_writer import atomic_write_bytes
from qdebug_tui.trace.json_view import trace_to_json_text
from qdebug_tui.trace.markdown_view import trace_to_markdown
from qdebug_tui.trace.model import CellTrace


def export_paths(folder: Path, stem: str) -> tuple[Path, Path]:
    """Return the Markdown and JSON paths of an export named ``stem`` in ``folder``."""
    return folder / f"{stem}.md", folder / f"{stem}.json"


def export_trace(trace: CellTrace, folder: Path, stem: str) -> tuple[Path, Path]:
    """Write ``trace`` to ``folder/stem.md`` and ``folder/stem.json``; return both paths.

    Raises OSError when a file cannot be written; a file written before the failure stays.
    """
    markdown_path, json_path = export_paths(folder, stem)
    atomic_write_bytes(markdown_path, trace_to_markdown(trace).encode("utf-8"))
    atomic_write_bytes(json_path, trace_to_json_text(trace).encode("utf-8"))
    return markdown_path, json_path
