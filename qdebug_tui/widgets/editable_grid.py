"""A tensor grid whose integers can be typed over: the input and weight grids."""

from __future__ import annotations

from textual import events
from textual.message import Message

from qdebug_tui.widgets.ordered_input import run_own_binding
from qdebug_tui.widgets.tensor_grid import TensorGrid

# Characters that start an edit of the cell under the cursor, and become its first character.
EDIT_START_CHARACTERS = frozenset("0123456789-+")


class EditableTensorGrid(TensorGrid):
    """A :class:`TensorGrid` where typing replaces the integer under the cursor.

    Typing a digit or a sign starts an edit with that character, and ``enter`` starts an
    empty one. While editing, the grid keeps the typed text: printable keys add to it,
    ``backspace`` removes the last character, ``enter`` posts :class:`EditSubmitted` and
    ``escape`` cancels. Moving the cursor or the focus cancels the edit too. The grid keeps
    the keys, so that digits typed in one burst all reach the edit in order. The screen
    decides whether the value is valid and calls :meth:`end_edit` once it is applied.

    The grid reads these keys in :meth:`on_key`, not through bindings, because all of them
    must take the same path to stay in order. A plain binding runs only after its key has
    bubbled up to the app, so digits typed right after ``enter`` in one burst would reach
    the grid first. A priority binding runs at once, before digits typed just before it.

    The output grid stays a plain :class:`TensorGrid`, so ``enter`` there is free for
    other uses.
    """

    class EditChanged(Message):
        """Posted when an edit starts and after each keystroke, with the text typed so far."""

        def __init__(self, grid: EditableTensorGrid, text: str) -> None:
            super().__init__()
            self.grid = grid
            self.text = text

        @property
        def control(self) -> EditableTensorGrid:
            return self.grid

    class EditSubmitted(Message):
        """Posted when ``enter`` is pressed during an edit; ``cell`` is the cursor's (row, column) then."""

        def __init__(self, grid: EditableTensorGrid, text: str, cell: tuple[int, int]) -> None:
            super().__init__()
            self.grid = grid
            self.text = text
            self.cell = cell

        @property
        def control(self) -> EditableTensorGrid:
            return self.grid

    class EditCancelled(Message):
        """Posted when an edit ends without a value."""

        def __init__(self, grid: EditableTensorGrid) -> None:
            super().__init__()
            self.grid = grid

        @property
        def control(self) -> EditableTensorGrid:
            return self.grid

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._edit_text: str | None = None

    @property
    def editing(self) -> bool:
        return self._edit_text is not None

    def end_edit(self) -> None:
        """End the edit after its value was applied."""
        self._edit_text = None

    def cancel_edit(self) -> None:
        """End the edit without a value; does nothing when no edit is open."""
        if self._edit_text is not None:
            self._edit_text = None
            self.post_message(self.EditCancelled(self))

    async def on_key(self, event: events.Key) -> None:
        if await run_own_binding(self, event):
            return  # a cursor key; it moves the cursor before the digits typed after it arrive
        if self._edit_text is None:
            if event.key == "enter":
                self._consume(event)
                self._set_edit_text("")
            elif event.character is not None and event.character in EDIT_START_CHARACTERS:
                self._consume(event)
                self._set_edit_text(event.character)
            return
        if event.key == "enter":
            self._consume(event)
            # The cell goes with the message: keys after enter may move the cursor before it is handled.
            self.post_message(self.EditSubmitted(self, self._edit_text, self.cursor))
        elif event.key == "escape":
            self._consume(event)
            self.cancel_edit()
        elif event.key == "backspace":
            self._consume(event)
            self._set_edit_text(self._edit_text[:-1])
        elif event.is_printable and event.character is not None:
            self._consume(event)
            self._set_edit_text(self._edit_text + event.character)

    def watch_cursor(self, old: tuple[int, int], new: tuple[int, int]) -> None:
        super().watch_cursor(old, new)
        self.cancel_edit()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self.cancel_edit()

    def _set_edit_text(self, text: str) -> None:
        self._edit_text = text
        self.post_message(self.EditChanged(self, text))

    @staticmethod
    def _consume(event: events.Key) -> None:
        event.stop()
        event.prevent_default()
