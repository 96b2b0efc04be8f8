"""Validation errors that name the file, the field, the value and what is allowed."""

from __future__ import annotations

import json
from dataclasses import dataclass

# Values longer than this are cut in messages, so that a huge list does not flood the screen.
_MAX_VALUE_CHARS = 60


@dataclass(frozen=True)
class Problem:
    """One mistake: the JSON path of the field, the offending value and what is allowed."""

    path: str
    value: object
    expected: str

    def describe(self) -> str:
        shown = _short_repr(self.value)
        where = self.path or "(top level)"
        return f"{where}: {shown} is invalid; {self.expected}"


class ScenarioError(Exception):
    """A scenario file, or a value typed into the app, that cannot be used as it is."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(self.message())

    def message(self) -> str:
        lines = [f"{self.source}: {problem.describe()}" for problem in self.problems]
        return "\n".join(lines)


def _short_repr(value: object) -> str:
    if isinstance(value, (list, dict)):
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
    else:
        text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"
