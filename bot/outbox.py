"""The outbox: every message the bot owes someone is a row before it is a request.

A notification is written in the same transaction as the change that caused it (a view,
a sign-up, an outcome, a publish), under an idempotency key, so it cannot be lost
between "committed" and "sent" and cannot be queued twice. One sender task claims due
rows, delivers them through the platform's `Deliverer`, and marks them sent; failures
are rescheduled with exponential backoff and jitter, or honour the platform's
Retry-After exactly. Permanent refusals (unknown channel or user, revoked token…) are
not retried: the row is marked failed, with the reason, for `/sharetrail health`.

Exactly once across crashes: a row claimed ("sending") when the process died may or may
not have reached the platform. Deliverers stamp every message with its key (Slack:
message metadata); once the claim is CLAIM_LEASE old, `reconcile` (run by every
replica's sender, from start-up on) puts such rows back in the queue marked as retries,
and a retry first asks the platform whether a message with that key already exists
(`careful_since`) before sending it again. Ordinary retries after an unclear failure (a
timeout, a 500) take the same careful path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, get_args

from pydantic import TypeAdapter
from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.notifications import MessageRef, Notification, ViewsTallied, view_window
from store.db import Database
from store.models import OutboxMessage, aware
from store.queries import insert_if_absent, insert_statement

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(minutes=10)
BATCH = 100
CONCURRENCY = 8
MARK_WINDOW = 0.02  # seconds: "sent" marks are written in batches
# A claim older than this is a dead sender's (a replica killed mid-send): a send is a
# lookup and a post of at most 10 s each (handlers/main.py SLACK_TIMEOUT_S). Any replica
# then puts the row back as a careful retry. A younger claim may be another live
# replica's send under way, and is left alone so it is not sent twice.
CLAIM_LEASE = timedelta(seconds=60)

_KINDS: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Notification)}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(cls) for name, cls in _KINDS.items()}


def encode(event: Notification) -> tuple[str, str]:
    kind = type(event).__name__
    return kind, _ADAPTERS[kind].dump_json(event).decode()


def decode(kind: str, payload: str) -> Notification:
    event: Notification = _ADAPTERS[kind].validate_json(payload)
    return event


class DeliveryError(Exception):
    """The platform did not take the message. `permanent`: retrying cannot help."""

    def __init__(self, code: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent
        self.retry_after = retry_after


class Deliverer(Protocol):
    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        """Send it, stamped with `key`; raise DeliveryError when the platform refuses.

        With `careful_since`, first look for messages with this key sent since then and
        do not send those again (a retry whose first attempt may have landed). `prepaid`:
        the last attempt was deferred with its rate-limit slot reserved for now."""
        ...


OnSent = Callable[[Notification, MessageRef | None], Awaitable[None]]


async def enqueue(
    *,
    session: AsyncSession,
    event: Notification,
    key: str,
    due_at: datetime | None = None,
    batch: str | None = None,
) -> bool:
    """Add a message to the outbox in the caller's transaction; False if `key` exists."""
    kind, payload = encode(event)
    return await insert_if_absent(
        session,
        OutboxMessage,
        {
            "key": key[:200],
            "kind": kind,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "due_at": due_at or datetime.now(UTC),
            "created_at": datetime.now(UTC),
            "last_error": "",
            "batch": batch,
        },
        ["key"],
    )


ENQUEUE_CHUNK = 1000  # rows per INSERT (SQLite allows 32,766 bound values per statement)


async def enqueue_many(
    *, session: AsyncSession, events: list[tuple[str, Notification]], batch: str | None = None
) -> int:
    """Many messages at once (a broadcast): multi-row INSERTs; keys already present are
    skipped. Returns how many were added."""
    now = datetime.now(UTC)
    added = 0
    for start in range(0, len(events), ENQUEUE_CHUNK):
        rows = []
        for key, event in events[start : start + ENQUEUE_CHUNK]:
            kind, payload = encode(event)
            rows.append(
                {
                    "key": key[:200],
                    "kind": kind,
                    "payload": payload,
                    "status": "pending",
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                    "last_error": "",
                    "batch": batch,
                }
            )
        statement = (
            insert_statement(session, OutboxMessage)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result = await session.exec(statement)
        added += int(result.rowcount or 0)
    return added


async def batch_progress(*, session: AsyncSession, batch: str) -> dict[str, int]:
    """How many of a batch's messages are pending, sending, sent and failed."""
    rows = await session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.batch == batch)
        .group_by(OutboxMessage.status)
    )
    return {str(status): int(count) for status, count in rows.all()}


# Deferrals, not failures: they do not count as attempts.
DEFERRED = frozenset({"paced", "waiting"})
# Errors after which the message certainly did not land: the retry need not look first
# (a 429, or an HTTP-200 "rate_limited", which has no Retry-After and backs off instead).
NOT_DELIVERED = frozenset({"ratelimited", "rate_limited", *DEFERRED})
WAIT_FOR_TARGET = 1.0  # seconds: a rewrite waits for the message it rewrites to go out


