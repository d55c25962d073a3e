"""For any interleaving of views, sign-ups, outcomes, clawbacks, reviews, hold releases,
redemptions (bot/redemptions.py: debit and stock in one transaction), refusals (refunds)
and fulfilments: every balance equals the sum of its ledger rows, no balance goes
below zero, stock never goes below zero and every item is in stock or redeemed, and the
stats (share_stats, employee_stats, My stats per activity) agree with the ledger.
On SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot import ledger, points_flags, points_holds, points_marks
from bot import redemptions as redemptions_mod
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead, set_outcome
from bot.points import OUTCOMES, Rules, set_rules
from bot.points_desk import activity_balance
from bot.roster import add_salespeople
from bot.shares import get_or_create_share
from bot.tracking import Classification, Visit, record_views
from store.db import Database
from store.migrate import upgrade
from store.models import (
    Activity,
    Employee,
    Lead,
    PointFlag,
    PointsEntry,
    Redemption,
    Reward,
    Share,
)
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
                "redeem",
                "refund",
                "fulfil",
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


STOCK = 2  # of each reward: it runs out


async def _rewards(session, example: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Two rewards of the catalogue, a cheap one and a dear one, STOCK of each."""
    ids = []
    for n, cost in enumerate((1, 3)):
        reward = Reward(name=f"R{example}.{n}", cost=cost, stock=STOCK)
        session.add(reward)
        await session.flush()
        assert reward.id is not None
        ids.append(reward.id)
    return ids


async def _spend(
    db: Database, op: Op, employees: list[int], rewards: list[int], redemptions: list[int]
) -> None:
    """A redemption (bot/redemptions.py, its own transaction as in the product): it
    succeeds exactly when the available balance covers the cost and an item is left, and
    a refused one changes nothing; or an admin's decision on a pending one."""
    if op.kind == "redeem":
        employee_id, reward_id = employees[op.a % len(employees)], rewards[op.b % 2]
        async with db.session() as session:
            available = (await ledger.balance(session, employee_id)).available
            reward = await session.get(Reward, reward_id)
            assert reward is not None
            can = available >= reward.cost and reward.stock > 0

        async def redeem_work(session):  # type: ignore[no-untyped-def]
            employee = await session.get(Employee, employee_id)
            return await redemptions_mod.redeem(
                session=session, employee=employee, reward_id=reward_id
            )

        try:
            redemption = await db.transaction(redeem_work)
        except (redemptions_mod.NotEnoughPoints, redemptions_mod.OutOfStock):
            assert not can
            return
        assert can and redemption.id is not None
        redemptions.append(redemption.id)
        return
    pending = []
    async with db.session() as session:
        for redemption_id in redemptions:
            row = await session.get(Redemption, redemption_id)
            if row is not None and row.status == "pending":
                pending.append(redemption_id)
    if not pending:
        return

    async def decide_work(session):  # type: ignore[no-untyped-def]
        return await redemptions_mod.decide(
            session=session,
            redemption_id=pending[op.a % len(pending)],
            fulfil=op.kind == "fulfil",
            by_user_id=ADMIN,
        )

    await db.transaction(decide_work)


async def _assert_stock_consistent(session, rewards: list[int], made: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Stock never below zero; every item is in stock or in a redemption not refused; each
    redemption's debit (and refund, once refused) is in the ledger."""
    for reward_id in rewards:
        reward = await session.get(Reward, reward_id, populate_existing=True)
        assert reward is not None and reward.stock >= 0
        taken = (
            await session.exec(
                select(Redemption).where(
                    Redemption.reward_id == reward_id, Redemption.status != "refused"
                )
            )
        ).all()
        assert reward.stock + len(taken) == STOCK
    for redemption in (
        await session.exec(select(Redemption).where(col(Redemption.id).in_(made)))
    ).all():
        refs = {
            entry.ref: entry.points
            for entry in (
                await session.exec(
                    select(PointsEntry).where(
                        col(PointsEntry.ref).in_(
                            [f"redemption:{redemption.id}", f"redemption:{redemption.id}:refund"]
                        )
                    )
                )
            ).all()
        }
        want = {f"redemption:{redemption.id}": -redemption.cost}
        if redemption.status == "refused":
            want[f"redemption:{redemption.id}:refund"] = redemption.cost
        assert refs == want


async def play(url: str, history: list[Op]) -> None:
    example = next(_examples)
    db = Database.from_url(url)
    await upgrade(db.engine)  # a no-op after the first example
    rng = random.Random(example)
    now = T0
    redemptions: list[int] = []
    try:
        async with db.session() as session:
            shares, employees = await _setup(session, example)
            rewards = await _rewards(session, example)
            for employee_id in employees:  # an admin's adjustment: something to spend at once
                await ledger.credit(
                    session,
                    employee_id=employee_id,
                    points=5,
                    reason="adjustment",
                    ref=f"seed:{example}:{employee_id}",
                    kind="adjusted",
                    by_user_id=ADMIN,
                )
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

            if op.kind in ("redeem", "refund", "fulfil"):
                await _spend(db, op, employees, rewards, redemptions)
            else:
                await db.transaction(work)
            async with db.session() as session:
                await assert_ledger_consistent(session)
                await _assert_stock_consistent(session, rewards, redemptions)
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
