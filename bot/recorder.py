"""Group commit for the landing page's writes: views and interaction beacons.

The page never waits on the database. Each request puts one item on a queue; a single
writer commits everything that arrived within `flush_ms` (at most `max_batch` items) in
one transaction, then hands the results on (the employee's "someone is viewing your
card" DM).

The writer runs in a thread of its own, with its own event loop and its own database
engine. Its work per batch (SQLAlchemy building statements for hundreds of rows, the
roll-ups, the DM bookkeeping) then never holds up the loop that answers the pages: the
two share the GIL, which the interpreter hands over every few milliseconds, instead of the
pages waiting for a whole batch. It runs at the lowest scheduling priority, so the pages
get the core when they need it. Callbacks run in the writer's loop; what must happen on
the application's loop goes through `on_main_loop`.

Durability trade-off: an item is in memory for at most one flush window before it is
committed. A clean stop (SIGTERM) flushes the queue before exiting, so nothing
acknowledged is lost; a crash (kill -9, power loss) can lose the views of the last
window. `flush_ms=0` writes through before the page is answered instead: the request
waits for the commit of the batch it is in (concurrent requests share one transaction).
When the writer falls `max_backlog` items behind, new pages wait for their own commit the
same way, so memory and the crash window stay bounded under any load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.tracking import ViewResult, Visit, record_beacon, record_views
from store.db import Database, is_transient
from store.models import View

log = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_BACKLOG = 2 * MAX_BATCH
# The nice value of the writer's threads: the lowest priority (see _yield_to_pages).
WRITER_NICE = 19
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


@dataclass
class Followups:
    """What a batch's callbacks ask for once the batch is committed, on the application's
    loop: `wake` calls the recorder's `after_commit` (a message is due now); `calls` run as
    given. A batch that is retried starts with a fresh one, so nothing is asked twice."""

    wake: bool = False
    calls: list[Callable[[], object]] = field(default_factory=list)


# Called once per batch inside its transaction, so what they write (the outbox rows of the
# employees' DMs) commits or rolls back with the views themselves.
OnViewed = Callable[[AsyncSession, list[tuple[ViewItem, ViewResult]], Followups], Awaitable[None]]
OnBeacon = Callable[[AsyncSession, View, Followups], Awaitable[None]]


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
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self._db = db
        self._flush_s = flush_ms / 1000
        self._on_viewed = on_viewed
        self._after_commit = after_commit
        self._on_beacon = on_beacon
        self._max_batch = max_batch
        self._max_backlog = max_backlog
        self._enough = min(max_batch, max_backlog)  # queued items that end a window early
        # Written by the application's loop, read by the writer thread.
        self._items: queue.SimpleQueue[tuple[Item, asyncio.Future[None] | None]] = (
            queue.SimpleQueue()
        )
        self._stopping = False
        self._flushing = 0  # flushes waiting (read by the writer thread)
        self._failed_start: BaseException | None = None
        self._main: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._writer_loop: asyncio.AbstractEventLoop | None = None
        self._kick: asyncio.Event | None = None  # the writer's: wake up, commit now
        self._writer_sleeping = False
        self._started = threading.Event()
        # Kept on the application's loop only.
        self._added = 0
        self._done = 0
        self._progress = asyncio.Event()
        self.batches = 0  # committed transactions, for tests and /healthz

    @property
    def write_through(self) -> bool:
        return self._flush_s <= 0

    @property
    def pending(self) -> int:
        return self._added - self._done

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being written."""
        return self._added == self._done

    def start(self) -> None:
        """Start the writer thread (call from the application's loop). An in-memory
        database cannot be shared with another engine: its writes stay on this loop."""
        if self._thread is not None or not self._db.can_twin:
            return
        self._main = asyncio.get_running_loop()
        self._stopping = False
        self._started.clear()
        self._failed_start = None
        self._thread = threading.Thread(target=self._thread_main, name="view-writer", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failed_start is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("the tracking writer could not start") from self._failed_start

    def add_nowait(self, item: Item) -> asyncio.Future[None] | None:
        """Queue the item without awaiting anything (the landing page's hot path). With
        write-through, no writer thread, or the writer `max_backlog` items behind, the item
        is committed when the returned future is done; the caller awaits it."""
        if self._thread is None or self._stopping:  # not started, or stopping: commit here
            return asyncio.ensure_future(self._commit(self._db, [item]))
        done: asyncio.Future[None] | None = None
        if self.write_through or self._items.qsize() >= self._max_backlog:
            done = asyncio.get_running_loop().create_future()
        self._added += 1
        self._items.put((item, done))
        if self.write_through or self._writer_sleeping or self._items.qsize() == self._enough:
            self._wake_writer()
        return done

    async def add(self, item: Item) -> None:
        """Queue the item; with write-through, return once it is committed."""
        done = self.add_nowait(item)
        if done is not None:
            await done

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        target = self._added
        if self._done >= target:
            return
        self._flushing += 1  # no group-commit windows until this flush is done
        try:
            self._wake_writer()
            while self._done < target:
                self._progress.clear()
                await self._progress.wait()
        finally:
            self._flushing -= 1

    async def stop(self) -> None:
        """Commit what is queued, then stop the writer (called on shutdown)."""
        if self._thread is None:
            return
        await self.flush()
        self._stopping = True
        self._wake_writer()
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    def on_main_loop(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback(*args)` on the application's loop (from the writer's callbacks)."""
        if self._main is None or self._main is _running_loop():
            callback(*args)
        else:
            self._main.call_soon_threadsafe(callback, *args)

    # the writer thread ----------------------------------------------------------------

    @property
    def _backlog(self) -> bool:
        return self._items.qsize() >= self._enough

    def _wake_writer(self) -> None:
        if self._writer_loop is not None and self._kick is not None:
            self._writer_loop.call_soon_threadsafe(self._kick.set)

    def _thread_main(self) -> None:
        _yield_to_pages()
        asyncio.run(self._write_loop())

    async def _write_loop(self) -> None:
        try:
            self._writer_loop = asyncio.get_running_loop()
            self._kick = asyncio.Event()
            db = self._db.twin()  # engines belong to one loop: the writer gets its own
        except BaseException as exc:
            self._failed_start = exc
            raise
        finally:
            self._started.set()
        try:
            while True:
                if self._items.empty():
                    if self._stopping:
                        return
                    self._writer_sleeping = True
                    if self._items.empty() and not self._stopping:
                        await self._kick.wait()
                    self._writer_sleeping = False
                    self._kick.clear()
                    continue
                if not (self.write_through or self._stopping or self._flushing or self._backlog):
                    # The group-commit window: let more arrive (a full batch or a flush
                    # cuts it short).
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._kick.wait(), self._flush_s)
                    self._kick.clear()
                batch: list[tuple[Item, asyncio.Future[None] | None]] = []
                while len(batch) < self._max_batch and not self._items.empty():
                    batch.append(self._items.get_nowait())
                await self._commit_with_retries(db, batch)
        finally:
            await db.dispose()

    async def _commit_with_retries(
        self, db: Database, batch: list[tuple[Item, asyncio.Future[None] | None]]
    ) -> None:
        """A locked or briefly unavailable database, a deadlock or a serialization failure
        is retried; the batch is never dropped.

        Any other failure is a bug in one item: the batch is retried item by item, so only
        the item that fails (logged with its traceback) is left out."""
        items = [item for item, _ in batch]
        for delay in (*RETRY_DELAYS, None):
            try:
                await self._commit(db, items)
                self._finished(batch)
                return
            except DBAPIError as exc:
                if not (isinstance(exc, OperationalError) or is_transient(exc)):
                    await self._commit_one_by_one(db, batch)
                    return
                if delay is None:
                    break
                log.warning("tracking write failed (%s); retrying in %.2fs", exc.orig, delay)
                await asyncio.sleep(delay)
            except Exception:
                await self._commit_one_by_one(db, batch)
                return
        log.error("tracking batch of %d items kept for the next flush", len(batch))
        for entry in batch:
            self._items.put(entry)

    async def _commit_one_by_one(
        self, db: Database, batch: list[tuple[Item, asyncio.Future[None] | None]]
    ) -> None:
        """A batch failed for a reason other than a busy database (a deadlock or
        serialization failure is one: retried whole above): store each item on its own, so
        only an item that itself fails (logged with its traceback) is left out."""
        if len(batch) == 1:
            log.exception("tracking item could not be stored: %r", batch[0][0])
            self._finished(batch)
            return
        for one in batch:
            await self._commit_with_retries(db, [one])

    def _finished(self, batch: list[tuple[Item, asyncio.Future[None] | None]]) -> None:
        """Tell the application's loop: these are committed (or, for a bad item, dropped)."""
        futures = [done for _, done in batch if done is not None]
        self.on_main_loop(self._count_done, len(batch), futures)

    def _count_done(self, count: int, futures: list[asyncio.Future[None]]) -> None:
        self._done += count
        self._progress.set()
        for done in futures:
            if not done.done():
                done.set_result(None)

    async def _commit(self, db: Database, batch: list[Item]) -> None:
        views = [item for item in batch if isinstance(item, ViewItem)]
        beacons = [item for item in batch if isinstance(item, BeaconItem)]
        followups = Followups()
        async with db.session() as session:
            # Views first, set-based; then beacons, which attach to the latest view.
            results = await record_views(session=session, visits=[v.visit for v in views])
            await self._on_viewed(session, list(zip(views, results, strict=True)), followups)
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
                    await self._on_beacon(session, view, followups)
        self.batches += 1
        if followups.wake and self._after_commit is not None:
            self.on_main_loop(self._after_commit)
        for call in followups.calls:
            self.on_main_loop(call)


def _yield_to_pages() -> None:
    """Run this thread, and the threads it starts (its engine's aiosqlite threads), at the
    lowest scheduling priority.

    Pinned to one core, the kernel time-slices every runnable thread a few milliseconds at
    a time, and the writer's SQLite work runs without the GIL: at half load a page waited
    4-8 ms for the core about 34 times a second (bench/README.md). At nice 19 a page's
    wake-up preempts the writer instead; back-pressure stops the writer from falling
    behind for long. Linux sets nice per thread, and new threads inherit it."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WRITER_NICE)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
