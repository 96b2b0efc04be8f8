"""Command palette entries for the drill-down screen's actions."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, action string run on the drill-down screen)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Trace the next mismatched cell", "The next cell where the real kernel and the float path differ (n)", "mismatch(1)"),
    ("Trace the previous mismatched cell", "The previous cell where the two paths differ (N)", "mismatch(-1)"),
    ("Switch between this CPU's path and the AVX2 path", "Real kernel and emulator of a CPU without VNNI, or of this CPU (i)", "switch_isa"),
    ("Export the trace", "Write the trace as Markdown and JSON next to the scenario file (e)", "export"),
    ("Next saturated pair", "Scroll the tables to the next int16 pair that saturated (s)", "clipped_pair(1)"),
    ("Previous saturated pair", "Scroll the tables to the previous int16 pair that saturated (S)", "clipped_pair(-1)"),
    ("Back to the main screen", "Close the drill-down (escape)", "back"),
    ("Help: list every key", "Open the help screen (?)", "help"),
)


class DrillDownCommands(Provider):
    """Offers the drill-down screen's actions by name."""

    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), text=title, help=help_text)

    async def _run(self, action: str) -> None:
        await self.screen.run_action(action)
