"""A small time-bounded cache for the landing page's reads (share, activity, people).

Entries expire after `ttl` seconds so several server processes converge; within one
process every change goes through the services, which clear the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MISSING: Any = object()  # `peek`'s answer when the key has no fresh entry


class TTLCache:
    def __init__(self, ttl: float = 30.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def peek(self, key: Hashable) -> Any:
        """The fresh cached value, else MISSING: the hot path's lookup without a coroutine."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= self.ttl:
            return MISSING
        self.hits += 1
        self._entries.move_to_end(key)
        return entry[1]

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value, or one load shared by every caller waiting for this key."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl:
            self.hits += 1
            self._entries.move_to_end(key)
            return entry[1]
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        self.misses += 1
        generation = self._generation
        task = asyncio.ensure_future(load())
        self._loading[key] = task
        try:
            value = await asyncio.shield(task)
        finally:
            if self._loading.get(key) is task:
                del self._loading[key]
        if generation == self._generation:  # not cleared meanwhile: the value is current
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._loading.clear()
        self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)
