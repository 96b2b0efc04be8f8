"""The bounded undo history of immutable scenarios."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conftest import SEED
from qdebug_tui.history import EditHistory, EditState
from qdebug_tui.io.scenario_file import load_scenario


@pytest.fixture(scope="module")
def seed():
    return load_scenario(SEED)


def with_zero_point(scenario, zero_point):
    return replace(scenario, output=replace(scenario.output, zero_point=zero_point))


def test_undo_redo_walk(seed):
    history = EditHistory(EditState(seed, False))
    first = with_zero_point(seed, 1)
    second = with_zero_point(first, 2)
    history.record(EditState(first, False, "output.zero_point"))
    history.record(EditState(second, False, "output.zero_point"))

    undone, present = history.undo()
    assert undone.scenario is second
    assert present.scenario is first
    undone, present = history.undo()
    assert present.scenario is seed
    assert history.undo() is None
    assert history.redo().scenario is first
    assert history.redo().scenario is second
    assert history.redo() is None


def test_record_after_undo_drops_redo(seed):
    history = EditHistory(EditState(seed, False))
    history.record(EditState(with_zero_point(seed, 1), False))
    history.undo()
    other = with_zero_point(seed, 9)
    history.record(EditState(other, False))
    assert not history.can_redo
    assert history.present.scenario is other
    assert len(history) == 2


def test_group_coalesces_keystrokes(seed):
    history = EditHistory(EditState(seed, False))
    for value in (1, 12, 128):
        history.record(EditState(with_zero_point(seed, value), False), group="output.zero_point")
    assert len(history) == 2
    assert history.present.scenario.output.zero_point == 128
    _, present = history.undo()
    assert present.scenario is seed


def test_seal_splits_group(seed):
    history = EditHistory(EditState(seed, False))
    history.record(EditState(with_zero_point(seed, 1), False), group="output.zero_point")
    history.seal()
    history.record(EditState(with_zero_point(seed, 2), False), group="output.zero_point")
    assert len(history) == 3


def test_group_back_to_start_removes_entry(seed):
    history = EditHistory(EditState(seed, False))
    history.record(EditState(with_zero_point(seed, 3), False), group="output.zero_point")
    history.record(EditState(seed, False), group="output.zero_point")
    assert len(history) == 1
    assert history.present.scenario is seed
    assert not history.can_undo
    history.record(EditState(with_zero_point(seed, 4), False), group="output.zero_point")
    assert len(history) == 2


def test_same_state_records_nothing(seed):
    history = EditHistory(EditState(seed, False))
    history.record(EditState(seed, False))
    assert len(history) == 1
    history.record(EditState(seed, True, "edit mode"))
    assert len(history) == 2
    assert history.present.keep_real


def test_entry_bound_drops_oldest(seed):
    history = EditHistory(EditState(seed, False), max_entries=3)
    scenarios = [with_zero_point(seed, value) for value in range(1, 6)]
    for scenario in scenarios:
        history.record(EditState(scenario, False))
    assert len(history) == 3
    assert history.present.scenario is scenarios[-1]
    history.undo()
    _, oldest = history.undo()
    assert oldest.scenario is scenarios[-3]
    assert history.undo() is None


def test_byte_bound_counts_shared_arrays_once(seed):
    history = EditHistory(EditState(seed, False))
    shared = history.held_bytes()
    for value in range(1, 20):
        history.record(EditState(with_zero_point(seed, value), False))
    assert history.held_bytes() == shared

    big = np.zeros(1000, dtype=np.uint8)
    limited = EditHistory(EditState(seed, False), max_bytes=shared + 2500)
    for value in range(5):
        q = big.copy()
        q[0] = value
        scenario = replace(seed, input=replace(seed.input, q=q))
        limited.record(EditState(scenario, False))
    assert limited.held_bytes() <= shared + 2500
    assert len(limited) == 2
    assert limited.present.scenario.input.q[0] == 4


def test_present_never_dropped(seed):
    history = EditHistory(EditState(seed, False), max_bytes=0)
    scenario = with_zero_point(seed, 7)
    history.record(EditState(scenario, False))
    assert history.present.scenario is scenario
    assert len(history) == 1


def test_invalid_bound_raises(seed):
    with pytest.raises(ValueError, match="at least 1"):
        EditHistory(EditState(seed, False), max_entries=0)
