"""A small LRU cache whose keys compare NumPy arrays by identity.

Scenarios are immutable: an edit builds a new scenario that shares every array it did not
change. So "the same array object" means "the same values", and a key can name an array by
its ``id`` in O(1) instead of hashing megabytes. An entry keeps its key arrays alive, so their
ids cannot be reused by other arrays while it is cached. NOTE: this relies on no code writing
into a scenario's arrays in place; every edit in qdebug copies the array it changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

Value = TypeVar("Value")


class ArrayKeyedCache(Generic[Value]):
    """The last ``size`` values computed, keyed by hashable parts and arrays (by identity).

    Safe to share between threads. Two threads that miss the same key both compute it, and
    the later one's value is kept.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"cache size must be at least 1, got {size}")
        self.size = size
        self._entries: OrderedDict[tuple, tuple[list[np.ndarray], Value]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, parts: tuple, compute: Callable[[], Value]) -> Value:
        """Return the cached value for ``parts``, or compute, store and return it."""
        key = tuple(("array", id(part)) if isinstance(part, np.ndarray) else _hashable(part) for part in parts)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        value = compute()
        arrays = [part for part in parts if isinstance(part, np.ndarray)]
        with self._lock:
            self._entries[key] = (arrays, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _hashable(part: object) -> Hashable:
    if not isinstance(part, Hashable):
        raise TypeError(f"cache key parts must be hashable or NumPy arrays, got {type(part).__name__}")
    return part
