"""SVG screenshots of every scenario in sample_data/ at 120×40 and 80×24.

The screenshots must not depend on the machine: the summary shows fixed run facts with no
timing, and the kernel's integers come from :class:`RecordedKernelBackend`. Regenerate them
with ``pytest tests/test_snapshots.py --snapshot-update`` and look at every changed picture.
"""

from __future__ import annotations

import pytest

from conftest import FIXED_FACTS, ISSUE_50720, SAMPLES, SEED
from pilot_helpers import open_drill_down, wait_for_evaluation
from qdebug_tui.app import QDebugApp
from recorded_backend import RecordedKernelBackend, recorded_path_runner

SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))
SIZES = {"120x40": (120, 40), "80x24": (80, 24)}


def snapshot_app(path) -> QDebugApp:
    return QDebugApp(path, backend_loader=RecordedKernelBackend, fixed_facts=FIXED_FACTS)


class TestSampleScenarios:
    @pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
    @pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[path.stem for path in SAMPLE_FILES])
    def test_sample(self, snap_compare, sample, size):
        assert snap_compare(snapshot_app(sample), terminal_size=size, run_before=wait_for_evaluation)


class TestScreenStates:
    def test_no_color(self, snap_compare, monkeypatch):
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(snapshot_app(SEED), terminal_size=(80, 24), run_before=wait_for_evaluation)

    def test_invalid_zero_point(self, snap_compare):
        async def type_invalid(pilot):
            await wait_for_evaluation(pilot)
            pilot.app.query_one("#output-zero-point").focus()
            pilot.app.query_one("#output-zero-point").value = "300"
            pilot.app.query_one("#output-grid").focus()
            await pilot.pause()

        assert snap_compare(snapshot_app(SEED), terminal_size=(80, 24), run_before=type_invalid)

    def test_difference_view(self, snap_compare):
        async def show_difference(pilot):
            await wait_for_evaluation(pilot)
            await pilot.press("v", "v")

        assert snap_compare(snapshot_app(ISSUE_50720), terminal_size=(80, 24), run_before=show_difference)

    def test_help_screen(self, snap_compare, monkeypatch):
        monkeypatch.setenv("XDG_STATE_HOME", "/home/user/.local/state")
        async def open_help(pilot):
            await wait_for_evaluation(pilot)
            await pilot.press("question_mark")

        assert snap_compare(snapshot_app(SEED), terminal_size=(80, 24), run_before=open_help)


def drill_down_app(path) -> QDebugApp:
    return QDebugApp(path, backend_loader=RecordedKernelBackend, fixed_facts=FIXED_FACTS, path_runner=recorded_path_runner())


async def open_seed_drill_down(pilot) -> None:
    await wait_for_evaluation(pilot)
    await open_drill_down(pilot)


class TestDrillDown:
    @pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
    def test_seed_cell(self, snap_compare, size):
        assert snap_compare(drill_down_app(SEED), terminal_size=size, run_before=open_seed_drill_down)

    def test_no_color(self, snap_compare, monkeypatch):
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(drill_down_app(SEED), terminal_size=(80, 24), run_before=open_seed_drill_down)

    def test_sections_scrolled(self, snap_compare):
        async def scroll_to_sections(pilot):
            await open_seed_drill_down(pilot)
            pilot.app.screen.query_one("#drill-body").focus()
            await pilot.press("pagedown")
            await pilot.pause()

        assert snap_compare(drill_down_app(SEED), terminal_size=(120, 40), run_before=scroll_to_sections)
