"""Group commit for the landing page's writes: views and interaction beacons.

The page never waits on the database. Each request puts one item on an in-process queue;
a single writer task commits everything that arrived within `flush_ms` (or `max_batch`
items, whichever comes first) in one transaction, then hands the results on (the
employee's "someone is viewing your card" DM).

Durability trade-off: an item is in memory for at most one flush window before it is
committed. A clean stop (SIGTERM) flushes the queue before exiting, so nothing
acknowledged is lost; a crash (kill -9, power loss) can lose the views of the last
window. `flush_ms=0` writes through before the page is answered instead: no window,
one transaction per view.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.tracking import ViewResult, Visit, record_beacon, record_views
from store.db import Database
from store.models import View

log = logging.getLogger(__name__)

MAX_BATCH = 500
RETRY_DELAYS = (0.05, 0.2, 1.0, 2.0)


@dataclass(frozen=True)
class ViewItem:
    visit: Visit
    context: Any = None  # handed back with the result (the landing page that was shown)


@dataclass(frozen=True)
class BeaconItem:
    share_id: int
    visitor_key: str
    dwell_ms: int | None = None
    scroll_pct: int | None = None
    clicks: list[str] = field(default_factory=list)


Item = ViewItem | BeaconItem
# Called once per batch inside its transaction, so what it writes (the outbox rows of the
# employees' DMs) commits or rolls back with the views themselves. They return True when
# they queued a message that is due now: only then is `after_commit` called.
OnViewed = Callable[[AsyncSession, list[tuple[ViewItem, ViewResult]]], Awaitable[bool | None]]
OnBeacon = Callable[[AsyncSession, View], Awaitable[bool | None]]


class ViewRecorder:
    def __init__(
        self,
        db: Database,
        *,
        flush_ms: int,
        on_viewed: OnViewed,
        after_commit: Callable[[], None] | None = None,
        on_beacon: OnBeacon | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._after_commit = after_commit
        self._on_beacon = on_beacon
        self._db = db
        self._flush_s = flush_ms / 1000
        self._on_viewed = on_viewed
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._enough = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and /healthz

    @property
    def write_through(self) -> bool:
        return self._flush_s <= 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being written."""
        return self._idle.is_set()

    def start(self) -> None:
        if not self.write_through and self._writer is None:
            self._writer = asyncio.create_task(self._run(), name="view-recorder")

    async def add(self, item: Item) -> None:
        """Queue the item, or with write-through commit it before returning."""
        if self.write_through or self._writer is None:
            await self._commit([item])
            return
        self._idle.clear()
        self._queue.put_nowait(item)
        if self._queue.qsize() >= self._max_batch:
            self._enough.set()

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._writer is None:
            return
        self._enough.set()
        await self._idle.wait()

    async def stop(self) -> None:
        """Commit what is queued, then stop the writer (called on shutdown)."""
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        while not self._queue.empty():  # items that raced the cancellation
            await self._commit([self._queue.get_nowait()])

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._enough.wait(), self._flush_s)
            self._enough.clear()
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if self._queue.qsize() >= self._max_batch:
                self._enough.set()
            await self._commit_with_retries(batch)
            if self._queue.empty():
                self._idle.set()

    async def _commit_with_retries(self, batch: list[Item]) -> None:
        """A locked or briefly unavailable database is retried; the batch is never dropped.

        Any other failure is a bug in one item: the batch is retried item by item, so only
        the item that fails (logged with its traceback) is left out."""
        for delay in (*RETRY_DELAYS, None):
            try:
                await self._commit(batch)
                return
            except OperationalError as exc:
                if delay is None:
                    break
                log.warning("tracking write failed (%s); retrying in %.2fs", exc.orig, delay)
                await asyncio.sleep(delay)
            except Exception:
                if len(batch) == 1:
                    log.exception("tracking item could not be stored: %r", batch[0])
                    return
                for item in batch:
                    await self._commit_with_retries([item])
                return
        log.error("tracking batch of %d items kept for the next flush", len(batch))
        for item in batch:
            self._queue.put_nowait(item)

    async def _commit(self, batch: list[Item]) -> None:
        views = [item for item in batch if isinstance(item, ViewItem)]
        beacons = [item for item in batch if isinstance(item, BeaconItem)]
        async with self._db.session() as session:
            # Views first, set-based; then beacons, which attach to the latest view.
            results = await record_views(session=session, visits=[v.visit for v in views])
            queued = bool(await self._on_viewed(session, list(zip(views, results, strict=True))))
            for item in beacons:
                view = await record_beacon(
                    session=session,
                    share_id=item.share_id,
                    visitor_key=item.visitor_key,
                    dwell_ms=item.dwell_ms,
                    scroll_pct=item.scroll_pct,
                    clicks=item.clicks,
                )
                if view is not None and self._on_beacon is not None:
                    queued = bool(await self._on_beacon(session, view)) or queued
        self.batches += 1
        if queued and self._after_commit is not None:
            self._after_commit()
