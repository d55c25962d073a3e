"""The points ledger: holds, releases, debits that cannot overdraw, reversals by new rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import ledger
from bot.activities import ActivityDraft, create_activity
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead, set_outcome
from bot.points import Rules, set_rules
from bot.roster import add_salespeople
from bot.shares import get_or_create_share
from bot.tracking import Classification, Visit, record_views
from store.db import Database
from store.models import PointsEntry
from tests.ledger_support import assert_ledger_consistent

HUMAN = Classification(False, "mobile", "human")
T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


async def test_signup_held_until_outcome_debits_never_overdraw(db: Database) -> None:
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft("Launch", T0, T0 + timedelta(days=30), "video"),
            created_by="U_ADMIN",
        )
        assert activity.id is not None
        await set_rules(
            session=session,
            activity_id=activity.id,
            rules=Rules(unique_visitor=2, signup=7, attended=11, converted=13, daily_cap=9),
            by_user_id="U_ADMIN",
        )
        await add_salespeople(session=session, user_ids=["U_S1"])
        employee = await upsert_employee(session=session, profile=Profile("U_E1", "E1"))
        share = await get_or_create_share(session=session, activity=activity, employee=employee)
        assert share.id is not None and employee.id is not None
        visits = [
            Visit(share.id, activity.id, employee.id, "card_qr", f"v{n}", f"h{n}", HUMAN, T0)
            for n in range(3)
        ]
        await record_views(session=session, visits=visits)
        signup = await create_lead(
            session=session,
            share=share,
            form=SignupForm("Ann", "+8613800000001"),
            visitor_key="v0",
            visitor_hash="h0",
            source="card_qr",
            rng=random.Random(1),
            at=T0,
        )
    async with db.session() as session:
        # 3 visitors x 2 = 6, then the sign-up's 7 meets the daily cap of 9: 3 pending.
        assert await ledger.balance(session, employee.id) == ledger.Balance(6, 3, 0)
        assert not await ledger.try_debit(
            session, employee_id=employee.id, points=7, reason="redemption", ref="r:1"
        )
        assert await ledger.try_debit(
            session, employee_id=employee.id, points=5, reason="redemption", ref="r:2"
        )
        await assert_ledger_consistent(session)
    async with db.session() as session:
        assert signup.lead.id is not None
        await set_outcome(
            session=session, lead_id=signup.lead.id, status="attended", by_user_id="U_S1"
        )
    async with db.session() as session:
        # attended: 11 available, the sign-up's 3 released: 1 + 11 + 3.
        assert await ledger.balance(session, employee.id) == ledger.Balance(15, 0, 0)
        await set_outcome(
            session=session, lead_id=signup.lead.id, status="no_show", by_user_id="U_S1"
        )
    async with db.session() as session:
        assert await ledger.balance(session, employee.id) == ledger.Balance(4, 0, 0)
        kinds = [e.kind for e in (await session.exec(select(PointsEntry))).all()]
        assert kinds.count("released") == 2 and kinds.count("redeemed") == 1
        await assert_ledger_consistent(session)
