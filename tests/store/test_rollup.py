"""The share_stats roll-up stays exactly equal to a recount of the raw rows, and
employee_stats to share_stats summed per employee."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities import ActivityDraft, create_activity
from bot.codes import PUSH_SOURCES
from bot.directory import Profile, upsert_employee
from bot.leads import SignupForm, create_lead, set_outcome
from bot.points import OUTCOMES, POINTS_PER, outcome_points
from bot.roster import add_salespeople
from bot.shares import get_or_create_share
from bot.stats import export_csv, leaderboard
from bot.tracking import Classification, Visit, record_view, record_views
from store.db import Database
from store.models import (
    EmployeeStats,
    Lead,
    PointsEntry,
    Share,
    ShareStats,
    ShareVisitor,
    View,
)
from store.queries import STAT_COLUMNS

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
                        share_id=share.id,
                        activity_id=share.activity_id,
                        employee_id=share.employee_id,
                        source=source,
                        visitor_key=f"v{rng.randrange(25)}",
                        visitor_hash="h",
                        classification=BOT if rng.random() < 0.2 else HUMAN,
                        at=at,
                    ),
                )
            elif rng.random() < 0.5 or not leads:
                result = await create_lead(
                    session=session,
                    share=share,
                    form=SignupForm(f"C{step}", f"+8613{rng.randrange(40):09d}"),
                    visitor_key=f"v{rng.randrange(25)}",
                    visitor_hash="h",
                    source=source,
                    rng=rng,
                )
                leads.append(result.lead.id)
            else:
                lead = await session.get(Lead, rng.choice(leads))
                await set_outcome(
                    session=session,
                    lead_id=lead.id,
                    status=rng.choice(OUTCOMES),
                    by_user_id=lead.salesperson_id,
                )
    async with db.session() as session:
        rolled = (
            await session.exec(
                select(
                    func.sum(ShareStats.views),
                    func.sum(ShareStats.unique_visitors),
                    func.sum(ShareStats.signups),
                    func.sum(ShareStats.attended),
                    func.sum(ShareStats.converted),
                    func.sum(ShareStats.points),
                )
            )
        ).one()
        views = (await session.exec(select(func.count()).where(col(View.counted)))).scalar()
        uniques = (
            await session.exec(
                select(func.count()).select_from(ShareVisitor).where(ShareVisitor.visits > 0)
            )
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
            views,
            uniques,
            len(all_leads),
            attended,
            converted,
            expected_points,
        )
        assert ledger == expected_points
        assert await employee_totals(session) == await share_stats_per_employee(session)
        csv_text = await export_csv(session=session, activity_id=activity.id)
    header, *rows = [line.split(",") for line in csv_text.strip().split("\n")]
    assert sum(int(r[header.index("points")]) for r in rows) == expected_points
    assert sum(int(r[header.index("views")]) for r in rows) == views


async def share_stats_per_employee(session: AsyncSession) -> dict[int, tuple[int, ...]]:
    """What employee_stats must hold, row for row."""
    sums = [func.sum(getattr(ShareStats, column)) for column in STAT_COLUMNS]
    rows = await session.exec(
        select(ShareStats.employee_id, *sums).group_by(ShareStats.employee_id)
    )
    return {row[0]: tuple(int(v) for v in row[1:]) for row in rows}


async def employee_totals(session: AsyncSession) -> dict[int, tuple[int, ...]]:
    rows = (await session.exec(sqlmodel_select(EmployeeStats))).all()
    return {row.employee_id: tuple(getattr(row, c) for c in STAT_COLUMNS) for row in rows}


async def grouped_leaderboard(session: AsyncSession, limit: int) -> list[tuple[int, ...]]:
    """The all-activities leaderboard as it was computed before employee_stats."""
    table = ShareStats.__table__
    sums = [func.coalesce(func.sum(table.c[column]), 0) for column in STAT_COLUMNS]
    statement = (
        select(table.c.employee_id, *sums)
        .group_by(table.c.employee_id)
        .order_by(sums[5].desc(), sums[2].desc(), sums[0].desc(), table.c.employee_id)
        .limit(limit)
    )
    return [tuple(int(v) for v in row) for row in await session.exec(statement)]


async def test_employee_stats_is_share_stats_summed_per_employee(db: Database) -> None:
    rng = random.Random(11)
    async with db.session() as session:
        launch, webinar = [
            await create_activity(
                session=session,
                draft=ActivityDraft(name, T0, T0 + timedelta(days=30), "video"),
                created_by="U_ADMIN",
            )
            for name in ("Launch", "Webinar")
        ]
        await add_salespeople(session=session, user_ids=["U_S1", "U_S2"])
        employees = [
            await upsert_employee(session=session, profile=Profile(f"U_E{n}", f"E{n}"))
            for n in range(7)
        ]
        shares: dict[tuple[int, int], Share] = {}
        for activity, sharers in ((launch, range(7)), (webinar, (0, 1, 2))):
            for n in sharers:
                shares[(activity.id, n)] = await get_or_create_share(
                    session=session, activity=activity, employee=employees[n]
                )
    busy = [s for (_, n), s in shares.items() if n < 4]  # 4 has a share and nothing else

    def visit(share: Share, at: datetime) -> Visit:
        return Visit(
            share.id, share.activity_id, share.employee_id, rng.choice(PUSH_SOURCES),
            f"v{rng.randrange(30)}", "h", BOT if rng.random() < 0.15 else HUMAN, at,
        )  # fmt: skip

    leads: list[int] = []
    for step in range(200):
        at = T0 + timedelta(minutes=11 * step)
        share = rng.choice(busy)
        async with db.session() as session:
            roll = rng.random()
            if roll < 0.6:  # a batch across shares, employees and sources, as the recorder sends
                await record_views(
                    session=session,
                    visits=[visit(rng.choice(busy), at) for _ in range(rng.randint(1, 12))],
                )
            elif roll < 0.8 or not leads:
                result = await create_lead(
                    session=session,
                    share=share,
                    form=SignupForm(f"C{step}", f"+8613{rng.randrange(60):09d}"),
                    visitor_key=f"v{rng.randrange(30)}",
                    visitor_hash="h",
                    source=rng.choice(PUSH_SOURCES),
                    rng=rng,
                )
                leads.append(result.lead.id)
            else:
                lead = await session.get(Lead, rng.choice(leads))
                await set_outcome(
                    session=session,
                    lead_id=lead.id,
                    status=rng.choice(OUTCOMES),
                    by_user_id=lead.salesperson_id,
                )
    async with db.session() as session:  # one lead through every change of outcome
        changed = await create_lead(
            session=session,
            share=busy[0],
            form=SignupForm("Changing", "+8613999999999"),
            visitor_key="v-changing",
            visitor_hash="h",
            source="dm",
            rng=rng,
        )
    leads.append(changed.lead.id)
    for status in ("attended", "converted", "no_show", "converted", "attended"):
        async with db.session() as session:
            change = await set_outcome(
                session=session,
                lead_id=changed.lead.id,
                status=status,
                by_user_id=changed.lead.salesperson_id,
            )
            assert change.changed
        async with db.session() as session:
            assert await employee_totals(session) == await share_stats_per_employee(session)
    # Employees 5 and 6: one unique visitor each, the same numbers: a tie, broken by id.
    async with db.session() as session:
        await record_views(
            session=session,
            visits=[
                Visit(s.id, s.activity_id, s.employee_id, "dm", "tie", "h", HUMAN, T0)
                for s in (shares[(launch.id, 6)], shares[(launch.id, 5)])
            ],
        )
    async with db.session() as session:
        totals = await employee_totals(session)
        assert totals == await share_stats_per_employee(session)
        assert set(totals) == {e.id for e in employees} - {employees[4].id}
        assert totals[employees[5].id] == totals[employees[6].id] == (1, 1, 0, 0, 0, 1)
        assert all(n > 0 for n in map(sum, zip(*totals.values(), strict=True)))
        assert sum(t[2] for t in totals.values()) == len(set(leads)) > 10
        for limit in (1, 3, 10):
            board = await leaderboard(session=session, activity_id=None, limit=limit)
            assert [(e.id, *(getattr(r, c) for c in STAT_COLUMNS)) for e, r in board] == (
                await grouped_leaderboard(session, limit)
            )
            assert all(e.id == r.key for e, r in board)
        board = await leaderboard(session=session, activity_id=None, limit=10)
        assert [e.user_id for e, _ in board][-2:] == ["U_E5", "U_E6"]


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
                    visit=Visit(
                        share.id,
                        share.activity_id,
                        share.employee_id,
                        "card_qr",
                        "v1",
                        "h",
                        HUMAN,
                        T0 + timedelta(minutes=minutes),
                    ),
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
