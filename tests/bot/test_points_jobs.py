"""The points' scheduled work on a controllable clock (run_due at chosen moments): held
sign-up points released after HOLD_DAYS, the daily review DM to admins while flags wait;
and each automatic flag with its reason."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ledger
from bot.activities import ActivityDraft, create_activity
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead
from bot.points import HOLD_DAYS
from bot.points_flags import (
    FAST_BURST,
    NETWORK_BURST,
    SPIKE_FACTOR,
    SPIKE_MIN_VIEWS,
    USUAL_DAYS,
)
from bot.roster import add_salespeople
from bot.scheduler import run_due
from bot.shares import get_or_create_share
from bot.tracking import Classification, Visit, network_hash, record_views, window_networks
from store.db import Database
from store.models import OutboxMessage, PointFlag, Share
from tests.ledger_support import assert_ledger_consistent

HUMAN = Classification(False, "mobile", "human")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADMIN = "U_ADMIN"


async def _share(db: Database, user_id: str, **profile: str) -> Share:
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft(f"Tour {user_id}", T0, T0 + timedelta(days=60), "video"),
            created_by=ADMIN,
        )
        await add_salespeople(session=session, user_ids=["U_S1"])
        employee = await upsert_employee(
            session=session, profile=Profile(user_id, user_id, **profile)
        )
        return await get_or_create_share(session=session, activity=activity, employee=employee)


async def _signup(
    db: Database, share: Share, phone: str, visitor: str, at: datetime, note: str = ""
) -> int:
    async with db.session() as session:
        result = await create_lead(
            session=session,
            share=share,
            form=SignupForm("Customer", phone, note=note),
            visitor_key=visitor,
            visitor_hash="h",
            source="card_qr",
            rng=random.Random(1),
            at=at,
        )
        assert result.lead.id is not None
        return result.lead.id


def _visit(share: Share, visitor: str, at: datetime, network: str = "") -> Visit:
    assert share.id is not None
    return Visit(
        share.id,
        share.activity_id,
        share.employee_id,
        "card_qr",
        visitor,
        "h",
        HUMAN,
        at,
        network=network,
    )


async def _reasons(db: Database, employee_id: int) -> list[str]:
    async with db.session() as session:
        flags = await session.exec(select(PointFlag).where(PointFlag.employee_id == employee_id))
        return sorted(f.reason for f in flags)


async def test_holds_release_after_14_days_and_admins_hear_of_the_queue(db: Database) -> None:
    share = await _share(db, "U_E1")
    await _signup(db, share, "+8613800000001", "v1", T0)
    due = T0 + timedelta(days=HOLD_DAYS)
    report = await run_due(db=db, now=due - timedelta(minutes=1), admin_ids={ADMIN})
    assert report.released == 0 and report.review_reminders == 0
    async with db.session() as session:
        assert await ledger.balance(session, share.employee_id) == ledger.Balance(0, 10, 0)
    report = await run_due(db=db, now=due, admin_ids={ADMIN})
    assert report.released == 1
    assert (await run_due(db=db, now=due, admin_ids={ADMIN})).released == 0  # idempotent
    async with db.session() as session:
        assert await ledger.balance(session, share.employee_id) == ledger.Balance(10, 0, 0)

    # A flag waits: one DM per admin per day while it does.
    other = await _share(db, "U_E2")
    await _signup(db, other, "+8613800000001", "v2", due)  # the same phone: shared_phone
    assert (await run_due(db=db, now=due, admin_ids={ADMIN})).review_reminders == 1
    assert (await run_due(db=db, now=due + timedelta(hours=1), admin_ids={ADMIN})).queued == 0
    assert (await run_due(db=db, now=due + timedelta(days=1), admin_ids={ADMIN})).queued == 1
    async with db.session() as session:
        keys = (
            await session.exec(
                select(OutboxMessage.key).where(OutboxMessage.kind == "ReviewWaiting")
            )
        ).all()
        assert sorted(keys) == [
            f"review:{(due + timedelta(days=d)).date()}:{ADMIN}" for d in (0, 1)
        ]
        await assert_ledger_consistent(session)


async def test_each_flag_has_its_reason(db: Database) -> None:
    # Own contact: the employee's e-mail typed into the customer's note.
    own = await _share(db, "U_OWN", email="ann@example.com")
    await _signup(db, own, "+8613800000010", "o1", T0, note="write to ANN@example.com")
    assert await _reasons(db, own.employee_id) == ["own_contact"]

    # Sign-ups seconds after the first view, in a burst.
    fast = await _share(db, "U_FAST")
    for n in range(FAST_BURST):
        at = T0 + timedelta(minutes=n)
        async with db.session() as session:
            await record_views(session=session, visits=[_visit(fast, f"f{n}", at)])
        await _signup(db, fast, f"+86138000001{n:02d}", f"f{n}", at + timedelta(seconds=5))
    assert await _reasons(db, fast.employee_id) == ["fast_signups"]

    # Many visitors from one network in a day, and views far above the usual.
    burst = await _share(db, "U_BURST")
    day = T0 + timedelta(days=3)
    async with db.session() as session:
        await record_views(
            session=session,
            visits=[_visit(burst, f"b{n}", day, network="n1") for n in range(NETWORK_BURST)]
            + [_visit(burst, f"c{n}", day, network=f"m{n}") for n in range(SPIKE_MIN_VIEWS)],
        )
    async with db.session() as session:
        before = await ledger.balance(session, burst.employee_id)
    report = await run_due(db=db, now=day + timedelta(hours=1), admin_ids={ADMIN})
    assert report.flagged == 2
    assert await _reasons(db, burst.employee_id) == ["network_burst", "view_spike"]
    async with db.session() as session:
        after = await ledger.balance(session, burst.employee_id)
        # The day's view points wait in review, held once (not once per flag).
        assert after == ledger.Balance(0, 0, before.available)
        await assert_ledger_consistent(session)
    assert (await run_due(db=db, now=day + timedelta(hours=2))).flagged == 0


# --- sliding windows: network bursts and view spikes (issue 15 §2) -------------------------

SECRET = b"s" * 32
MIDNIGHT = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)


def _from(share: Share, visitor: str, at: datetime, ip: str) -> Visit:
    """A visit from `ip` as the landing page records it: the day's network hash, and the
    network-burst window's keys."""
    visit = _visit(share, visitor, at, network_hash(SECRET, ip, at.date()))
    return replace(visit, window_networks=window_networks(SECRET, ip, at))