def uncertain(attempts: int, last_error: str) -> bool:
    """Could an earlier attempt have reached the platform? Then a retry looks before sending."""
    return attempts > 0 and last_error not in NOT_DELIVERED


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential with full jitter: 1 s, 2 s, 4 s … capped, times a random 0.5–1.5."""
    base = min(MAX_BACKOFF.total_seconds(), 2.0 ** max(attempts - 1, 0))
    return timedelta(seconds=base * rng.uniform(0.5, 1.5))


@dataclass(frozen=True)
class Claim:
    row_id: int
    key: str
    kind: str
    payload: str
    careful_since: datetime | None  # set for retries: the first attempt may have landed
    prepaid: bool = False  # deferred by the pacer, which reserved its slot for now


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    sending: int
    sent: int
    failed: int
    recent_failures: list[tuple[str, str]]  # (key, error)


class Outbox:
    def __init__(
        self,
        db: Database,
        deliverer: Deliverer,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        concurrency: int = CONCURRENCY,
        on_sent: OnSent | None = None,
    ) -> None:
        self._db = db
        self._deliverer = deliverer
        self._on_sent = on_sent
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._next_reclaim = clock()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._sending: dict[str, asyncio.Task[None]] = {}  # key -> its send under way
        self._claiming = False
        self._stopping = False
        self._marks: list[dict[str, Any]] = []
        self._marking: asyncio.Task[None] | None = None

    # lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._runner = asyncio.create_task(self._run(), name="outbox")

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; let the sends under way finish (SIGTERM drains, then exits)."""
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            await asyncio.wait([self._runner], timeout=timeout)
            if not self._runner.done():
                self._runner.cancel()
            self._runner = None
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=timeout)
        await self._marks_written()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until nothing is due now (tests, `settle`)."""
        async with asyncio.timeout(timeout):
            while True:
                self.wake()
                if self._in_flight:
                    await asyncio.wait(list(self._in_flight))
                await self._marks_written()
                if not (self._in_flight or self._claiming or await self._due_count()):
                    return
                await asyncio.sleep(0)

    # the sender -------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            if self._clock() >= self._next_reclaim:  # rows a dead replica had claimed
                self._next_reclaim = self._clock() + CLAIM_LEASE / 4
                await self.reconcile()
            self._claiming = True  # until every claimed row has its task (see `drain`)
            claimed = await self._claim()
            for claim in claimed:
                await self._slots.acquire()
                task = asyncio.create_task(self._send(claim))
                self._in_flight.add(task)
                self._sending[claim.key] = task
                task.add_done_callback(self._in_flight.discard)
                task.add_done_callback(functools.partial(self._done_sending, claim.key))
            self._claiming = False
            if len(claimed) == BATCH:
                continue
            self._wake.clear()
            try:
                async with asyncio.timeout(await self._next_due_in()):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _done_sending(self, key: str, task: asyncio.Task[None]) -> None:
        if self._sending.get(key) is task:
            del self._sending[key]

    async def _due_count(self) -> int:
        async with self._db.session() as session:
            count = await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.due_at <= self._clock())
            )
            return int(count.one())

    async def _next_due_in(self) -> float:
        async with self._db.session() as session:
            soonest = (
                await session.exec(
                    select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "pending")
                )
            ).one()
        if soonest is None:
            return 5.0
        if soonest.tzinfo is None:
            soonest = soonest.replace(tzinfo=UTC)
        return max(0.0, min(5.0, (soonest - self._clock()).total_seconds()))

    async def _claim(self) -> list[Claim]:
        """Mark due rows as sending: one UPDATE … RETURNING, oldest first."""
        now = self._clock()
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.due_at <= now)
            .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
            .limit(BATCH)
        )
        claim = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
            # Re-checked here: another sender (a second replica) may have claimed it first.
            .where(col(OutboxMessage.status) == "pending")
            .values(status="sending", claimed_at=now)
            .returning(
                col(OutboxMessage.id),
                col(OutboxMessage.key),
                col(OutboxMessage.kind),
                col(OutboxMessage.payload),
                col(OutboxMessage.attempts),
                col(OutboxMessage.last_error),
                col(OutboxMessage.created_at),
            )
        )
        async with self._db.session() as session:
            rows = (await session.exec(claim)).all()
        return [
            Claim(
                row_id,
                key,
                kind,
                payload,
                aware(created) if uncertain(attempts, error) else None,
                prepaid=error == "paced",
            )
            for row_id, key, kind, payload, attempts, error, created in sorted(rows)
        ]

    async def _send(self, claim: Claim) -> None:
        try:
            event = decode(claim.kind, claim.payload)
            if isinstance(event, ViewsTallied) and event.target is None:
                targeted = await self._with_target(claim.row_id, event)
                if targeted is None:  # a newer count is on its way
                    await self._sent(claim.row_id, None)
                    return
                event = targeted
            ref = await self._deliverer.deliver(
                event, key=claim.key, careful_since=claim.careful_since, prepaid=claim.prepaid
            )
        except DeliveryError as exc:
            await self._failed(claim.row_id, exc)
        except Exception as exc:  # a bug in rendering must not stop the sender
            log.exception("outbox message %s could not be delivered", claim.key)
            await self._failed(claim.row_id, DeliveryError(type(exc).__name__, permanent=False))
        else:
            await self._sent(claim.row_id, ref)
            if self._on_sent is not None:
                await self._on_sent(event, ref)
        finally:
            self._slots.release()

    async def _with_target(self, row_id: int, event: ViewsTallied) -> ViewsTallied | None:
        """Point a count at the window's message: the newest of the window's messages that
        went out (the first DM, or a count that had to be posted apart). None when a newer
        count is queued (this one is stale). If no message went out and none will (the
        first one failed), the count is posted as a message of its own."""
        first_send = self._sending.get(event.rewrites)
        if first_send is not None:  # claimed in the same batch: let it land first
            await asyncio.wait([first_send])
        await self._marks_written()
        async with self._db.session() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.batch == view_window(event.share_id),
                        or_(
                            col(OutboxMessage.key) == event.rewrites,
                            col(OutboxMessage.key).startswith(f"tally:{event.rewrites}:"),
                        ),
                    )
                )
            ).all()
        if any(row.id is not None and row.id > row_id for row in rows if row.key != event.rewrites):
            return None
        sent = [row for row in rows if row.status == "sent" and row.channel and row.ts]
        if sent:
            newest = max(sent, key=lambda row: row.id or 0)
            assert newest.channel is not None and newest.ts is not None
            return replace(event, target=(newest.channel, newest.ts))
        first = next((row for row in rows if row.key == event.rewrites), None)
        if first is None or first.status in ("failed", "sent"):
            return event
        raise DeliveryError("waiting", permanent=False, retry_after=WAIT_FOR_TARGET)

    async def _sent(self, row_id: int, ref: MessageRef | None) -> None:
        """Marked in batches (group commit): a crash before the mark is written leaves the
        row "sending", which `reconcile` resolves by asking the platform."""
        self._marks.append(
            {
                "id": row_id,
                "status": "sent",
                "sent_at": self._clock(),
                "channel": ref[0] if ref else None,
                "ts": ref[1] if ref else None,
            }
        )
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._write_marks(), name="outbox-marks")

    async def _write_marks(self) -> None:
        await asyncio.sleep(MARK_WINDOW)
        while self._marks:
            marks, self._marks = self._marks, []
            async with self._db.session() as session:
                await session.exec(update(OutboxMessage), params=marks)  # bulk, by primary key

    async def _marks_written(self) -> None:
        if self._marking is not None:
            await self._marking

    async def _failed(self, row_id: int, error: DeliveryError) -> None:
        async with self._db.session() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None:
                return
            if error.code not in DEFERRED:  # waiting its turn is not an attempt
                row.attempts += 1
            row.last_error = error.code[:200]
            if error.permanent or row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                log.warning("outbox %s failed for good: %s", row.key, error.code)
            else:
                delay = (
                    timedelta(seconds=error.retry_after)
                    if error.retry_after is not None
                    else backoff(row.attempts, self._rng)
                )
                row.status, row.due_at = "pending", self._clock() + delay
            session.add(row)
        self._wake.set()

    # crash recovery -------------------------------------------------------------------

    async def reconcile(self) -> int:
        """Rows left "sending" by a crash (this process's last run, or another replica that
        died) go back in the queue as careful retries, once their claim is CLAIM_LEASE old:
        on start-up and every quarter lease while running."""
        stale = self._clock() - CLAIM_LEASE
        async with self._db.session() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.status) == "sending")
                .where(col(OutboxMessage.claimed_at) < stale)
                .where(col(OutboxMessage.key).not_in(list(self._sending)))
                .values(
                    status="pending",
                    attempts=OutboxMessage.attempts + 1,
                    last_error="interrupted",
                    due_at=self._clock(),
                )
            )
            count = int(result.rowcount or 0)
        if count:
            log.info("%d messages were in flight at the last stop; rechecking them", count)
        return count

    async def health(self) -> OutboxHealth:
        async with self._db.session() as session:
            counts = dict(
                (
                    await session.exec(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    )
                ).all()
            )
            failures = (
                await session.exec(
                    select(OutboxMessage.key, OutboxMessage.last_error)
                    .where(OutboxMessage.status == "failed")
                    .order_by(col(OutboxMessage.id).desc())
                    .limit(5)
                )
            ).all()
        return OutboxHealth(
            pending=counts.get("pending", 0),
            sending=counts.get("sending", 0),
            sent=counts.get("sent", 0),
            failed=counts.get("failed", 0),
            recent_failures=[(str(k), str(e)) for k, e in failures],
        )
