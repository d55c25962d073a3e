"""For any interleaving of views, sign-ups, outcomes, clawbacks, reviews, hold releases,
redemptions and refunds: every balance equals the sum of its ledger rows, no balance goes
below zero, and the stats (share_stats, employee_stats, My stats per activity) agree with
the ledger. On SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot import ledger, points_flags, points_holds, points_marks
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead, set_outcome
from bot.points import OUTCOMES, Rules, set_rules
from bot.points_desk import activity_balance
from bot.roster import add_salespeople
from bot.shares import get_or_create_share
from bot.tracking import Classification, Visit, record_views
from store.db import Database
from store.migrate import upgrade
from store.models import Activity, Lead, PointFlag, PointsEntry, Share
from tests.ledger_support import assert_ledger_consistent

HUMAN = Classification(False, "mobile", "human")
SALES = "U_SALES"
ADMIN = "U_ADMIN"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_examples = count()


@dataclass(frozen=True)
class Op:
    kind: str
    a: int  # an employee / lead / flag / redemption index, as the kind needs
    b: int  # a visitor, phone, outcome, amount…
    minutes: int  # time since the previous op


ops = st.lists(
    st.builds(
        Op,
        kind=st.sampled_from(
            [
                "view",
                "view",
                "burst",
                "signup",
                "signup",
                "outcome",
                "mark",
                "decide",
                "release",
                "scan",
                "redeem",
                "refund",
            ]
        ),
        a=st.integers(0, 5),
        b=st.integers(0, 7),
        minutes=st.sampled_from([0, 0, 1, 30, 600, 60 * 24 * 15]),
    ),
    min_size=4,
    max_size=25,
)


async def _setup(session, example: int) -> tuple[list[Share], list[int]]:  # type: ignore[no-untyped-def]
    shares: list[Share] = []
    employees: list[int] = []
    await add_salespeople(session=session, user_ids=[SALES])
    for n in range(2):
        activity = Activity(
            name=f"A{example}.{n}",
            starts_at=T0,
            ends_at=T0 + timedelta(days=90),
            material_type="article",
            status="published",
        )
        session.add(activity)
        await session.flush()
        assert activity.id is not None
        if n:  # the second activity has its own rules, with a small daily cap
            await set_rules(
                session=session,
                activity_id=activity.id,
                rules=Rules(unique_visitor=3, signup=5, attended=7, converted=11, daily_cap=12),
                by_user_id=ADMIN,
            )
        for e in range(2):
            employee = await upsert_employee(
                # Employee 0 signs up customers with their own phone sometimes: own_contact.
                session=session,
                profile=Profile(
                    f"U_{example}_{e}", f"E{e}", phone="+86 138 0000 0007" if e == 0 else ""
                ),
            )
            assert employee.id is not None
            if n == 0:
                employees.append(employee.id)
            shares.append(
                await get_or_create_share(session=session, activity=activity, employee=employee)
            )
    return shares, employees


async def play(url: str, history: list[Op]) -> None:
    example = next(_examples)
    db = Database.from_url(url)
    await upgrade(db.engine)  # a no-op after the first example
    rng = random.Random(example)
    now = T0
    redemptions: list[tuple[int, int]] = []
    refunded: set[int] = set()
    try:
        async with db.session() as session:
            shares, employees = await _setup(session, example)
        leads: list[int] = []
        for step, op in enumerate(history):
            now += timedelta(minutes=op.minutes)

            async def work(session, op=op, step=step, now=now):  # type: ignore[no-untyped-def]
                share = shares[op.a % len(shares)]
                assert share.id is not None
                if op.kind in ("view", "burst"):
                    n = 25 if op.kind == "burst" else 1
                    await record_views(
                        session=session,
                        visits=[
                            Visit(
                                share.id,
                                share.activity_id,
                                share.employee_id,
                                "card_qr",
                                f"x{example}-{step}-{i}" if op.kind == "burst" else f"v{op.b}",
                                "h",
                                HUMAN,
                                now,
                                network=f"net{op.b % 2}",
                            )
                            for i in range(n)
                        ],
                    )
                elif op.kind == "signup":
                    # Phones repeat across examples and employees: shared-phone flags.
                    result = await create_lead(
                        session=session,
                        share=share,
                        form=SignupForm("Customer", f"+86138000000{op.b:02d}"),
                        visitor_key=f"v{op.b}",
                        visitor_hash="h",
                        source="card_qr",
                        rng=rng,
                        at=now,
                    )
                    if not result.duplicate and result.lead.id is not None:
                        leads.append(result.lead.id)
                elif op.kind == "outcome" and leads:
                    await set_outcome(
                        session=session,
                        lead_id=leads[op.a % len(leads)],
                        status=OUTCOMES[op.b % len(OUTCOMES)],
                        by_user_id=SALES,
                        is_admin=True,
                    )
                elif op.kind == "mark" and leads:
                    lead_id = leads[op.a % len(leads)]
                    await points_marks.mark_lead(
                        session=session,
                        lead_id=lead_id,
                        mark=points_marks.MARKS[op.b % 2],
                        by_user_id=SALES,
                        is_admin=False,
                    )
                    held = await ledger.lead_buckets(session, lead_id)
                    assert held["pending"] == held["review"] == 0
                elif op.kind == "decide":
                    flags = await points_flags.open_flags(session=session)
                    if flags:
                        flag = flags[op.a % len(flags)]
                        assert flag.id is not None
                        await points_flags.decide(
                            session=session,
                            flag_id=flag.id,
                            decision=points_flags.DECISIONS[op.b % 2],
                            by_user_id=ADMIN,
                        )
                elif op.kind == "release":
                    await points_holds.release_due(session=session, now=now)
                    # Nothing stays pending past the hold.
                    old = (
                        await session.exec(
                            select(Lead.id).where(Lead.created_at <= now - timedelta(days=14))
                        )
                    ).all()
                    for lead_id in old:
                        assert lead_id is not None
                        assert (await ledger.lead_buckets(session, lead_id))["pending"] == 0
                elif op.kind == "scan":
                    await points_flags.scan_views(session=session, now=now)
                elif op.kind == "redeem":
                    employee = employees[op.a % len(employees)]
                    cost = 1 + op.b * 3
                    before = await ledger.balance(session, employee)
                    ok = await ledger.try_debit(
                        session,
                        employee_id=employee,
                        points=cost,
                        reason="reward",
                        ref=f"redemption:{example}:{step}",
                    )
                    assert ok == (before.available >= cost)
                    if ok:
                        redemptions.append((employee, cost))
                elif op.kind == "refund" and redemptions:
                    index = op.a % len(redemptions)
                    if index not in refunded:
                        refunded.add(index)
                        employee, cost = redemptions[index]
                        await ledger.credit(
                            session,
                            employee_id=employee,
                            points=cost,
                            reason="reward",
                            ref=f"redemption:{example}:{index}:refund",
                        )

            await db.transaction(work)
            async with db.session() as session:
                await assert_ledger_consistent(session)
        async with db.session() as session:
            # My stats per activity show the ledger's sums per bucket.
            for share in shares:
                balance = await activity_balance(
                    session, employee_id=share.employee_id, activity_id=share.activity_id
                )
                rows = (
                    await session.exec(
                        select(PointsEntry).where(
                            PointsEntry.employee_id == share.employee_id,
                            PointsEntry.activity_id == share.activity_id,
                        )
                    )
                ).all()
                for bucket in ledger.BUCKETS:
                    assert getattr(balance, bucket) == sum(
                        r.points for r in rows if r.bucket == bucket
                    )
            # Every decided flag left nothing of its own in review.
            decided = (
                await session.exec(select(PointFlag).where(PointFlag.status != "open"))
            ).all()
            for flag in decided:
                if flag.lead_id is not None:
                    assert (await ledger.lead_buckets(session, flag.lead_id))["review"] == 0
    finally:
        await db.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples every run: a red build is reproducible
)
@given(history=ops)
def test_every_balance_is_the_sum_of_its_ledger(database_url: str, history: list[Op]) -> None:
    asyncio.run(play(database_url, history))