async def _record(db: Database, visits: list[Visit]) -> None:
    async with db.session() as session:
        await record_views(session=session, visits=visits)


async def test_a_network_burst_across_midnight_is_flagged(db: Database) -> None:
    share = await _share(db, "U_NIGHT")
    half = NETWORK_BURST // 2 + 1  # neither UTC day alone holds a burst
    before = [MIDNIGHT - timedelta(minutes=5, seconds=-n) for n in range(half)]
    after = [MIDNIGHT + timedelta(minutes=3, seconds=n) for n in range(half)]
    assert len(before) < NETWORK_BURST and len(before) + len(after) >= NETWORK_BURST
    await _record(
        db,
        [_from(share, f"n{n}", at, f"203.0.113.{n + 1}") for n, at in enumerate(before + after)],
    )
    report = await run_due(db=db, now=MIDNIGHT + timedelta(minutes=5), admin_ids={ADMIN})
    assert await _reasons(db, share.employee_id) == ["network_burst"]
    assert report.flagged == 1
    async with db.session() as session:
        flag = (
            await session.exec(select(PointFlag).where(PointFlag.employee_id == share.employee_id))
        ).one()
        # Both halves' view points wait in review (10 per network a day: all of them).
        assert flag.points == ledger.Balance(*(await _balance(session, share))).review
        assert flag.points > 0
        await assert_ledger_consistent(session)
    # Later scans see the same burst: no second flag.
    assert (await run_due(db=db, now=MIDNIGHT + timedelta(minutes=10))).flagged == 0
    assert (await run_due(db=db, now=MIDNIGHT + timedelta(hours=2))).flagged == 0


async def _balance(session: AsyncSession, share: Share) -> tuple[int, int, int]:
    b = await ledger.balance(session, share.employee_id)
    return b.available, b.pending, b.review


