"""Group commit for the landing page's writes: views and interaction beacons.

The page never waits on the database. Each request hands one item to the recorder, which
passes the items of each turn of the event loop to the tracking writer, a process of its
own (bot/writer.py). The writer commits everything that arrived within `flush_ms` (at
most `max_batch` items) in one transaction and reports back; the application then does
what the batch asks for (bot/view_batches.py: wake the outbox, tell salespeople their
customers are back).

Durability trade-off: an item is in memory, here or in the writer, for at most one flush
window before it is committed. A clean stop (SIGTERM) flushes everything first, so nothing
acknowledged is lost. If this process is killed outright, the writer still commits what
it had been sent; what this process had not yet passed on (one turn of the loop) is
lost, and so is the last window if the machine itself goes down. If the writer dies, it
is restarted and sent again what it had not committed: each batch records its last item's
number in the same transaction (store.models.TrackingMark), so nothing is stored twice. `flush_ms=0`
writes through before the page is answered instead: the request waits for the commit of
the batch it is in (concurrent requests share one transaction).

An in-memory SQLite database cannot be opened by another process: its items are
committed on this loop, one transaction per item.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections import deque
from collections.abc import Callable

from bot import view_alerts
from bot.view_batches import BatchOutcome, Item, commit_batch, committed_mark, drop_mark
from bot.writer import WriterConfig, frame, read_frame
from store.db import Database

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Items the writer has not reported committed; beyond this, pages wait for their commit
# (write-through) until it catches up, instead of memory growing under an overload.
MAX_BACKLOG = 20_000
RESTART_DELAY_S = 1.0


class ViewRecorder:
    def __init__(
        self,
        db: Database,
        *,
        flush_ms: int,
        after_commit: Callable[[BatchOutcome], None],
        max_batch: int = MAX_BATCH,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self._db = db
        self._flush_ms = flush_ms
        self._after_commit = after_commit
        self._max_batch = max_batch
        self._max_backlog = max_backlog
        self._key = uuid.uuid4().hex  # names the writers' mark
        self._enabled = False  # started: items go to a writer process
        self._stopping = False
        self._writer: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Task[None] | None = None
        self._reading: asyncio.Task[None] | None = None
        # Items are numbered from 1; the writer reports the last number it committed.
        self._numbered = 0
        self._committed = 0
        self._unreported: deque[tuple[int, Item, asyncio.Future[None] | None]] = deque()
        self._outgoing: list[Item] = []  # this turn's items, sent together at its end
        self._flushing = 0
        self._progress = asyncio.Event()
        self._here = 0  # items being committed on this loop (no writer)
        self.batches = 0  # committed transactions, for tests and /healthz

    @property
    def write_through(self) -> bool:
        return self._flush_ms <= 0

    @property
    def pending(self) -> int:
        return self._numbered - self._committed + self._here

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being written."""
        return self.pending == 0

    async def start(self) -> None:
        """Hand items to a writer process from now on; it is started with the first one."""
        if self._db.can_twin:
            self._enabled = True
            self._stopping = False

    def add_nowait(self, item: Item) -> asyncio.Future[None] | None:
        """Hand the item on without awaiting anything (the landing page's hot path). With
        write-through, with no writer process, or with the writer far behind, the item is
        committed when the returned future is done; the caller awaits it."""
        if not self._enabled or self._stopping:
            return asyncio.ensure_future(self._commit_here(item))
        self._numbered += 1
        done = None
        if self.write_through or len(self._unreported) >= self._max_backlog:
            done = asyncio.get_running_loop().create_future()
        self._unreported.append((self._numbered, item, done))
        if self._writer is None:
            self._start_writer()  # it is sent everything unreported once it runs
        else:
            if not self._outgoing:
                asyncio.get_running_loop().call_soon(self._send_outgoing)
            self._outgoing.append(item)
        return done

    async def add(self, item: Item) -> None:
        """Hand the item on; with write-through, return once it is committed."""
        done = self.add_nowait(item)
        if done is not None:
            await done

    async def flush(self) -> None:
        """Wait until everything handed on so far is committed."""
        target = self._numbered
        self._flushing += 1
        try:
            while self._here or self._committed < target:
                if self._writer is not None:
                    self._send_outgoing()
                    self._send(("flush",))
                self._progress.clear()
                await self._progress.wait()
        finally:
            self._flushing -= 1

    async def stop(self) -> None:
        """Commit what was handed on, then stop the writer (called on shutdown)."""
        await self.flush()
        if not self._enabled:
            return
        self._stopping = True
        if self._starting is not None:
            await self._starting
        writer, self._writer = self._writer, None
        if writer is not None:
            assert writer.stdin is not None
            writer.stdin.close()
            await writer.wait()
        if self._reading is not None:
            await self._reading
        async with self._db.session() as session:
            await drop_mark(session, self._key)
        self._enabled = False

    # the writer process -----------------------------------------------------------------

    def _start_writer(self) -> None:
        if self._starting is None or self._starting.done():
            self._starting = asyncio.create_task(self._run_writer(), name="writer start")

    async def _run_writer(self) -> None:
        try:
            writer = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.writer",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except OSError:
            log.exception("the tracking writer could not start; committing here instead")
            self._enabled = False
            while self._unreported:
                number, item, done = self._unreported.popleft()
                await self._commit_here(item)
                self._committed = number
                if done is not None and not done.done():
                    done.set_result(None)
            return
        self._writer = writer
        url = self._db.engine.url.render_as_string(hide_password=False)
        tally_delay = view_alerts.TALLY_DELAY.total_seconds()
        self._send(
            ("config", WriterConfig(url, self._flush_ms, self._max_batch, tally_delay, self._key))
        )
        if self._unreported:
            first = self._unreported[0][0]
            self._send(("items", first, [item for _, item, _ in self._unreported]))
        self._outgoing = []  # those were among them
        if self._flushing:
            self._send(("flush",))
        self._reading = asyncio.create_task(self._read_reports(writer), name="writer reports")

    def _send(self, message: tuple[object, ...]) -> None:
        if self._writer is not None and self._writer.stdin is not None:
            self._writer.stdin.write(frame(message))

    def _send_outgoing(self) -> None:
        if self._outgoing:
            first = self._numbered - len(self._outgoing) + 1
            self._send(("items", first, self._outgoing))
            self._outgoing = []

    async def _read_reports(self, writer: asyncio.subprocess.Process) -> None:
        assert writer.stdout is not None
        while True:
            try:
                kind, last, outcome = await read_frame(writer.stdout)
            except asyncio.IncompleteReadError:
                break
            if kind == "done":
                self._reported(last, outcome)
        code = await writer.wait()
        if self._stopping:
            return
        self._writer = None
        log.error(
            "the tracking writer exited (code %s) with %d items unreported; restarting it",
            code,
            len(self._unreported),
        )
        while True:
            try:
                async with self._db.session() as session:
                    mark = await committed_mark(session, self._key)
                break
            except Exception:
                log.exception("could not read the tracking writer's mark; trying again")
                await asyncio.sleep(RESTART_DELAY_S)
        if mark > self._committed:  # committed, not reported: nothing to send again
            self._reported(mark, BatchOutcome(wake=True))
        await asyncio.sleep(RESTART_DELAY_S)
        if self._unreported and not self._stopping:
            self._start_writer()

    def _reported(self, last: int, outcome: BatchOutcome) -> None:
        self.batches += 1
        while self._unreported and self._unreported[0][0] <= last:
            _, _, done = self._unreported.popleft()
            if done is not None and not done.done():
                done.set_result(None)
        self._committed = max(self._committed, last)
        self._progress.set()
        self._after_commit(outcome)

    async def _commit_here(self, item: Item) -> None:
        self._here += 1
        try:
            async with self._db.session() as session:
                outcome = await commit_batch(session, [item])
            self.batches += 1
            self._after_commit(outcome)
        finally:
            self._here -= 1
            self._progress.set()
