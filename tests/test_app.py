"""Pilot tests of the main screen: they drive keys and wait for workers, never for a fixed time."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from textual.widgets import Input, Select

from conftest import FIXED_FACTS, ISSUE_50720, ISSUE_76390, SAMPLES, SEED
from pilot_helpers import cell_text, wait_for_evaluation, wait_for_recompute, wait_until
from qdebug_tui.app import QDebugApp
from qdebug_tui.backends import load_torch_backend
from qdebug_tui.output_view import OutputView
from qdebug_tui.screens.help import HelpScreen
from qdebug_tui.screens.main import MainScreen
from qdebug_tui.slicing import output_index
from recorded_backend import RecordedKernelBackend
from scenario_factory import multi_channel_conv1d


def text_of(app: QDebugApp, selector: str) -> str:
    return str(app.query_one(selector).content)


async def focus_by_tab(pilot, widget_id: str) -> None:
    """Press tab until ``widget_id`` has focus, as a keyboard user would."""
    for _ in range(12):
        if pilot.app.focused is not None and pilot.app.focused.id == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached #{widget_id}; focus is on {pilot.app.focused}")


async def type_into(pilot, widget_id: str, text: str) -> None:
    """Focus a field with tab, replace its text and type ``text``."""
    await focus_by_tab(pilot, widget_id)
    field = pilot.app.query_one(f"#{widget_id}", Input)
    field.value = ""
    await pilot.press(*text)


async def test_grids_paint_before_torch_loads():
    release = threading.Event()

    def slow_loader():
        release.wait(timeout=120)
        return load_torch_backend()

    app = QDebugApp(SEED, backend_loader=slow_loader)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.results is not None, "the exact reference")
        assert screen.backend is None
        assert "loading torch" in text_of(app, "#output-title")
        assert "loading torch" in text_of(app, "#summary")
        assert cell_text(app.query_one("#input-grid"), 0, 0).strip() == "200"
        assert cell_text(app.query_one("#weight-grid"), 2, 0).strip() == "-128"
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "0"

        release.set()
        await wait_for_evaluation(pilot)
        assert "loading" not in text_of(app, "#output-title")
        assert "mismatched" in text_of(app, "#summary")


async def test_output_zero_point_128_gives_103():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        await type_into(pilot, "output-zero-point", "128")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 128, "zero point 128")

        evaluation = app.screen.results.evaluation
        assert evaluation.scenario.output.zero_point == 128
        assert int(evaluation.float_path.q[0, 0, 0, 0]) == 103
        assert int(app.screen.results.exact.q[0, 0, 0, 0]) == 103
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "103"
        if evaluation.facts.kernel_isa.saturating:
            pytest.skip("this CPU's FBGEMM saturates int16 pairs, so the quantized path is not 103 here")
        assert int(evaluation.quantized.q[0, 0, 0, 0]) == 103


async def test_enter_recomputes_without_debounce(monkeypatch):
    # A debounce longer than any test: only enter can start the recompute.
    monkeypatch.setattr("qdebug_tui.screens.main.DEBOUNCE_SECONDS", 600.0)
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        screen = app.screen
        await type_into(pilot, "output-zero-point", "128")
        assert screen.scenario.output.zero_point == 128
        assert screen.results.scenario.output.zero_point == 0

        await pilot.press("enter")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 128, "zero point 128")
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "103"


async def test_invalid_zero_point_keeps_result():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        await type_into(pilot, "output-zero-point", "300")
        await app.workers.wait_for_complete()
        await pilot.pause()

        field = app.query_one("#output-zero-point", Input)
        assert field.has_class("-invalid")
        assert "output-zero-point" in app.query_one("#qparams").problems
        problems = text_of(app, "#qparam-problems")
        assert "300 is invalid" in problems
        assert "[0, 255]" in problems
        assert app.query_one("#qparam-problems").display
        # Typing passes through the valid "3" and "30"; whichever was computed last stays.
        computed = app.screen.results
        assert app.screen.scenario is computed.scenario
        assert computed.scenario.output.zero_point in (0, 3, 30)
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        assert app.screen.results is computed

        field.value = ""
        await pilot.press("5")
        await wait_for_recompute(pilot, lambda results: results.scenario.output.zero_point == 5, "zero point 5")
        assert not field.has_class("-invalid")
        assert not app.query_one("#qparam-problems").display
        assert app.screen.results.evaluation.scenario.output.zero_point == 5


async def test_pasted_invalid_value_changes_nothing():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        before = app.screen.results
        await focus_by_tab(pilot, "output-zero-point")
        app.query_one("#output-zero-point", Input).value = "300"
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.query_one("#output-zero-point", Input).has_class("-invalid")
        assert app.screen.scenario.output.zero_point == 0
        assert app.screen.results is before
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "0"


@pytest.mark.parametrize(
    ("widget_id", "text", "reason"),
    [
        ("input-scale", "abc", 'input.scale: "abc" is not a number; give a positive number such as 0.0125'),
        ("input-scale", "0", "expected a number > 0"),
        ("output-scale", "-1", "expected a number > 0"),
        ("weight-zero-point", "200", "[-128, 127] for qint8"),
        ("input-zero-point", "1.5", "not a fraction"),
    ],
)
async def test_invalid_values_marked(widget_id, text, reason):
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        before_scenario = app.screen.scenario
        await focus_by_tab(pilot, widget_id)
        # Set the whole text at once, as a paste does: typed key by key, a prefix such as
        # "2" of "200" is valid and would recompute when keys come slower than the debounce.
        app.query_one(f"#{widget_id}", Input).value = text
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.query_one(f"#{widget_id}", Input).has_class("-invalid")
        assert reason in text_of(app, "#qparam-problems")
        assert app.screen.scenario is before_scenario


async def test_n_visits_every_mismatch(multi_channel_path):
    app = QDebugApp(multi_channel_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        screen = app.screen
        diff = screen.results.evaluation.comparison.diff
        expected = [tuple(int(i) for i in index) for index in np.argwhere(diff != 0)]
        assert len(expected) > 1
        grid = app.query_one("#output-grid")
        start = output_index(screen.scenario, screen.position, *grid.cursor)
        assert diff[start] != 0
        assert start == expected[0]

        visited = []
        for _ in expected:
            await pilot.press("n")
            visited.append(output_index(screen.scenario, screen.position, *grid.cursor))
        assert visited == expected[1:] + expected[:1]
        assert {index[1] for index in visited} == {index[1] for index in expected}
        assert app.focused is grid

        await pilot.press("N")
        assert output_index(screen.scenario, screen.position, *grid.cursor) == expected[-1]
        assert cell_text(grid, *grid.cursor)[-1] == "~"


async def test_channel_keys_change_titles(multi_channel_path):
    app = QDebugApp(multi_channel_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        assert "n=0 c=0 of 3" in text_of(app, "#input-title")
        await pilot.press("right_square_bracket")
        assert "n=0 c=1 of 3" in text_of(app, "#input-title")
        assert "ic=1 of 3" in text_of(app, "#weight-title")
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert "c=2 of 3" in text_of(app, "#input-title")

        await pilot.press("right_curly_bracket", "right_curly_bracket")
        assert "n=0 oc=2 of 4" in text_of(app, "#output-title")
        assert "oc=2 of 4" in text_of(app, "#weight-title")
        assert app.query_one("#weight-scale", Input).value == "0.5"
        assert "w[2]" in str(app.query_one("#weight-qparams-label").content)

        await pilot.press("right_curly_bracket", "right_curly_bracket")
        assert "n=1 oc=0 of 4" in text_of(app, "#output-title")
        assert "n=1 c=2 of 3" in text_of(app, "#input-title")
        await pilot.press("left_curly_bracket")
        assert "n=0 oc=3 of 4" in text_of(app, "#output-title")


async def test_per_channel_scale_edit(multi_channel_path):
    app = QDebugApp(multi_channel_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        await pilot.press("right_curly_bracket", "right_curly_bracket")
        await type_into(pilot, "weight-scale", "0.125")
        await wait_for_recompute(pilot, lambda results: results.scenario.weight.qparams.scales[2] == 0.125, "scale 0.125")
        assert app.screen.results.scenario.weight.qparams.scales == (1.0, 1.0, 0.125, 0.25)


async def test_view_key_cycles_output():
    app = QDebugApp(ISSUE_50720)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        labels = []
        for _ in range(4):
            labels.append(app.screen.view)
            await pilot.press("v")
        assert labels == list(OutputView)
        assert app.screen.view is OutputView.QUANTIZED
        await pilot.press("v", "v", "v")
        assert OutputView.REAL.value in text_of(app, "#output-title")
        real = app.screen.results.evaluation.float_path.real[0, 0, 0, 0]
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == f"{real:.4g}"


async def test_cursor_keys_and_receptive_field():
    app = QDebugApp(ISSUE_50720)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        output = app.query_one("#output-grid")
        assert app.focused is output
        await pilot.press("l", "l", "j", "down", "up", "left", "right")
        assert output.cursor == (1, 2)
        expected = np.zeros((5, 5), dtype=bool)
        expected[1:4, 2:5] = True
        assert np.array_equal(app.query_one("#input-grid").highlight, expected)
        await pilot.press("home")
        assert output.cursor == (1, 0)
        await pilot.press("ctrl+end")
        assert output.cursor == (2, 2)


async def test_linear_highlights_weight_row():
    app = QDebugApp(ISSUE_76390)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_evaluation(pilot)
        assert app.query_one("#weight-grid").highlight.tolist() == [[True, True]]
        assert app.query_one("#input-grid").highlight.tolist() == [[True, True]]
        await pilot.press("right_square_bracket")
        assert "already shows every input channel" in " ".join(str(n.message) for n in app._notifications)


async def test_kernel_error_shown_in_output_pane():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        app.query_one("#engine", Select).value = "onednn"
        await wait_for_recompute(pilot, lambda results: results.scenario.engine == "onednn", "the onednn run")
        error = app.query_one("#kernel-error")
        assert error.display
        assert "quantized path failed" in str(error.content)
        assert app.screen.results.kernel_error is not None
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "-"
        assert "quantized path failed" in text_of(app, "#summary")

        app.query_one("#engine", Select).value = "fbgemm"
        await wait_for_recompute(pilot, lambda results: results.scenario.engine == "fbgemm", "the fbgemm run")
        assert not app.query_one("#kernel-error").display


async def test_torch_import_failure_keeps_running():
    def missing_torch():
        raise ImportError("No module named 'torch'")

    app = QDebugApp(SEED, backend_loader=missing_torch)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.backend_error is not None, "the import failure")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "torch could not be loaded" in text_of(app, "#summary")
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "0"
        await pilot.press("v")
        assert app.is_running


async def test_saturation_mark_from_emulator():
    # FBGEMM's depthwise kernel saturates on every CPU, so the real emulator marks these cells.
    app = QDebugApp(SAMPLES / "depthwise_multiplier2.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        grid = app.query_one("#output-grid")
        assert app.screen.results.saturated is not None
        assert app.screen.results.saturated[0, 0, 0, 4]
        assert cell_text(grid, 0, 4).startswith("^")
        assert not app.screen.results.saturated[0, 0, 0, 0]
        assert not cell_text(grid, 0, 0).startswith("^")


async def test_saturation_marks_follow_the_modelled_cpu():
    app = QDebugApp(SEED, fixed_facts=FIXED_FACTS)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        assert cell_text(app.query_one("#output-grid"), 0, 0).startswith("^")


async def test_keep_real_values_requantizes(linear_real_path):
    app = QDebugApp(linear_real_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        original = app.screen.scenario.input.q.copy()
        assert "keep integers" in str(app.query_one("#edit-mode").content)
        await pilot.press("t")
        assert "keep real values" in str(app.query_one("#edit-mode").content)

        await type_into(pilot, "input-scale", "0.2")
        await wait_for_recompute(pilot, lambda results: results.scenario.input.qparams.scales == (0.2,), "scale 0.2")
        requantized = app.screen.scenario.input.q
        # 0.5 / 0.2 + 10 = 12.5 and -0.5 / 0.2 + 10 = 7.5 are ties that round to even.
        assert requantized.tolist() == [[12, 15, 8, 20]]
        assert cell_text(app.query_one("#input-grid"), 0, 0).strip() == "12"
        assert not np.array_equal(requantized, original)

        app.query_one("#output-grid").focus()
        await pilot.press("t")
        await type_into(pilot, "input-scale", "0.3")
        await wait_for_recompute(pilot, lambda results: results.scenario.input.qparams.scales == (0.3,), "scale 0.3")
        assert app.screen.scenario.input.q.tolist() == [[12, 15, 8, 20]]


async def test_help_lists_every_binding():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = [row[2] for row in app.screen.rows]
        keys = [row[0] for row in app.screen.rows]
        for binding_id in ("app.quit", "main.next-mismatch", "main.next-channel", "grid.up", "grid.page-down"):
            assert binding_id in ids
        for binding_id in ("output-grid.trace-cell", "drill.back", "drill.switch-isa", "drill.export", "drill.next-mismatch"):
            assert binding_id in ids
        assert "[" in keys
        assert "up, k" in keys
        assert ids[-1] == "trace-table.last-row"
        assert "trace-table.last-row" not in app.export_screenshot()
        await pilot.press("end")
        assert "trace-table.last-row" in app.export_screenshot()
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_action():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"cycle output view")

        def first_hit() -> str:
            lists = app.screen.query("CommandList")
            if not lists or lists.first().option_count == 0:
                return ""
            return str(lists.first().get_option_at_index(0).prompt)

        await wait_until(pilot, lambda: "Cycle output view" in first_hit(), "the palette hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the palette to close")
        await wait_until(pilot, lambda: app.screen.view is OutputView.FLOAT, "the view to change")


async def test_large_grid_scrolls_and_finds_mismatch(large_path):
    app = QDebugApp(large_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_evaluation(pilot)
        grid = app.query_one("#output-grid")
        assert grid.grid_slice.shape == (222, 222)
        await pilot.press("end")
        assert grid.cursor == (0, 221)
        assert grid.scroll_offset.x > 0
        await pilot.press("pagedown", "pagedown")
        assert grid.cursor[0] > 10
        assert grid.scroll_offset.y > 0
        row, column = grid.cursor
        assert cell_text(grid, row, column).strip() == str(int(app.screen.results.evaluation.quantized.q[0, 0, row, column]))

        diff = app.screen.results.evaluation.comparison.diff
        await pilot.press("n")
        index = output_index(app.screen.scenario, app.screen.position, *grid.cursor)
        assert diff[index] != 0
        assert f"oc={index[1]} of 64" in text_of(app, "#output-title")


async def test_recompute_failure_shown_in_output_pane():
    class BrokenQuantize(RecordedKernelBackend):
        def quantize_output(self, real, output):
            raise ValueError("quantize failed on purpose")

    reference_drawn = threading.Event()

    def load_after_reference():
        reference_drawn.wait(timeout=120)
        return BrokenQuantize()

    app = QDebugApp(SEED, backend_loader=load_after_reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.results is not None, "the exact reference")
        reference_drawn.set()
        error = app.query_one("#kernel-error")
        await wait_until(pilot, lambda: error.display, "the recompute error")
        assert "recompute failed: ValueError: quantize failed on purpose" in str(error.content)
        # The exact reference computed before torch loaded stays on screen.
        assert cell_text(app.query_one("#output-grid"), 0, 0).strip() == "0"
        await pilot.press("v")
        assert app.is_running


async def test_conv1d_filter_follows_cursor_row(tmp_path):
    app = QDebugApp(multi_channel_conv1d(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        scenario = app.screen.scenario
        output = app.query_one("#output-grid")
        assert output.grid_slice.shape == scenario.output_shape[1:]
        assert app.query_one("#input-grid").grid_slice.shape == scenario.input.shape[1:]
        assert "oc=0 of 4" in text_of(app, "#weight-title")
        await pilot.press("down", "down")
        assert "oc=2 of 4" in text_of(app, "#weight-title")
        assert app.query_one("#weight-scale", Input).value == "0.3"
        highlight = app.query_one("#input-grid").highlight
        assert highlight[:, :3].all()
        assert not highlight[:, 3:].any()
        await pilot.press("right_square_bracket")
        assert "already shows every input channel" in " ".join(str(n.message) for n in app._notifications)


async def test_conv3d_depth_keys(tmp_path):
    app = QDebugApp(SAMPLES / "conv3d.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        depths = app.screen.scenario.output_shape[2]
        assert "d=0 of" in text_of(app, "#output-title")
        await pilot.press("right_parenthesis")
        assert f"d=1 of {depths}" in text_of(app, "#output-title")
        await pilot.press("left_parenthesis", "left_parenthesis")
        assert f"d={depths - 1} of {depths}" in text_of(app, "#output-title")
        assert "kd=0 of" in text_of(app, "#weight-title")


async def test_linear_cursor_picks_weight_row():
    app = QDebugApp(SAMPLES / "linear_bias_relu.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        output = app.query_one("#output-grid")
        await pilot.press("ctrl+end")
        column = output.cursor[1]
        assert app.screen.position.out_channel == column
        highlight = app.query_one("#weight-grid").highlight
        assert highlight[column].all()
        assert highlight.sum() == highlight.shape[1]


async def test_engine_chosen_by_keyboard():
    app = QDebugApp(SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_evaluation(pilot)
        await focus_by_tab(pilot, "engine")
        await pilot.press("enter", "down", "enter")
        await wait_for_recompute(pilot, lambda results: results.scenario.engine == "fbgemm", "the fbgemm run")
        assert app.query_one("#engine", Select).value == "fbgemm"
        assert "engine fbgemm" in text_of(app, "#summary")
