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


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_just_expired_entry_is_answered_while_one_reload_runs() -> None:
    """Under load every request for a hot share used to wait for the reload at once."""
    clock = _Clock()
    cache = TTLCache(ttl=30, clock=clock)
    gate = asyncio.Event()
    loads: list[str] = []

    async def load() -> str:
        loads.append("load")
        if len(loads) > 1:
            await gate.wait()
        return f"v{len(loads)}"

    assert await cache.get_or_load("k", load) == "v1"
    clock.now += 31  # expired, within the grace period
    assert cache.peek("k") is MISSING  # the hot path does not answer stale values itself
    answers = [await cache.get_or_load("k", load) for _ in range(50)]
    assert answers == ["v1"] * 50  # nobody waited …
    await asyncio.sleep(0)
    assert len(loads) == 2  # … and one reload started
    gate.set()
    while cache.peek("k") is MISSING:
        await asyncio.sleep(0)
    assert await cache.get_or_load("k", load) == "v2" and cache.stale_hits == 50


async def test_an_entry_past_its_grace_is_loaded_before_answering() -> None:
    clock = _Clock()
    cache = TTLCache(ttl=30, grace=30, clock=clock)
    values = iter(["old", "new"])

    async def load() -> str:
        return next(values)

    assert await cache.get_or_load("k", load) == "old"
    clock.now += 61
    assert await cache.get_or_load("k", load) == "new"


async def test_a_failed_background_reload_drops_the_entry() -> None:
    clock = _Clock()
    cache = TTLCache(ttl=30, clock=clock)
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise LookupError("share deleted")
        return "value"

    await cache.get_or_load("k", load)
    clock.now += 31
    assert await cache.get_or_load("k", load) == "value"  # stale, reload started
    while "k" in cache._loading:
        await asyncio.sleep(0)
    assert len(cache) == 0  # the next caller loads again and sees what happened
    assert await cache.get_or_load("k", load) == "value" and calls == 3
