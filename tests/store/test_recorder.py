"""Group commit: views queue up, commit in few transactions, and survive a clean stop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bot.activities import ActivityDraft, create_activity
from bot.directory import Profile, upsert_employee
from bot.recorder import WRITER_NICE, BeaconItem, Followups, ViewItem, ViewRecorder
from bot.shares import get_or_create_share
from bot.tracking import Classification, ViewResult, Visit
from store.db import Database
from store.models import Share, ShareStats, View

HUMAN = Classification(False, "mobile", "human")


async def ignore(
    session: object, views: list[tuple[ViewItem, ViewResult]], after: Followups
) -> None:
    return None


T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


async def make_share(db: Database) -> Share:
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft("Launch", T0, T0 + timedelta(hours=1), "video"),
            created_by="U_ADMIN",
        )
        employee = await upsert_employee(session=session, profile=Profile("U_E", "Emma"))
        return await get_or_create_share(session=session, activity=activity, employee=employee)


def visit(share: Share, n: int) -> Visit:
    assert share.id is not None
    return Visit(
        share_id=share.id,
        activity_id=share.activity_id,
        employee_id=share.employee_id,
        source="card_qr",
        visitor_key=f"visitor-{n}",
        visitor_hash=f"hash-{n}",
        classification=HUMAN,
        at=T0 + timedelta(seconds=n),
    )


async def counts(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        views = (await session.exec(select(func.count()).select_from(View))).one()[0]  # type: ignore[call-overload]
        uniques = (
            await session.exec(select(func.sum(ShareStats.unique_visitors)))  # type: ignore[call-overload]
        ).one()[0]
    return int(views), int(uniques or 0)


async def test_burst_is_committed_in_few_transactions(db: Database) -> None:
    share = await make_share(db)
    announced: list[ViewResult] = []

    async def on_viewed(
        session: object, views: list[tuple[ViewItem, ViewResult]], after: Followups
    ) -> None:
        announced.extend(result for _, result in views)

    # A window that does not end by itself: only the flush commits.
    recorder = ViewRecorder(db, flush_ms=60_000, on_viewed=on_viewed, max_batch=1000)
    recorder.start()
    for n in range(450):
        await recorder.add(ViewItem(visit(share, n)))
    assert await counts(db) == (0, 0)  # nothing written yet: the page did not wait
    await asyncio.wait_for(recorder.flush(), timeout=10)
    assert await counts(db) == (450, 450)
    # One transaction, not 450 (two when a wake-up meant for the first view arrives late
    # and cuts the window short).
    assert recorder.batches <= 2
    assert len(announced) == 450 and all(r.first_visit for r in announced)
    await recorder.stop()


async def test_a_backlog_is_committed_in_full_batches_without_waiting(db: Database) -> None:
    """More than a batch queued: the writer does not sit out the window between batches."""
    share = await make_share(db)
    recorder = ViewRecorder(db, flush_ms=60_000, on_viewed=ignore, max_batch=100)
    recorder.start()
    for n in range(450):
        await recorder.add(ViewItem(visit(share, n)))
    await asyncio.wait_for(recorder.flush(), timeout=10)  # five 60-second windows otherwise
    assert await counts(db) == (450, 450)
    assert 5 <= recorder.batches <= 6
    await recorder.stop()


async def test_stop_commits_everything_queued(db: Database) -> None:
    share = await make_share(db)

    recorder = ViewRecorder(db, flush_ms=60_000, on_viewed=ignore)  # a window that never ends
    recorder.start()
    for n in range(50):
        await recorder.add(ViewItem(visit(share, n)))
    await recorder.add(BeaconItem(share.id or 0, "visitor-3", dwell_ms=4000, scroll_pct=90))
    await asyncio.wait_for(recorder.stop(), timeout=10)
    assert await counts(db) == (50, 50)
    async with db.session() as session:
        view = (
            await session.exec(select(View).where(View.visitor_key == "visitor-3"))  # type: ignore[call-overload]
        ).one()[0]
    assert (view.dwell_ms, view.scroll_pct) == (4000, 90)


async def test_write_through_commits_before_returning(db: Database) -> None:
    share = await make_share(db)

    recorder = ViewRecorder(db, flush_ms=0, on_viewed=ignore)
    recorder.start()
    await recorder.add(ViewItem(visit(share, 1)))
    assert await counts(db) == (1, 1)
    assert recorder.batches == 1


async def test_batched_recording_matches_one_by_one(db: Database, tmp_path: object) -> None:
    """record_views (set-based) leaves exactly the rows record_view leaves, view by view."""
    import random

    from sqlmodel import col
    from sqlmodel import select as select_rows

    from bot.tracking import record_view, record_views
    from store.migrate import upgrade
    from store.models import PointsEntry, ShareVisitor

    rng = random.Random(5)
    other = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/one-by-one.db")  # type: ignore[str-bytes-safe]
    await upgrade(other.engine)
    shares = [await make_share(db), await make_share(other)]
    assert shares[0].id == shares[1].id
    bot_ua = Classification(True, "bot", "preview")
    visits = []
    for n in range(600):
        base = visit(shares[0], rng.randrange(40))
        visits.append(
            Visit(
                **{
                    **base.__dict__,
                    "at": T0 + timedelta(minutes=n * rng.choice([0.5, 3, 20])),
                    "source": rng.choice(["card_qr", "dm", "email"]),
                    "classification": bot_ua if rng.random() < 0.2 else HUMAN,
                    "is_own": rng.random() < 0.05,
                }
            )
        )
    batched: list[ViewResult] = []
    for start in range(0, len(visits), 97):
        async with db.session() as session:
            batched += await record_views(session=session, visits=visits[start : start + 97])
    single: list[ViewResult] = []
    for v in visits:
        async with other.session() as session:
            single.append(await record_view(session=session, visit=v))
    assert [(r.counted, r.first_visit, r.visits) for r in batched] == [
        (r.counted, r.first_visit, r.visits) for r in single
    ]

    async def snapshot(database: Database) -> tuple[object, ...]:
        async with database.session() as session:
            views = [
                (v.visitor_key, v.counted, v.is_bot, v.is_own, v.source)
                for v in await session.exec(select_rows(View).order_by(col(View.id)))
            ]
            stats = sorted(
                (s.share_id, s.source, s.views, s.unique_visitors, s.points)
                for s in await session.exec(select_rows(ShareStats))
            )
            visitors = sorted(
                (v.visitor_key, v.visits, v.last_counted_at)
                for v in await session.exec(select_rows(ShareVisitor))
            )
            points = sorted((p.ref, p.points) for p in await session.exec(select_rows(PointsEntry)))
        return views, stats, visitors, points

    assert await snapshot(db) == await snapshot(other)
    await other.dispose()


async def test_an_in_memory_database_is_written_on_the_callers_loop() -> None:
    """A second engine would open a second, empty in-memory database: no writer thread."""
    from store.migrate import upgrade

    memory = Database.from_url("sqlite+aiosqlite://")
    await upgrade(memory.engine)
    share = await make_share(memory)
    recorder = ViewRecorder(memory, flush_ms=50, on_viewed=ignore)
    recorder.start()
    await recorder.add(ViewItem(visit(share, 1)))
    assert await counts(memory) == (1, 1)
    await recorder.stop()
    await memory.dispose()


async def test_pages_wait_for_their_commit_once_the_writer_is_a_backlog_behind(
    db: Database,
) -> None:
    """Back-pressure: past `max_backlog` queued items, a page gets a future to await (as with
    write-through), so memory and the crash window stay bounded under any load."""
    import threading

    share = await make_share(db)
    writing, release = threading.Event(), threading.Event()

    async def slow(
        session: object, views: list[tuple[ViewItem, ViewResult]], after: Followups
    ) -> None:
        writing.set()
        await asyncio.to_thread(release.wait)  # the writer is stuck on its first batch

    recorder = ViewRecorder(db, flush_ms=60_000, on_viewed=slow, max_batch=1, max_backlog=30)
    recorder.start()
    try:
        assert recorder.add_nowait(ViewItem(visit(share, 0))) is None
        await asyncio.to_thread(writing.wait, 10)
        queued = [recorder.add_nowait(ViewItem(visit(share, n))) for n in range(1, 31)]
        assert queued == [None] * 30  # within the backlog: nothing to wait for
        waiting = recorder.add_nowait(ViewItem(visit(share, 31)))
        assert waiting is not None and not waiting.done()
    finally:
        release.set()
    await asyncio.wait_for(waiting, timeout=10)
    assert await counts(db) == (32, 32)
    await recorder.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux")
async def test_the_writers_threads_yield_the_core_to_the_pages(db: Database) -> None:
    """The writer thread and the database threads it starts run at the lowest priority; the
    page loop's thread keeps its own."""
    share = await make_share(db)
    before = {thread.native_id for thread in threading.enumerate()}
    own_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    recorder = ViewRecorder(db, flush_ms=10, on_viewed=ignore)
    recorder.start()
    await recorder.add(ViewItem(visit(share, 1)))
    await recorder.flush()
    started = [t for t in threading.enumerate() if t.native_id not in before]
    writer_nice = {t.name: os.getpriority(os.PRIO_PROCESS, t.native_id or 0) for t in started}
    await recorder.stop()
    assert "view-writer" in writer_nice
    assert set(writer_nice.values()) == {WRITER_NICE}
    assert len(started) >= 2 or db.dialect != "sqlite"  # SQLite: aiosqlite's thread too
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own_nice < WRITER_NICE


