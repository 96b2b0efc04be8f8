"""A text field whose editing keys keep their order with the characters typed after them.

Textual's ``Input`` (textual/widgets/_input.py, ``_on_key``) inserts a typed character as
soon as the field reads its key, but runs a key binding (backspace, delete, home, end, the
arrows, enter) only after the key has bubbled up through the screen to the app. When the
screen is busy with the previous edit, a digit typed after a backspace can overtake it: over
SSH, where keys arrive in bursts, typing backspace, backspace, 4, 9 into "33" could leave "9"
or "4". :class:`OrderedInput` runs its own bindings while it reads the key, so every key acts
in the order it was typed.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


def _binding_actions() -> dict[str, str]:
    """Map each key of ``Input``'s own bindings to its action."""
    actions: dict[str, str] = {}
    for binding in Input.BINDINGS:
        for key in binding.key.split(","):
            actions[key.strip()] = binding.action
    return actions


_FIELD_ACTIONS = _binding_actions()


class OrderedInput(Input):
    """An ``Input`` that runs its editing keys in its own message queue."""

    async def _on_key(self, event: events.Key) -> None:
        action = _FIELD_ACTIONS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)
