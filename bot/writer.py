"""The tracking writer process: `python -m bot.writer`, started by bot/recorder.py.

The landing page's views and beacons are committed here, in groups, by a process of its
own: its work (SQLAlchemy building statements for hundreds of rows, SQLite or asyncpg,
the roll-ups and the DM bookkeeping) then takes nothing from the process answering the
pages, not even turns at the GIL.

Frames go both ways as a 4-byte big-endian length and a pickle; only the recorder, our
own parent process, writes to this one.

in (stdin):   ("config", WriterConfig)              first, once
              ("items", first_seq, [Item, ...])     numbered in order, from first_seq on
              ("flush",)                            commit what has arrived, now
              end of input                          commit everything, then exit
out:          ("done", last_seq, BatchOutcome)      after each commit: items up to last_seq
                                                    are stored (or, if bad, left out)

Each batch also records its last number as the writer's mark, in its own transaction, so
that after a crash the parent knows exactly what to send again.

The process ignores SIGINT and SIGTERM (a Ctrl-C in a terminal, or a service manager,
signals the whole group): it ends when its parent closes its input, after committing
everything it was sent, so it outlives a parent killed outright by at most one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import OperationalError

from bot import view_alerts
from bot.view_batches import BatchOutcome, Item, commit_batch
from store.db import Database

log = logging.getLogger("sharetrail.writer")

RETRY_DELAYS = (0.05, 0.2, 1.0, 2.0)
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class WriterConfig:
    database_url: str
    flush_ms: int  # the group-commit window; 0 commits whatever has arrived at once
    max_batch: int
    tally_delay_s: float  # bot.view_alerts.TALLY_DELAY, as the parent has it
    key: str  # names this writer's mark (store.models.TrackingMark)


def frame(message: tuple[Any, ...]) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def read_frame(reader: asyncio.StreamReader) -> tuple[Any, ...]:
    """The next message; IncompleteReadError at the end of the stream."""
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    message: tuple[Any, ...] = pickle.loads(await reader.readexactly(length))
    return message


class GroupCommitter:
    """Collects numbered items and commits them in batches of at most `max_batch`,
    waiting up to `flush_ms` for more to arrive unless told to flush."""

    def __init__(self, db: Database, config: WriterConfig, report: Any) -> None:
        self._db = db
        self._window_s = config.flush_ms / 1000
        self._max_batch = config.max_batch
        self._report = report  # called with ("done", last_seq, outcome)
        self._key = config.key
        self._items: deque[tuple[int, Item]] = deque()
        self._arrived = asyncio.Event()
        self._cut = asyncio.Event()  # end the window now: a flush, a full batch, the end
        self._closing = False

    def add(self, first_seq: int, items: list[Item]) -> None:
        self._items.extend(enumerate(items, start=first_seq))
        self._arrived.set()
        if len(self._items) >= self._max_batch:
            self._cut.set()

    def flush(self) -> None:
        self._cut.set()
        self._arrived.set()

    def close(self) -> None:
        self._closing = True
        self.flush()

    async def run(self) -> None:
        while True:
            if not self._items:
                if self._closing:
                    return
                self._cut.clear()
                await self._arrived.wait()
                self._arrived.clear()
                continue
            if self._window_s > 0 and not self._cut.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cut.wait(), self._window_s)
            batch = [self._items.popleft() for _ in range(min(self._max_batch, len(self._items)))]
            if len(self._items) < self._max_batch and not self._closing:
                self._cut.clear()  # what is left waits for its own window
            await self._commit_with_retries(batch)

    async def _commit_with_retries(self, batch: list[tuple[int, Item]]) -> None:
        """A locked or briefly unavailable database is retried, the batch never dropped.

        Any other failure is a bug in one item: the batch is retried item by item, so only
        the item that fails (logged with its traceback) is left out."""
        items = [item for _, item in batch]
        for delay in (*RETRY_DELAYS, None):
            try:
                async with self._db.session() as session:
                    outcome = await commit_batch(session, items, mark=(self._key, batch[-1][0]))
            except OperationalError as exc:
                if delay is None:
                    log.error("tracking batch of %d items kept for the next try", len(batch))
                    self._items.extendleft(reversed(batch))
                    await asyncio.sleep(RETRY_DELAYS[-1])
                    return
                log.warning("tracking write failed (%s); retrying in %.2fs", exc.orig, delay)
                await asyncio.sleep(delay)
            except Exception:
                if len(batch) == 1:
                    log.exception("tracking item could not be stored: %r", batch[0][1])
                    self._report(("done", batch[0][0], BatchOutcome()))
                    return
                for one in batch:
                    await self._commit_with_retries([one])
                return
            else:
                self._report(("done", batch[-1][0], outcome))
                return


async def _serve(reader: asyncio.StreamReader, out: asyncio.WriteTransport) -> None:
    kind, config = await read_frame(reader)
    if kind != "config" or not isinstance(config, WriterConfig):
        raise RuntimeError(f"expected the writer's configuration, got {kind!r}")
    view_alerts.TALLY_DELAY = timedelta(seconds=config.tally_delay_s)
    db = Database.from_url(config.database_url)
    committer = GroupCommitter(db, config, lambda message: out.write(frame(message)))
    committing = asyncio.create_task(committer.run())
    try:
        while True:
            try:
                message = await read_frame(reader)
            except asyncio.IncompleteReadError:
                break  # the parent closed our input: commit the rest, then exit
            if message[0] == "items":
                committer.add(message[1], message[2])
            elif message[0] == "flush":
                committer.flush()
        committer.close()
        await committing
    finally:
        committing.cancel()
        await db.dispose()


async def _main() -> None:
    loop = asyncio.get_running_loop()
    # Our reports go out on a copy of stdout; stdout itself goes to stderr, so that
    # nothing a library prints can corrupt them.
    report_fd = os.dup(1)
    os.dup2(2, 1)
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0)
    )
    out, sink = await loop.connect_write_pipe(_Sink, os.fdopen(report_fd, "wb", buffering=0))
    try:
        await _serve(reader, out)
    finally:
        out.close()  # after the reports still buffered have gone out
        await sink.closed


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(_main())
    except Exception:
        log.exception("the tracking writer stopped")
        sys.exit(1)


if __name__ == "__main__":
    # Run this file again as the module `bot.writer`: the parent's pickles name its classes.
    from bot import writer

    writer.main()