async def test_a_view_spike_across_midnight_is_flagged(db: Database) -> None:
    share = await _share(db, "U_SPIKE")
    # SPIKE_MIN_VIEWS views within 40 minutes around midnight, each from its own network.
    moments = [
        MIDNIGHT - timedelta(minutes=20) + timedelta(minutes=40) * n / SPIKE_MIN_VIEWS
        for n in range(SPIKE_MIN_VIEWS)
    ]
    assert sum(at < MIDNIGHT for at in moments) < SPIKE_MIN_VIEWS
    await _record(
        db,
        [_from(share, f"s{n}", at, f"198.51.{n}.7") for n, at in enumerate(moments)],
    )
    assert (await run_due(db=db, now=MIDNIGHT + timedelta(minutes=25))).flagged == 1
    assert await _reasons(db, share.employee_id) == ["view_spike"]
    async with db.session() as session:
        await assert_ledger_consistent(session)


async def test_a_slow_steady_day_is_not_flagged(db: Database) -> None:
    share = await _share(db, "U_STEADY")
    # Ten views an hour all day (240), one new visitor an hour of them from the office's
    # network: more than a calendar day's old thresholds, nothing in any window.
    day = datetime(2026, 11, 12, 0, 0, tzinfo=UTC)
    visits = []
    for n in range(240):
        at = day + timedelta(minutes=6 * n)
        ip = "192.0.2.9" if n % 10 == 0 else f"100.64.{n}.1"
        visits.append(_from(share, f"d{n}", at, ip))
    await _record(db, visits)
    for hour in range(1, 25, 3):
        assert (await run_due(db=db, now=day + timedelta(hours=hour))).flagged == 0
    assert await _reasons(db, share.employee_id) == []


async def test_the_usual_rate_counts_folded_views(db: Database) -> None:
    """An employee who usually has 10 views an hour (now folded into roll-ups) is not
    flagged for 80 in an hour; at SPIKE_FACTOR times their usual they are."""
    share = await _share(db, "U_BUSY")
    start = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    baseline = [
        _from(
            share,
            f"u{n}",
            start - timedelta(days=USUAL_DAYS) + timedelta(minutes=6 * n),
            f"10.{n % 200}.{n // 200}.1",
        )
        for n in range(USUAL_DAYS * 240)
    ]
    await _record(db, baseline)
    report = await run_due(db=db, now=start, retention_days=0)  # all of it folded
    assert report.folded_views == len(baseline)
    await _record(
        db,
        [
            _from(share, f"w{n}", start + timedelta(hours=6, seconds=40 * n), f"172.16.{n}.1")
            for n in range(80)
        ],
    )
    assert (await run_due(db=db, now=start + timedelta(hours=7))).flagged == 0
    await _record(
        db,
        [
            _from(share, f"x{n}", start + timedelta(hours=9, seconds=30 * n), f"172.17.{n}.1")
            for n in range(SPIKE_FACTOR * 10 + 5)
        ],
    )
    assert (await run_due(db=db, now=start + timedelta(hours=10))).flagged == 1
    assert await _reasons(db, share.employee_id) == ["view_spike"]


async def test_review_dms_go_to_workspace_admins_too(db: Database) -> None:
    """Workspace admins count as admins (bot/roles.py): the directory stored it when their
    profile was read, so they hear of the queue beside ADMIN_USER_IDS; others do not."""
    async with db.session() as session:
        await upsert_employee(session=session, profile=Profile("U_WSADMIN", "Wendy", is_admin=True))
        await upsert_employee(session=session, profile=Profile("U_PLAIN", "Paul"))
    first = await _share(db, "U_E1")
    other = await _share(db, "U_E2")
    await _signup(db, first, "+8613800000001", "v1", T0)
    await _signup(db, other, "+8613800000001", "v2", T0)  # shared_phone: a flag waits
    report = await run_due(db=db, now=T0 + timedelta(hours=1), admin_ids={ADMIN})
    assert report.review_reminders == 2
    async with db.session() as session:
        keys = (
            await session.exec(
                select(OutboxMessage.key).where(OutboxMessage.kind == "ReviewWaiting")
            )
        ).all()
    day = T0.date()
    assert sorted(keys) == [f"review:{day}:{ADMIN}", f"review:{day}:U_WSADMIN"]
