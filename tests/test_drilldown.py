"""Pilot tests of the drill-down screen: enter on an output cell, its trace, keys and export.

Tests that check the real kernel's numbers run it in the session's worker processes, one per
instruction-set form; the rest use the recorded backend, which needs no worker.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import FIXED_FACTS, SEED, run_qdebug, write_scenario
from pilot_helpers import open_drill_down, wait_for_drill_down, wait_for_evaluation, wait_until
from qdebug_tui.app import QDebugApp
from qdebug_tui.backends.cpu import detect_cpu
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.path_runner import PathRunner
from qdebug_tui.screens.drilldown import DrillDownScreen
from qdebug_tui.screens.main import MainScreen
from qdebug_tui.widgets.trace_table import TraceTable
from recorded_backend import RecordedKernelBackend, recorded_path_runner
from scenario_factory import multi_channel_conv, multi_channel_conv1d

SIZE = (120, 40)


@pytest.fixture(scope="session")
def worker_runner(workers) -> PathRunner:
    """A path runner on the session's worker processes; the workers fixture stops them."""
    return PathRunner(workers.__getitem__)


@pytest.fixture
def seed_fbgemm(tmp_path, seed_document):
    seed_document["engine"] = "fbgemm"
    return write_scenario(tmp_path, seed_document, "seed_fbgemm.json")


def recorded_app(path, **options) -> QDebugApp:
    return QDebugApp(path, backend_loader=RecordedKernelBackend, path_runner=recorded_path_runner(), **options)


def screen_text(screen: DrillDownScreen, selector: str) -> str:
    return str(screen.query_one(selector).content)


