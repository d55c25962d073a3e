"""The points' scheduled work on a controllable clock (run_due at chosen moments): held
sign-up points released after HOLD_DAYS, the daily review DM to admins while flags wait;
and each automatic flag with its reason."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import ledger
from bot.activities import ActivityDraft, create_activity
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead
from bot.points import HOLD_DAYS
from bot.points_flags import FAST_BURST, NETWORK_BURST, SPIKE_MIN_VIEWS
from bot.roster import add_salespeople
from bot.scheduler import run_due
from bot.shares import get_or_create_share
from bot.tracking import Classification, Visit, record_views
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
