"""Widgets whose own key bindings keep their order with the keys typed after them.

Textual hands a key to the focused widget at once, and a widget inserts a typed character
(``Input._on_key`` in textual/widgets/_input.py) or starts a cell edit as soon as it reads
the key. A key binding such as backspace, an arrow or ``j`` runs only after the key has
bubbled up through the screen to the app. When the screen is busy with the previous edit, a
character typed after such a key can overtake it. Over SSH keys arrive in bursts, so
backspace, backspace, 4, 9 typed into "33" could leave "9". On a grid, ``j 7 7 enter`` could
write 77 into the cell the cursor was leaving. These widgets run their own bindings while
they read the key, so every key acts in the order it was typed.
"""

from __future__ import annotations

from functools import cache

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input


@cache
def own_binding_actions(widget_class: type[Widget]) -> dict[str, str]:
    """Map each key bound by ``widget_class`` or its bases to its action; subclasses win."""
    actions: dict[str, str] = {}
    for klass in reversed(widget_class.__mro__):
        for binding in klass.__dict__.get("BINDINGS", ()):
            if not isinstance(binding, Binding):
                binding = Binding(*binding)
            for key in binding.key.split(","):
                actions[key.strip()] = binding.action
    return actions


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run the widget's own binding for ``event`` now; return False when it has none."""
    action = own_binding_actions(type(widget)).get(event.key)
    if action is None:
        return False
    event.stop()
    event.prevent_default()
    await widget.run_action(action)
    return True


class OrderedInput(Input):
    """An ``Input`` that runs its editing keys in its own message queue."""

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):
            await super()._on_key(event)