def table_lines(table: TraceTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def notifications(app) -> str:
    return "\n".join(str(notification.message) for notification in app._notifications)


async def test_avx2_path_shows_saturated_pairs(seed_fbgemm, worker_runner):
    app = QDebugApp(seed_fbgemm, path_runner=worker_runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        await pilot.press("i")
        await wait_for_drill_down(pilot)

        screen = app.screen
        trace = screen.trace
        assert trace.isa == "avx2"
        assert trace.backend.saturated_pairs == 2
        assert trace.exact.accumulator == -13861
        assert trace.backend.accumulator == 4003
        assert trace.quantized_q == 7
        assert "FBGEMM_ENABLE_INSTRUCTIONS=AVX2" in trace.quantized_source
        assert trace.output_q == 7
        assert trace.float_path.q == 0
        assert trace.cause == "int16-saturation"

        totals = screen_text(screen, "#drill-totals")
        assert "exact acc -13861" in totals
        assert "kernel acc 4003" in totals
        assert "kernel q 7" in totals
        assert "float path q 0" in totals
        title = screen_text(screen, "#drill-title")
        assert "fbgemm → FBGEMM im2col, AVX2 saturating" in title
        assert "AVX2 path" in screen_text(screen, "#drill-subtitle")
        verdict = screen.query_one("#drill-verdict")
        assert "int16-saturation" in str(verdict.border_title)
        assert "200·(-67) + 200·(-97) = -32800 became -32768" in screen_text(screen, "#drill-verdict")
        assert "Fix: 7-bit activations (reduce_range=True, 0..127)" in screen_text(screen, "#drill-verdict")
        accumulation = screen_text(screen, "#accumulation-text")
        assert "^ clipped pair at slots 4,5: 200·(-67) + 200·(-97) = -32800 → -32768 (by +32)" in accumulation
        assert "^ clipped pair at slots 10,11: 200·(-128) + 200·(-125) = -50600 → -32768 (by +17832)" in accumulation


async def test_i_switches_real_kernel_and_model(seed_fbgemm, worker_runner):
    app = QDebugApp(seed_fbgemm, path_runner=worker_runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        screen = app.screen
        native = screen.trace
        assert native.isa == "native"
        assert native.quantized_source == "fbgemm, torch in a worker process"
        if detect_cpu().has_avx512_vnni:
            assert not native.backend.saturating
            assert native.quantized_q == 0
            assert native.output_q == 0

        await pilot.press("i")
        await wait_for_drill_down(pilot)
        assert screen.trace.isa == "avx2"
        assert screen.trace.backend.saturating
        assert screen.trace.quantized_q == 7

        await pilot.press("i")
        await wait_for_drill_down(pilot)
        assert screen.trace.isa == "native"
        assert screen.trace.quantized_q == native.quantized_q


async def test_terms_table_marks_clipped_pairs(seed_fbgemm):
    app = recorded_app(seed_fbgemm)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        await pilot.press("i")
        await wait_for_drill_down(pilot)

        lines = table_lines(app.screen.query_one("#terms-table", TraceTable))
        assert lines[0].startswith("Terms: 25 products in the kernel's K order")
        marked = [line.split()[0] for line in lines[3:-1] if line.rstrip().endswith("^")]
        assert marked == ["4", "5", "10", "11"]
        assert "Σ product = exact acc -13861" in lines[-1]
        pairs = table_lines(app.screen.query_one("#pairs-table", TraceTable))
        clipped = [line.split() for line in pairs[3:-1] if line.rstrip().endswith("^")]
        assert [row[0] for row in clipped] == ["2", "5"]
        assert clipped[1][-4:] == ["-50600", "-32768", "+17832", "^"]


async def test_escape_keeps_main_cursor(tmp_path):
    app = recorded_app(multi_channel_conv(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        grid = app.query_one("#output-grid")
        grid.move_to(2, 3)
        await open_drill_down(pilot)
        screen = app.screen
        assert screen.trace.index == (0, 0, 2, 3)
        assert "Cell [0, 0, 2, 3]" in screen_text(screen, "#drill-title")

        await pilot.press("right")
        await wait_for_drill_down(pilot)
        assert screen.trace.index == (0, 0, 2, 4)
        await pilot.press("down")
        await wait_for_drill_down(pilot)
        assert screen.trace.index == (0, 0, 3, 4)
        await pilot.press("left", "up", "up")
        await wait_for_drill_down(pilot)
        assert screen.trace.index == (0, 0, 1, 3)

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert grid.cursor == (2, 3)
        assert app.focused is grid


async def test_arrows_stop_at_grid_edge(tmp_path):
    app = recorded_app(multi_channel_conv(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        await pilot.press("up", "left")
        await wait_for_drill_down(pilot)
        assert app.screen.trace.index == (0, 0, 0, 0)


async def test_n_visits_mismatches_in_order(tmp_path):
    app = recorded_app(multi_channel_conv(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        diff = app.screen.results.evaluation.comparison.diff
        # Start on the last cell of the first output channel, so that n has to cross slices.
        row, column = diff.shape[2] - 1, diff.shape[3] - 1
        start = (0, 0, row, column)
        flat = np.flatnonzero(diff)
        after = flat[flat > np.ravel_multi_index(start, diff.shape)]
        order = [tuple(int(i) for i in np.unravel_index(index, diff.shape)) for index in np.concatenate([after, flat[: flat.size - after.size]])]
        assert len(order) >= 3
        assert order[0][:2] != (0, 0)
        assert order[-1][:2] == (0, 0)

        app.query_one("#output-grid").move_to(row, column)
        await open_drill_down(pilot)
        screen = app.screen
        assert screen.trace.index == start
        assert np.array_equal(app.path_runner.cached(screen.scenario, "native").quantized_minus_float(), diff)
        for expected in order[:3]:
            await pilot.press("n")
            await wait_for_drill_down(pilot)
            assert isinstance(app.screen, DrillDownScreen)
            assert screen.trace.index == expected
            assert screen.trace.quantized_q != screen.trace.float_path.q
        await pilot.press("N")
        await wait_for_drill_down(pilot)
        assert screen.trace.index == order[1]
        await pilot.press("N", "N")
        await wait_for_drill_down(pilot)
        assert screen.trace.index == order[-1]


async def test_s_scrolls_to_clipped_pair():
    app = recorded_app(SEED, fixed_facts=FIXED_FACTS)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        pairs = app.screen.query_one("#pairs-table", TraceTable)
        terms = app.screen.query_one("#terms-table", TraceTable)
        await pilot.press("s")
        assert pairs.target == 2
        assert terms.target == 4
        await pilot.press("s")
        assert pairs.target == 5
        assert terms.target == 10
        first, last = terms.visible_rows
        assert first <= 10 <= last
        await pilot.press("s")
        assert pairs.target == 2
        await pilot.press("S")
        assert pairs.target == 5


async def test_export_matches_explain_json(seed_fbgemm, worker_runner):
    app = QDebugApp(seed_fbgemm, path_runner=worker_runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        await pilot.press("i")
        await wait_for_drill_down(pilot)
        await pilot.press("e")
        markdown = seed_fbgemm.parent / "seed_fbgemm.cell-0-0-0-0.avx2.md"
        document = seed_fbgemm.parent / "seed_fbgemm.cell-0-0-0-0.avx2.json"
        await wait_until(pilot, lambda: "Exported the trace" in notifications(app), "the export message")
        assert str(markdown) in notifications(app)
        assert str(document) in notifications(app)

    explained = run_qdebug("explain", str(seed_fbgemm), "--cell", "0,0,0,0", "--isa", "avx2", "--json")
    assert explained.returncode == 0, explained.stderr
    assert document.read_text(encoding="utf-8") == explained.stdout
    assert json.loads(document.read_text(encoding="utf-8"))["cause"] == "int16-saturation"
    text = markdown.read_text(encoding="utf-8")
    assert "## Verdict" in text
    assert "Cause: **int16-saturation**." in text
    assert "| 5 | 10,11 | 200·(-128) + 200·(-125) | -50600 | -32768 | +17832 |" in text
    assert "Fix: 7-bit activations" in text


async def test_bundled_export_goes_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    samples_before = sorted(path.name for path in SEED.parent.iterdir())
    app = recorded_app(SEED, bundled=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: "Exported the trace" in notifications(app), "the export message")
    assert (tmp_path / "seed_conv2d.cell-0-0-0-0.native.md").is_file()
    assert (tmp_path / "seed_conv2d.cell-0-0-0-0.native.json").is_file()
    assert sorted(path.name for path in SEED.parent.iterdir()) == samples_before


async def test_export_failure_shows_message(tmp_path, seed_document):
    folder = tmp_path / "gone"
    folder.mkdir()
    path = write_scenario(folder, seed_document)
    app = recorded_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        shutil.rmtree(folder)
        await pilot.press("e")
        await wait_until(pilot, lambda: "was not exported" in notifications(app), "the failure message")
        assert "Traceback" not in notifications(app)
        assert "No such file or directory" in notifications(app)
        assert isinstance(app.screen, DrillDownScreen)


async def test_unsupported_layer_stays_on_main(tmp_path):
    app = recorded_app(multi_channel_conv1d(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        app.query_one("#output-grid").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert "layer kind conv1d is not emulated yet" in notifications(app)


async def test_opening_file_closes_drill_down(tmp_path):
    app = recorded_app(SEED)
    other = multi_channel_conv(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        await app.show_scenario(load_scenario(other), other)
        await wait_for_evaluation(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.scenario.name == "test: multi-channel conv with ties"


async def test_large_k_formats_only_visible_rows(tmp_path, monkeypatch):
    from qdebug_tui import drilldown_tables

    features = 50_000
    rng = np.random.default_rng(5)
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": "test: linear with 50,000 input features",
        "layer": {"kind": "linear"},
        "input": {"dtype": "quint8", "scale": 0.01, "zero_point": 128, "q": rng.integers(0, 256, (1, features)).tolist()},
        "weight": {"dtype": "qint8", "scale": 0.001, "zero_point": 0, "q": rng.integers(-128, 128, (2, features)).tolist()},
        "bias": None,
        "output": {"dtype": "quint8", "scale": 2.0, "zero_point": 128},
        "engine": "fbgemm",
    }
    path = write_scenario(tmp_path, document)
    formatted = []
    term_cells = drilldown_tables.text_rows.term_cells

    def counting_term_cells(term):
        formatted.append(term.slot)
        return term_cells(term)

    monkeypatch.setattr(drilldown_tables.text_rows, "term_cells", counting_term_cells)
    app = recorded_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await open_drill_down(pilot)
        table = app.screen.query_one("#terms-table", TraceTable)
        assert table.rows.count == features
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        first, last = table.visible_rows
        assert last == features - 1
        lines = table_lines(table)
        assert lines[-2].split()[0] == str(features - 1)
        assert f"rows {first}–{last} of {features}" in lines[-1]
        assert 0 < len(set(formatted)) < 200


async def run_palette_command(pilot, text: str, title: str) -> None:
    """Open the command palette, type ``text`` and run the first hit once it is ``title``."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.press(*text)

    def first_hit() -> str:
        lists = app.screen.query("CommandList")
        if not lists or lists.first().option_count == 0:
            return ""
        return str(lists.first().get_option_at_index(0).prompt)

    await wait_until(pilot, lambda: title in first_hit(), f"the palette hit {title!r}")
    await pilot.press("enter")


async def test_palette_opens_and_switches():
    app = recorded_app(SEED, fixed_facts=FIXED_FACTS)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_evaluation(pilot)
        await run_palette_command(pilot, "trace the selected", "Trace the selected output cell")
        await wait_for_drill_down(pilot)
        assert app.screen.isa == "native"

        await run_palette_command(pilot, "switch between", "Switch between this CPU's path and the AVX2 path")
        await wait_for_drill_down(pilot)
        assert app.screen.trace.isa == "avx2"

        await run_palette_command(pilot, "back to the main", "Back to the main screen")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
