"""The data behind every chart: plain, hashable values read from the store.

Nothing here imports matplotlib: these values are made in the server process and handed
to the chart workers (bot/reports/pool.py), which draw them (bot/reports/render.py).
Being frozen and hashable, a value is also its own cache key: equal data, equal chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities import get_activity, zone
from bot.codes import PUSH_SOURCE_LABELS, PUSH_SOURCES
from bot.i18n import N_
from bot.stats import activity_report
from store import queries

DEFAULT_DAYS = 14
MAX_DAYS = 92
TOP_EMPLOYEES = 10


@dataclass(frozen=True)
class DailySeries:
    """Views, unique visitors and sign-ups per day over the last `len(days)` days."""

    title: str
    tz: str
    days: tuple[date, ...]
    views: tuple[int, ...]
    unique_visitors: tuple[int, ...]
    signups: tuple[int, ...]
    style: str = "line"  # or "bar"

    @property
    def empty(self) -> bool:
        return not any(self.views) and not any(self.unique_visitors) and not any(self.signups)


@dataclass(frozen=True)
class Funnel:
    """Views → visitors → sign-ups → attended → converted, as (label, count) steps; the
    labels are catalogue msgids, translated where the chart is drawn."""

    title: str
    steps: tuple[tuple[str, int], ...]

    @property
    def empty(self) -> bool:
        return not any(count for _, count in self.steps)


@dataclass(frozen=True)
class SourceSplit:
    """Views and sign-ups per push source, human labels (catalogue msgids, translated where
    the chart is drawn), most views first."""

    title: str
    rows: tuple[tuple[str, int, int], ...]  # (label, views, sign-ups)

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class TopEmployees:
    """The leaderboard's first rows: (name, points, views, sign-ups), best first."""

    title: str
    rows: tuple[tuple[str, int, int, int], ...]

    @property
    def empty(self) -> bool:
        return not self.rows


Chart = DailySeries | Funnel | SourceSplit | TopEmployees


def day_edges(today: date, days: int, tz: str) -> tuple[tuple[date, ...], list[datetime]]:
    """The last `days` days up to `today` and their midnights (plus the next) in `tz`."""
    days = max(1, min(days, MAX_DAYS))
    first = today - timedelta(days=days - 1)
    dates = tuple(first + timedelta(days=i) for i in range(days))
    zone_info = zone(tz)
    edges = [datetime.combine(d, time(0), zone_info) for d in (*dates, today + timedelta(days=1))]
    return dates, edges


async def daily_series(
    *,
    session: AsyncSession,
    activity_id: int,
    now: datetime,
    days: int = DEFAULT_DAYS,
    style: str = "line",
) -> DailySeries:
    """Per day in the activity's time zone, zero-filled, ending today."""
    activity = await get_activity(session=session, activity_id=activity_id)
    today = now.astimezone(zone(activity.tz)).date()
    dates, edges = day_edges(today, days, activity.tz)
    counts = await queries.activity_counts_per_period(session, activity_id=activity_id, edges=edges)
    return DailySeries(
        title=activity.name,
        tz=activity.tz,
        days=dates,
        views=tuple(counts.views),
        unique_visitors=tuple(counts.unique_visitors),
        signups=tuple(counts.signups),
        style=style,
    )


FUNNEL_STEPS: tuple[tuple[str, str], ...] = (
    (N_("Views"), "views"),
    (N_("Visitors"), "unique_visitors"),
    (N_("Sign-ups"), "signups"),
    (N_("Attended"), "attended"),
    (N_("Converted"), "converted"),
)


async def funnel(*, session: AsyncSession, activity_id: int) -> Funnel:
    """The activity's totals from the roll-up, in funnel order."""
    report = await activity_report(session=session, activity_id=activity_id)
    steps = tuple((label, int(getattr(report.totals, name))) for label, name in FUNNEL_STEPS)
    return Funnel(title=report.activity.name, steps=steps)


async def source_split(*, session: AsyncSession, activity_id: int) -> SourceSplit:
    """Sources with any view or sign-up, most views first (ties in PUSH_SOURCES order)."""
    report = await activity_report(session=session, activity_id=activity_id)
    order = {source: i for i, source in enumerate(PUSH_SOURCES)}
    rows = sorted(
        (row for row in report.by_source.values() if row.views or row.signups),
        key=lambda row: (-row.views, -row.signups, order.get(str(row.key), len(order))),
    )
    return SourceSplit(
        title=report.activity.name,
        rows=tuple(
            (PUSH_SOURCE_LABELS.get(str(row.key), "Other"), row.views, row.signups) for row in rows
        ),
    )


async def top_employees(
    *, session: AsyncSession, activity_id: int, limit: int = TOP_EMPLOYEES
) -> TopEmployees:
    """The activity's leaderboard (points, then sign-ups, then views)."""
    activity = await get_activity(session=session, activity_id=activity_id)
    rows = await queries.leaderboard(session, activity_id=activity_id, limit=limit)
    return TopEmployees(
        title=activity.name,
        rows=tuple(
            (employee.name or employee.user_id, row.points, row.views, row.signups)
            for employee, row in rows
        ),
    )
