"""Validation errors that name the file, the field, the value and what is allowed."""

from __future__ import annotations

import json
from dataclasses import dataclass

# Values longer than this are cut in messages, so that a huge list does not flood the screen.
_MAX_VALUE_CHARS = 60


@dataclass(frozen=True)
class Problem:
    """One mistake: the JSON path of the field, the offending value and what is allowed.

    ``statement`` replaces the default "VALUE is invalid; EXPECTED" wording when a more
    specific sentence fits, such as "malformed JSON at line 3, column 1: …".
    """

    path: str
    value: object
    expected: str
    statement: str | None = None

    def describe(self) -> str:
        text = self.statement or f"{short_repr(self.value)} is invalid; {self.expected}"
        return f"{self.path}: {text}" if self.path else text


class ScenarioError(Exception):
    """A scenario file, or a value typed into the app, that cannot be used as it is."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(self.message())

    def message(self) -> str:
        lines = [f"{self.source}: {problem.describe()}" for problem in self.problems]
        return "\n".join(lines)


def short_repr(value: object) -> str:
    """Return ``value`` as a message shows it: JSON for strings, lists and objects, cut to 60 characters."""
    if isinstance(value, (str, list, dict)):
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    else:
        text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"
