"""Command palette entries for every action of the main screen."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, action string run on the main screen)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Trace the selected output cell", "Open the drill-down: the cell's accumulator math, step by step (enter)", "drill_down"),
    ("Next mismatched cell", "Move the output cursor to the next cell where the paths differ", "mismatch(1)"),
    ("Previous mismatched cell", "Move the output cursor to the previous differing cell", "mismatch(-1)"),
    ("Cycle output view", "Quantized q, float q, difference in LSB, float value", "cycle_view"),
    ("Toggle keep integers / keep real values", "What input and weight qparam edits keep fixed", "toggle_keep_real"),
    ("Next input channel", "Show the next input channel and its filter", "in_channel(1)"),
    ("Previous input channel", "Show the previous input channel and its filter", "in_channel(-1)"),
    ("Next output channel or batch", "Show the next output slice", "output_slice(1)"),
    ("Previous output channel or batch", "Show the previous output slice", "output_slice(-1)"),
    ("Next output depth", "Show the next output depth of a 3-D conv", "depth(1)"),
    ("Previous output depth", "Show the previous output depth of a 3-D conv", "depth(-1)"),
    ("Focus input grid", "Move the keyboard focus to the input grid", "focus('#input-grid')"),
    ("Focus weight grid", "Move the keyboard focus to the weight grid", "focus('#weight-grid')"),
    ("Focus output grid", "Move the keyboard focus to the output grid", "focus('#output-grid')"),
    ("Edit input scale", "Move the keyboard focus to the input scale field", "focus('#input-scale')"),
    ("Edit input zero point", "Move the keyboard focus to the input zero point field", "focus('#input-zero-point')"),
    ("Edit weight scale", "Move the keyboard focus to the weight scale field", "focus('#weight-scale')"),
    ("Edit weight zero point", "Move the keyboard focus to the weight zero point field", "focus('#weight-zero-point')"),
    ("Edit output scale", "Move the keyboard focus to the output scale field", "focus('#output-scale')"),
    ("Edit output zero point", "Move the keyboard focus to the output zero point field", "focus('#output-zero-point')"),
    ("Choose engine", "Move the keyboard focus to the engine selector", "focus('#engine')"),
    ("Help: list every key", "Open the help screen", "help"),
    ("Undo", "Undo the last edit: a qparam, a value, the engine or the edit mode (ctrl+z)", "undo"),
    ("Redo", "Redo the last edit undone (ctrl+y)", "redo"),
)


class ActionCommands(Provider):
    """A command palette provider for a table of actions: ``ENTRIES`` contains (title, help, action).

    The actions run on the screen that opened the palette; :attr:`ON_APP` runs them on the app.
    """

    ENTRIES: tuple[tuple[str, str, str], ...] = ()
    ON_APP = False

    async def discover(self) -> Hits:
        for title, help_text, action in self.ENTRIES:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self.ENTRIES:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), text=title, help=help_text)

    async def _run(self, action: str) -> None:
        await (self.app if self.ON_APP else self.screen).run_action(action)


class MainScreenCommands(ActionCommands):
    """Offers the main screen's actions by name."""

    ENTRIES = COMMANDS


# (title, help, action string run on the app)
FILE_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Open scenario file", "Open another scenario file (ctrl+o)", "open"),
    ("Save", "Save the scenario to its file (ctrl+s)", "save"),
    ("Save as", "Save the scenario to another file, which becomes its file", "save_as"),
)


class FileCommands(ActionCommands):
    """Offers the app's file actions by name."""

    ENTRIES = FILE_COMMANDS
    ON_APP = True
