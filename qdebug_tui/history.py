"""Undo and redo over immutable scenarios.

Every edit builds a new :class:`~qdebug_tui.core.scenario.Scenario` with
:func:`dataclasses.replace`, so a history entry costs only the arrays its edit copied. An
entry also carries the edit mode (keep integers or keep real values), because switching the
mode is an edit the user can undo. Headless: the TUI records and restores entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.scenario import Scenario

# Bounds of the history. Entries share unchanged arrays, so most of them cost a few hundred
# bytes, but each value edit copies the edited tensor. The byte bound keeps a session of
# edits on a large tensor from filling memory, by dropping the oldest entries first.
MAX_ENTRIES = 500
MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class EditState:
    """One point of the history: the scenario, the edit mode, and the edit that led to it.

    ``label`` names that edit for messages, for example ``output.zero_point``.
    """

    scenario: Scenario
    keep_real: bool
    label: str = "opening the file"


class EditHistory:
    """A bounded list of edit states with a cursor: undo moves back, redo forward.

    Recording after an undo drops the states that redo would have restored, as text editors
    do. Consecutive records with the same ``group`` (the keystrokes typed into one field)
    replace each other, so one undo takes back the whole value typed.
    """

    def __init__(self, initial: EditState, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries is {max_entries}; the history needs at least 1 entry")
        self._states = [initial]
        self._index = 0
        self._open_group: str | None = None
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    @property
    def present(self) -> EditState:
        """The state in force."""
        return self._states[self._index]

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._states) - 1

    def __len__(self) -> int:
        return len(self._states)

    def record(self, state: EditState, group: str | None = None) -> None:
        """Record ``state`` as the new present, or replace the present while ``group`` stays the same.

        A state equal to the present (same scenario object and mode) records nothing. Within
        a group, a state equal to the one before the group removes the group's entry.
        """
        present = self.present
        if _same(state, present):
            return
        del self._states[self._index + 1 :]
        if group is not None and group == self._open_group:
            if self._index > 0 and _same(state, self._states[self._index - 1]):
                # The field is back at the value it had before the group: nothing to undo.
                del self._states[self._index]
                self._index -= 1
                self._open_group = None
                return
            self._states[self._index] = state
        else:
            self._states.append(state)
            self._index += 1
        self._open_group = group
        self._trim()

    def seal(self) -> None:
        """End the open group, so that the next record adds a state even with the same group."""
        self._open_group = None

    def undo(self) -> tuple[EditState, EditState] | None:
        """Step back; return the state undone and the state now in force, or None at the start."""
        if not self.can_undo:
            return None
        undone = self.present
        self._index -= 1
        self._open_group = None
        return undone, self.present

    def redo(self) -> EditState | None:
        """Step forward; return the state now in force, or None when nothing was undone."""
        if not self.can_redo:
            return None
        self._index += 1
        self._open_group = None
        return self.present

    def held_bytes(self) -> int:
        """Return the bytes of the distinct arrays that the states hold."""
        seen: dict[int, int] = {}
        for state in self._states:
            for array in _arrays(state.scenario):
                seen[id(array)] = array.nbytes
        return sum(seen.values())

    def _trim(self) -> None:
        while len(self._states) > 1 and self._index > 0:
            if len(self._states) <= self.max_entries and self.held_bytes() <= self.max_bytes:
                return
            del self._states[0]
            self._index -= 1


def _same(left: EditState, right: EditState) -> bool:
    return left.scenario is right.scenario and left.keep_real == right.keep_real


def _arrays(scenario: Scenario) -> Iterator[np.ndarray]:
    for tensor in (scenario.input, scenario.weight):
        yield tensor.q
        if tensor.real is not None:
            yield tensor.real
    if scenario.bias is not None:
        yield scenario.bias.values
