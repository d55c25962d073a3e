"""A small time-bounded cache for the landing page's reads (share, activity, people).

Entries expire after `ttl` seconds so several server processes converge; within one
process every change goes through the services, which clear the cache.

An entry that has just expired (younger than `ttl + grace`) is still answered while one
reload runs in the background: under load, every request for a hot share would otherwise
wait for that reload at once, a pause of tens of milliseconds every `ttl` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)

MISSING: Any = object()  # `peek`'s answer when the key has no fresh entry


class TTLCache:
    def __init__(
        self,
        ttl: float = 30.0,
        max_entries: int = 10_000,
        *,
        grace: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.grace = ttl if grace is None else grace
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # strong references until each is done
        self._generation = 0
        self.hits = 0
        self.stale_hits = 0
        self.misses = 0

    def peek(self, key: Hashable) -> Any:
        """The fresh cached value, else MISSING: the hot path's lookup without a coroutine."""
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] >= self.ttl:
            return MISSING
        self.hits += 1
        self._entries.move_to_end(key)
        return entry[1]

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value, or one load shared by every caller waiting for this key; a just
        expired value is answered at once while it is reloaded in the background."""
        entry = self._entries.get(key)
        if entry is not None:
            age = self._clock() - entry[0]
            if age < self.ttl:
                self.hits += 1
                self._entries.move_to_end(key)
                return entry[1]
            if age < self.ttl + self.grace:
                self.stale_hits += 1
                if key not in self._loading:
                    self._start_load(key, load, background=True)
                return entry[1]
        loading = self._loading.get(key)
        if loading is None:
            self.misses += 1
            loading = self._start_load(key, load, background=False)
        return await asyncio.shield(loading)

    def _start_load(
        self, key: Hashable, load: Callable[[], Awaitable[Any]], *, background: bool
    ) -> asyncio.Task[Any]:
        started, generation = self._clock(), self._generation
        task = asyncio.ensure_future(load())
        self._loading[key] = task
        self._tasks.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            if self._loading.get(key) is task:
                del self._loading[key]
            if task.cancelled() or task.exception() is not None:
                if background:  # nobody awaits it: the next caller loads and sees the error
                    log.warning("reloading a cached entry failed", exc_info=task.exception())
                    self._entries.pop(key, None)
                return
            if generation == self._generation:  # not cleared meanwhile: the value is current
                self._entries[key] = (started, task.result())
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)

        task.add_done_callback(done)
        return task

    def clear(self) -> None:
        self._entries.clear()
        self._loading.clear()
        self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)
