"""Leaderboards: all activities, one activity, or a season (a month or a quarter).

Ranks are competition ranks ("1, 2, 2, 4"): equal points share a rank, and the next
rank counts everyone above. People who left the public board (`me leaderboard off`)
are on none of them. Season boards sum the points ledger's rows of activities (earned
minus reversed; not redemptions or refunds) whose time falls in the season, in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput
from bot.i18n import _
from store import queries
from store.models import Employee, PointsEntry

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


@dataclass(frozen=True)
class Season:
    """[start, end) in UTC, and how people name it."""

    kind: str  # month | quarter
    label: str  # 2026-12, 2026-Q4
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Ranked:
    rank: int
    employee: Employee
    points: int
    signups: int | None = None  # None on season boards (the ledger has points only)
    visitors: int | None = None
    attended: int | None = None


def month(year: int, number: int) -> Season:
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return Season("month", f"{year:04d}-{number:02d}", start, end)


def quarter(year: int, number: int) -> Season:
    first = 3 * (number - 1) + 1
    start = datetime(year, first, 1, tzinfo=UTC)
    end = month(year, first + 2).end
    return Season("quarter", f"{year:04d}-Q{number}", start, end)


def parse_season(kind: str, when: str | None, *, now: datetime) -> Season:
    """`month [YYYY-MM]` or `quarter [YYYY-Qn]`; the current one when `when` is None."""
    now = now.astimezone(UTC)
    if kind == "month":
        if when is None:
            return month(now.year, now.month)
        found = _MONTH.match(when)
        if found and 1 <= int(found.group(2)) <= 12 and 2000 <= int(found.group(1)) <= 9998:
            return month(int(found.group(1)), int(found.group(2)))
    elif kind == "quarter":
        if when is None:
            return quarter(now.year, (now.month - 1) // 3 + 1)
        found = _QUARTER.match(when)
        if found and 2000 <= int(found.group(1)) <= 9998:
            return quarter(int(found.group(1)), int(found.group(2)))
    raise InvalidInput(
        _("Use `leaderboard month [YYYY-MM]` or `leaderboard quarter [YYYY-Qn]`, e.g. 2026-Q4.")
    )


def competition_ranks(points: list[int]) -> list[int]:
    """Ranks for scores sorted best first: equal scores share a rank, the next rank
    skips as many places as shared it (1, 2, 2, 4)."""
    ranks: list[int] = []
    for place, score in enumerate(points, start=1):
        ranks.append(ranks[-1] if ranks and points[place - 2] == score else place)
    return ranks


async def activity_board(
    *, session: AsyncSession, activity_id: int | None, limit: int = 10
) -> list[Ranked]:
    """All activities (activity_id None) or one, from the stats roll-ups."""
    rows = await queries.leaderboard(session, activity_id=activity_id, limit=limit)
    ranks = competition_ranks([row.points for _, row in rows])
    return [
        Ranked(rank, employee, row.points, row.signups, row.unique_visitors, row.attended)
        for rank, (employee, row) in zip(ranks, rows, strict=True)
    ]


async def season_board(*, session: AsyncSession, season: Season, limit: int = 10) -> list[Ranked]:
    """Points earned in the season (ledger rows of activities), best first."""
    total = func.sum(PointsEntry.points).label("total")
    statement = (
        select(PointsEntry.employee_id, total)
        .join(Employee, col(Employee.id) == col(PointsEntry.employee_id))
        .where(
            col(PointsEntry.share_id).is_not(None),
            col(PointsEntry.at) >= season.start,
            col(PointsEntry.at) < season.end,
            col(Employee.on_leaderboard).is_(True),
        )
        .group_by(col(PointsEntry.employee_id))
        .having(func.sum(PointsEntry.points) > 0)
        .order_by(total.desc(), col(PointsEntry.employee_id))
        .limit(limit)
    )
    rows = [(int(e), int(p)) for e, p in (await session.exec(statement)).all()]
    people = {
        e.id: e
        for e in (
            await session.exec(select(Employee).where(col(Employee.id).in_([e for e, _ in rows])))
        ).all()
    }
    ranks = competition_ranks([points for _, points in rows])
    return [
        Ranked(rank, people[employee_id], points)
        for rank, (employee_id, points) in zip(ranks, rows, strict=True)
    ]


async def set_public(*, session: AsyncSession, employee: Employee, public: bool) -> None:
    employee.on_leaderboard = public
    session.add(employee)
