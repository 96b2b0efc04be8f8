"""Sharing the terminal's width between the grid panes."""

from __future__ import annotations

from collections.abc import Sequence


def share_widths(desired: Sequence[int], total: int) -> list[int]:
    """Give each pane its desired width when all fit, else share ``total`` by water-filling.

    Panes that need less than an equal share keep their width. The others split the rest
    equally, so a small weight grid is not squeezed to make room for a large input.
    """
    widths = list(desired)
    if sum(widths) <= total:
        return widths
    remaining = list(range(len(widths)))
    budget = total
    while remaining:
        share = budget // len(remaining)
        small = [i for i in remaining if widths[i] <= share]
        if not small:
            break
        for i in small:
            budget -= widths[i]
            remaining.remove(i)
    if remaining:
        share, extra = divmod(max(budget, 0), len(remaining))
        for position, i in enumerate(remaining):
            widths[i] = share + (1 if position < extra else 0)
    return widths