class DeadlockDetected(Exception):
    """What asyncpg's error carries through SQLAlchemy: PostgreSQL's SQLSTATE."""

    sqlstate = "40P01"


def deadlock() -> DBAPIError:
    return DBAPIError("UPDATE share_visitors …", None, DeadlockDetected("deadlock detected"))


async def test_a_deadlocked_batch_is_retried_whole_and_nothing_is_lost(db: Database) -> None:
    """PostgreSQL rolled the batch back for a deadlock (twice): the same batch is committed
    again, not split into single views and the unlucky one dropped."""
    share = await make_share(db)
    failures = 2
    batch_sizes: list[int] = []

    async def on_viewed(
        session: object, views: list[tuple[ViewItem, ViewResult]], after: Followups
    ) -> None:
        nonlocal failures
        batch_sizes.append(len(views))
        if failures:
            failures -= 1
            raise deadlock()

    recorder = ViewRecorder(db, flush_ms=60_000, on_viewed=on_viewed)
    recorder.start()
    for n in range(50):
        await recorder.add(ViewItem(visit(share, n)))
    await asyncio.wait_for(recorder.flush(), timeout=30)
    assert await counts(db) == (50, 50)
    # The writer may take its first batch before all 50 are queued; whatever it took is
    # tried three times whole (two deadlocks, then the commit), never split up.
    first = batch_sizes[0]
    assert batch_sizes[:3] == [first, first, first]
    assert sum(batch_sizes[2:]) == 50
    await recorder.stop()
