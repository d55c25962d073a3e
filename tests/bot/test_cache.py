"""The landing cache: one load per key for concurrent callers, and clear() wins over loads."""

from __future__ import annotations

import asyncio

from bot.cache import MISSING, TTLCache


async def test_concurrent_misses_share_one_load() -> None:
    cache = TTLCache(ttl=60)
    gate = asyncio.Event()
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await gate.wait()
        return "value"

    waiting = [asyncio.ensure_future(cache.get_or_load("k", load)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == ["value"] * 20
    assert loads == 1
    assert await cache.get_or_load("k", load) == "value" and loads == 1


async def test_a_load_that_started_before_clear_is_not_kept() -> None:
    cache = TTLCache(ttl=60)
    gate = asyncio.Event()

    async def stale() -> str:
        await gate.wait()
        return "stale"

    async def fresh() -> str:
        return "fresh"

    pending = asyncio.ensure_future(cache.get_or_load("k", stale))
    await asyncio.sleep(0)
    cache.clear()  # the data changed while the old load was running
    gate.set()
    assert await pending == "stale"  # that caller gets what it asked for …
    assert await cache.get_or_load("k", fresh) == "fresh"  # … but it is not cached


async def test_peek_answers_only_fresh_entries_without_loading() -> None:
    cache = TTLCache(ttl=60)
    assert cache.peek("k") is MISSING

    async def load() -> str:
        return "value"

    await cache.get_or_load("k", load)
    assert cache.peek("k") == "value"
    cache.ttl = 0  # every entry is now stale
    assert cache.peek("k") is MISSING
    cache.ttl = 60
    cache.clear()
    assert cache.peek("k") is MISSING
