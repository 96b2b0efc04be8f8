"""The trace's renderings for the drill-down: Markdown export, table rows and verdict lines."""

from __future__ import annotations

import numpy as np

from conftest import SEED
from qdebug_tui.drilldown_sections import verdict_text
from qdebug_tui.drilldown_tables import CLIPPED_MARK, pair_rows, term_rows
from qdebug_tui.io.scenario_file import load_scenario
from qdebug_tui.testing import build_scenario, random_spec
from qdebug_tui.trace import trace_cell
from qdebug_tui.trace.markdown_view import trace_to_markdown
from qdebug_tui.trace.text_rows import split_fix


def seed_trace(isa: str = "avx2"):
    return trace_cell(load_scenario(SEED).with_engine("fbgemm"), (0, 0, 0, 0), isa, quantized_q=7)


def random_traces(count: int):
    """Yield (scenario, trace) for one random cell of ``count`` random layers, on both instruction-set forms."""
    rng = np.random.default_rng(31)
    for seed in range(count):
        spec = random_spec(rng)
        engine = str(rng.choice(["fbgemm", "qnnpack", "x86"]))
        scenario = build_scenario(spec, engine, seed)
        cell = tuple(int(rng.integers(0, size)) for size in scenario.output_shape)
        for isa in ("native", "avx2"):
            yield scenario, trace_cell(scenario, cell, isa)


def test_markdown_lists_every_term_and_pair():
    text = trace_to_markdown(seed_trace())
    lines = text.splitlines()
    term_rows_start = lines.index("| slot | input index | q_x | q_x − z_x | weight index | q_w | q_w − z_w | product | running sum | pair clipped |")
    terms = [line for line in lines[term_rows_start + 2 :] if line.startswith("| ")]
    assert terms[0] == "| 0 | 0,0,0,0 | 200 | 167 | 0,0,0,0 | 9 | 20 | 3340 | 3340 |  |"
    assert terms[24] == "| 24 | 0,0,4,4 | 200 | 167 | 0,0,4,4 | -91 | -80 | -13360 | -13861 |  |"
    assert "| 4 | 0,0,0,4 | 200 | 167 | 0,0,0,4 | -67 | -56 | -9352 | -2505 | yes |" in lines
    assert "| 13 | 26,27 | 0·(0) + 0·(0) | 0 | 0 |  |" in lines
    assert "Σ product = exact accumulator = -13861" in lines
    assert "- int32 accumulator the kernel requantizes: 4003 (exact -13861)" in lines
    assert "- output q = 7" in lines
    assert "- float path q = 0" in lines
    # A literal | would split the table cell or start one, so it is escaped.
    assert "(INT32_MIN when \\|y\\| ≥ 2^31)" in text
    assert text.index("## Terms") < text.index("## Kernel accumulation") < text.index("## Bias")
    assert text.index("## Requantization") < text.index("## Float path") < text.index("## Verdict")


def test_verdict_puts_fix_on_own_line():
    text = verdict_text(seed_trace())
    sentence, fix = text.split("\n")
    assert sentence.startswith("2 int16 pair sums clipped in FBGEMM's im2col kernel (avx2): 200·(-67) + 200·(-97)")
    assert sentence.endswith("outputs 7 instead of 0.")
    assert fix == "Fix: 7-bit activations (reduce_range=True, 0..127), smaller adjacent weights, or a CPU with AVX512-VNNI."


def test_agreeing_verdict_has_no_fix():
    trace = next(trace for _, trace in random_traces(20) if trace.cause is None)
    sentence, fix = split_fix(trace.explanation)
    assert sentence.startswith("Both paths give")
    assert fix is None
    assert verdict_text(trace) == sentence


def test_named_causes_come_with_fix():
    causes = set()
    for _, trace in random_traces(60):
        causes.add(trace.cause)
        if trace.cause in (None, "kernel-mismatch"):
            continue
        sentence, fix = split_fix(trace.explanation)
        assert fix, f"{trace.cause}: {trace.explanation}"
        assert sentence
    assert {"int16-saturation", "clamped"} <= causes


def test_table_widths_fit_every_row():
    padded = 0
    for scenario, trace in random_traces(40):
        for rows in (term_rows(trace, scenario.input.shape, scenario.weight.shape), pair_rows(trace)):
            for index in range(rows.count):
                cells = rows.row(index)
                assert len(cells) == len(rows.widths)
                for cell, width in zip(cells, rows.widths):
                    assert len(cell) <= width, (cell, width)
                assert (cells[-1] == CLIPPED_MARK) == bool(rows.marked[index])
            padded += int(rows.muted.sum())
    assert padded > 0


def test_term_rows_keep_running_sum():
    trace = seed_trace()
    rows = term_rows(trace, (1, 1, 5, 5), (1, 1, 5, 5))
    assert rows.row(0)[-2] == "3340"
    assert rows.row(24)[-2] == "-13861"
    assert [index for index in range(rows.count) if rows.marked[index]] == [4, 5, 10, 11]


def test_padding_taps_read_padding():
    scenario = load_scenario(SEED.parent / "per_channel_conv2d.json")
    trace = trace_cell(scenario, (0, 0, 0, 0), "avx2")
    rows = term_rows(trace, scenario.input.shape, scenario.weight.shape)
    padded = [index for index in range(rows.count) if trace.terms[index].input_index is None]
    assert padded
    for index in padded:
        assert rows.row(index)[1] == "padding"
        assert rows.muted[index]
    inside = next(index for index in range(rows.count) if trace.terms[index].input_index is not None)
    assert rows.row(inside)[1] != "padding"
