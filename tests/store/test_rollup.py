"""The share_stats roll-up stays exactly equal to a recount of the raw rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from bot.activities import ActivityDraft, create_activity
from bot.codes import PUSH_SOURCES
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead, set_outcome
from bot.points import OUTCOMES, POINTS_PER, outcome_points
from bot.roster import add_salespeople
from bot.shares import get_or_create_share
from bot.stats import export_csv
from bot.tracking import Classification, Visit, record_view
from store.db import Database
from store.models import Lead, PointsEntry, ShareStats, ShareVisitor, View

HUMAN = Classification(False, "mobile", "human")
BOT = Classification(True, "bot", "preview")
T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


async def test_migrations_are_idempotent(db: Database) -> None:
    from store.migrate import upgrade

    await upgrade(db.engine)  # second run is a no-op, not an error


async def test_rollup_matches_raw_rows(db: Database) -> None:
    rng = random.Random(7)
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft("Launch", T0, T0 + timedelta(hours=1), "video"),
            created_by="U_ADMIN",
        )
        await add_salespeople(session=session, user_ids=["U_S1", "U_S2"])
        shares = []
        for n in range(3):
            employee = await upsert_employee(session=session, profile=Profile(f"U_E{n}", f"E{n}"))
            shares.append(
                await get_or_create_share(session=session, activity=activity, employee=employee)
            )
    leads: list[int] = []
    for step in range(300):
        share = rng.choice(shares)
        source = rng.choice(PUSH_SOURCES)
        at = T0 + timedelta(minutes=7 * step)
        async with db.session() as session:
            if rng.random() < 0.8:
                await record_view(
                    session=session,
                    visit=Visit(
                        share_id=share.id, activity_id=share.activity_id,
                        employee_id=share.employee_id, source=source,
                        visitor_key=f"v{rng.randrange(25)}", visitor_hash="h",
                        classification=BOT if rng.random() < 0.2 else HUMAN, at=at,
                    ),
                )
            elif rng.random() < 0.5 or not leads:
                result = await create_lead(
                    session=session, share=share,
                    form=SignupForm(f"C{step}", f"+8613{rng.randrange(40):09d}"),
                    visitor_key=f"v{rng.randrange(25)}", visitor_hash="h", source=source, rng=rng,
                )
                leads.append(result.lead.id)
            else:
                lead = await session.get(Lead, rng.choice(leads))
                await set_outcome(
                    session=session, lead_id=lead.id, status=rng.choice(OUTCOMES),
                    by_user_id=lead.salesperson_id,
                )
    async with db.session() as session:
        rolled = (
            await session.exec(
                select(
                    func.sum(ShareStats.views), func.sum(ShareStats.unique_visitors),
                    func.sum(ShareStats.signups), func.sum(ShareStats.attended),
                    func.sum(ShareStats.converted), func.sum(ShareStats.points),
                )
            )
        ).one()
        views = (await session.exec(select(func.count()).where(col(View.counted)))).scalar()
        uniques = (
            await session.exec(select(func.count()).select_from(ShareVisitor)
                                  .where(ShareVisitor.visits > 0))
        ).scalar()
        all_leads = (await session.exec(sqlmodel_select(Lead))).all()
        attended = sum(1 for lead in all_leads if lead.outcome in ("attended", "converted"))
        converted = sum(1 for lead in all_leads if lead.outcome == "converted")
        ledger = (await session.exec(select(func.sum(PointsEntry.points)))).scalar()
        expected_points = (
            uniques * POINTS_PER["unique_visitor"]
            + len(all_leads) * POINTS_PER["signup"]
            + sum(outcome_points(lead.outcome) for lead in all_leads)
        )
        assert views > 50 and len(all_leads) > 10 and attended > 0
        assert tuple(int(v) for v in rolled) == (
            views, uniques, len(all_leads), attended, converted, expected_points
        )
        assert ledger == expected_points
        csv_text = await export_csv(session=session, activity_id=activity.id)
    header, *rows = [line.split(",") for line in csv_text.strip().split("\n")]
    assert sum(int(r[header.index("points")]) for r in rows) == expected_points
    assert sum(int(r[header.index("views")]) for r in rows) == views


async def test_repeat_views_within_30_minutes_count_once(db: Database) -> None:
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft("Launch", T0, T0 + timedelta(hours=1), "video"),
            created_by="U_ADMIN",
        )
        employee = await upsert_employee(session=session, profile=Profile("U_E", "E"))
        share = await get_or_create_share(session=session, activity=activity, employee=employee)
    results = []
    for minutes in (0, 10, 29, 31, 45, 62):
        async with db.session() as session:
            results.append(
                await record_view(
                    session=session,
                    visit=Visit(share.id, share.activity_id, share.employee_id, "card_qr", "v1",
                                "h", HUMAN, T0 + timedelta(minutes=minutes)),
                )
            )
    assert [r.counted for r in results] == [True, False, False, True, False, True]
    assert [r.first_visit for r in results] == [True] + [False] * 5
    assert results[-1].visits == 3


async def test_double_tap_returns_the_same_share(db: Database) -> None:
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft("Launch", T0, T0 + timedelta(hours=1), "video"),
            created_by="U_ADMIN",
        )
        employee = await upsert_employee(session=session, profile=Profile("U_E", "E"))
        first = await get_or_create_share(session=session, activity=activity, employee=employee)
    async with db.session() as session:
        second = await get_or_create_share(session=session, activity=activity, employee=employee)
    assert first.id == second.id
