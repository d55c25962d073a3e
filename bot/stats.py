"""Performance numbers. Every surface (my_stats, me, stats, leaderboard, export) reads these."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities import get_activity
from bot.codes import PUSH_SOURCE_LABELS, PUSH_SOURCES
from bot.i18n import N_, current_locale, gettext
from store import queries
from store.models import Activity, Employee, Share
from store.queries import StatRow

EXPORT_COLUMNS: tuple[str, ...] = (
    "employee_id",
    "employee_name",
    "views",
    "unique_visitors",
    "signups",
    "attended",
    "converted",
    "points",
)
SOURCE_COLUMNS: tuple[str, ...] = tuple(
    f"{metric}_{source}" for metric in ("views", "signups") for source in PUSH_SOURCES
)
# What a person reads for the columns after the contract's eight (CSV) and in the workbook's
# other sheets. English keeps the keys themselves (scripts read them; DESIGN.md §5 names
# `views_<source>`); other languages show these labels.
COLUMN_LABELS: dict[str, str] = {
    "lead_id": N_("Lead ID"),
    "customer": N_("Customer"),
    "phone": N_("Phone"),
    "company": N_("Company"),
    "employee": N_("Employee"),
    "salesperson": N_("Salesperson"),
    "source": N_("Push source"),
    "outcome": N_("Outcome"),
    "signed_up_at_utc": N_("Signed up at (UTC)"),
    "date": N_("Date"),
    "views": N_("Views"),
    "unique_visitors": N_("Unique visitors"),
    "signups": N_("Sign-ups"),
}
SOURCE_COLUMN_LABELS: dict[str, str] = {
    # TRANSLATORS: a spreadsheet column: views that came through one push source (WeChat…)
    "views": N_("Views ({source})"),
    # TRANSLATORS: a spreadsheet column: sign-ups that came through one push source
    "signups": N_("Sign-ups ({source})"),
}


def column_header(key: str) -> str:
    """A column's header in the current language: the key in English, else its label."""
    if current_locale() == "en":
        return key
    label = COLUMN_LABELS.get(key)
    if label is not None:
        return gettext(label)
    metric, _sep, source = key.partition("_")
    if metric in SOURCE_COLUMN_LABELS and source in PUSH_SOURCE_LABELS:
        return gettext(SOURCE_COLUMN_LABELS[metric]).format(
            source=gettext(PUSH_SOURCE_LABELS[source])
        )
    return key


def _zero(key: object = None) -> StatRow:
    return StatRow(key)


@dataclass(frozen=True)
class Progress:
    label: str
    value: int
    target: int

    @property
    def percent(self) -> int | None:
        return None if self.target <= 0 else round(100 * self.value / self.target)


@dataclass(frozen=True)
class ActivityReport:
    activity: Activity
    totals: StatRow
    by_source: dict[str, StatRow]
    sharers: int

    @property
    def progress(self) -> list[Progress]:
        return [
            Progress(N_("Views"), self.totals.views, self.activity.kpi_views),
            Progress(N_("Sign-ups"), self.totals.signups, self.activity.kpi_signups),
            Progress(N_("Attendance"), self.totals.attended, self.activity.kpi_attendance),
        ]


async def employee_activity_stats(
    *, session: AsyncSession, employee_id: int, activity_id: int
) -> StatRow:
    rows = await queries.stats_by(
        session, group=[], where={"employee_id": employee_id, "activity_id": activity_id}
    )
    return rows[0] if rows else _zero()


async def employee_overview(
    *, session: AsyncSession, employee_id: int
) -> list[tuple[Activity, StatRow]]:
    """Every activity the employee has shared, newest first, with their numbers."""
    rows = {
        row.key: row
        for row in await queries.stats_by(
            session, group=["activity_id"], where={"employee_id": employee_id}
        )
    }
    activities = (
        await session.exec(
            select(Activity)
            .join(Share, col(Share.activity_id) == col(Activity.id))
            .where(Share.employee_id == employee_id)
            .order_by(col(Activity.id).desc())
        )
    ).all()
    return [(activity, rows.get(activity.id) or _zero(activity.id)) for activity in activities]


async def activity_report(*, session: AsyncSession, activity_id: int) -> ActivityReport:
    activity = await get_activity(session=session, activity_id=activity_id)
    by_source = {
        row.key: row
        for row in await queries.stats_by(
            session, group=["source"], where={"activity_id": activity_id}
        )
    }
    totals = await queries.stats_by(session, group=[], where={"activity_id": activity_id})
    sharers = len(
        (await session.exec(select(Share.id).where(Share.activity_id == activity_id))).all()
    )
    return ActivityReport(activity, totals[0] if totals else _zero(), by_source, sharers)


async def leaderboard(
    *, session: AsyncSession, activity_id: int | None, limit: int = 10
) -> list[tuple[Employee, StatRow]]:
    if activity_id is not None:
        await get_activity(session=session, activity_id=activity_id)
    return await queries.leaderboard(session, activity_id=activity_id, limit=limit)


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in user-controlled text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_csv(*, session: AsyncSession, activity_id: int) -> str:
    """One row per employee who shared the activity: the DESIGN.md columns, then per source."""
    await get_activity(session=session, activity_id=activity_id)
    per_source = await queries.stats_by(
        session, group=["employee_id", "source"], where={"activity_id": activity_id}
    )
    employees = (
        await session.exec(
            select(Employee)
            .join(Share, col(Share.employee_id) == col(Employee.id))
            .where(Share.activity_id == activity_id)
        )
    ).all()
    totals: dict[int, dict[str, int]] = {}
    for row in per_source:
        employee_id, source = row.key
        entry = totals.setdefault(employee_id, {})
        for column in queries.STAT_COLUMNS:
            entry[column] = entry.get(column, 0) + getattr(row, column)
        entry[f"views_{source}"] = row.views
        entry[f"signups_{source}"] = row.signups
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # The contract's eight columns are the same in every language; the rest are read by people.
    writer.writerow([*EXPORT_COLUMNS, *(column_header(c) for c in SOURCE_COLUMNS)])
    ordered = sorted(
        employees,
        key=lambda e: (-totals.get(e.id or 0, {}).get("points", 0), e.name, e.user_id),
    )
    for employee in ordered:
        numbers = totals.get(employee.id or 0, {})
        writer.writerow(
            [_cell(employee.user_id), _cell(employee.name)]
            + [numbers.get(column, 0) for column in EXPORT_COLUMNS[2:] + SOURCE_COLUMNS]
        )
    return buffer.getvalue()
