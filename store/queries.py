"""Portable upserts and the aggregate queries the stats are built from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from store.bulk import BulkInsert, insert_rows
from store.models import (
    Employee,
    EmployeeStats,
    Lead,
    Share,
    ShareStats,
    ShareVisitor,
    View,
    ViewRollup,
)

STAT_COLUMNS: tuple[str, ...] = (
    "views",
    "unique_visitors",
    "signups",
    "attended",
    "converted",
    "points",
)


def insert_statement(session: AsyncSession, table: type[SQLModel]) -> Any:
    """INSERT for the session's dialect, so `on_conflict_do_nothing` works on both."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table.__table__)  # type: ignore[attr-defined]


async def insert_if_absent(
    session: AsyncSession, table: type[SQLModel], values: dict[str, Any], keys: Sequence[str]
) -> bool:
    """Insert a row unless one with the same unique `keys` exists; True if inserted."""
    statement = (
        insert_statement(session, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


@dataclass(frozen=True)
class StatChange:
    """Counter deltas for one (share, push source), owned by one activity and employee."""

    share_id: int
    source: str
    activity_id: int
    employee_id: int
    deltas: Mapping[str, int]


async def bump_stats(session: AsyncSession, changes: Sequence[StatChange]) -> None:
    """Add `changes` to share_stats and to employee_stats, in the caller's transaction.

    The only writer of both roll-ups, so employee_stats stays exactly the per-employee sum of
    share_stats. A row appears on its first non-zero delta. Rows go in key order, so
    concurrent writers on PostgreSQL lock them in the same order.

    Lock order, for every unit of work on PostgreSQL (the tracking writer, sign-ups,
    outcomes): share_visitors rows (by id), then network_visitors (by share and network;
    the writer only), then share_stats (by key), then employee_stats (by employee), then
    the outbox. Write the visitor rows first; a deadlock that still
    happens is retried whole by store.db.Database.transaction.
    """
    shares: dict[tuple[int, str], list[int]] = {}
    owners: dict[tuple[int, str], tuple[int, int]] = {}
    employees: dict[int, list[int]] = {}
    for change in changes:
        if not any(change.deltas.values()):
            continue
        key = (change.share_id, change.source)
        owners[key] = (change.activity_id, change.employee_id)
        share = shares.setdefault(key, [0] * len(STAT_COLUMNS))
        employee = employees.setdefault(change.employee_id, [0] * len(STAT_COLUMNS))
        for column, delta in change.deltas.items():
            at = STAT_COLUMNS.index(column)
            share[at] += delta
            employee[at] += delta
    if shares:
        await insert_rows(
            session,
            _ADD_TO_SHARE_STATS,
            [(*key, *owners[key], *shares[key]) for key in sorted(shares)],
        )
        await insert_rows(
            session,
            _ADD_TO_EMPLOYEE_STATS,
            [(key, *employees[key]) for key in sorted(employees)],
        )


# Upserts adding each row's counters to the stored ones (keys unique within a statement).
_ADD_TO_SHARE_STATS = BulkInsert(
    table="share_stats",
    columns=("share_id", "source", "activity_id", "employee_id", *STAT_COLUMNS),
    on_conflict=("share_id", "source"),
    add_on_conflict=STAT_COLUMNS,
)
_ADD_TO_EMPLOYEE_STATS = BulkInsert(
    table="employee_stats",
    columns=("employee_id", *STAT_COLUMNS),
    on_conflict=("employee_id",),
    add_on_conflict=STAT_COLUMNS,
)


async def bump_share_stats(
    session: AsyncSession,
    *,
    share_id: int,
    source: str,
    activity_id: int,
    employee_id: int,
    deltas: dict[str, int],
) -> None:
    """`bump_stats` for one (share, source): one sign-up or one outcome."""
    await bump_stats(session, [StatChange(share_id, source, activity_id, employee_id, deltas)])


@dataclass(frozen=True)
class StatRow:
    """Counters for one group (an employee, an activity, a source…)."""

    key: Any
    views: int = 0
    unique_visitors: int = 0
    signups: int = 0
    attended: int = 0
    converted: int = 0
    points: int = 0


def _sums() -> list[Any]:
    table = ShareStats.__table__  # type: ignore[attr-defined]
    return [func.coalesce(func.sum(table.c[column]), 0).label(column) for column in STAT_COLUMNS]


async def stats_by(
    session: AsyncSession, *, group: Sequence[str], where: dict[str, Any]
) -> list[StatRow]:
    """Sum the roll-up grouped by `group` columns, filtered by equality on `where`."""
    table = ShareStats.__table__  # type: ignore[attr-defined]
    statement = select(*[table.c[g] for g in group], *_sums())
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    if group:
        statement = statement.group_by(*[table.c[g] for g in group])
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    result = []
    for row in rows:
        key = tuple(row[: len(group)]) if len(group) > 1 else (row[0] if group else None)
        result.append(StatRow(key, *[int(value) for value in row[len(group) :]]))
    return result


async def leaderboard(session: AsyncSession, *, activity_id: int | None, limit: int) -> list[Any]:
    """(employee, StatRow) pairs ordered by points, then sign-ups, then views; people who
    left the public board (`me leaderboard off`) are not in it.

    All activities: read employee_stats in the order of its index (no grouping, no sort);
    one activity: sum that activity's share_stats rows.
    """
    people = Employee.__table__  # type: ignore[attr-defined]
    if activity_id is None:
        table = EmployeeStats.__table__  # type: ignore[attr-defined]
        stats: list[Any] = [table.c[column] for column in STAT_COLUMNS]
        statement = select(table.c.employee_id, *stats)
    else:
        table = ShareStats.__table__  # type: ignore[attr-defined]
        stats = _sums()
        statement = (
            select(table.c.employee_id, *stats)
            .where(table.c.activity_id == activity_id)
            .group_by(table.c.employee_id)
        )
    statement = statement.join(people, people.c.id == table.c.employee_id).where(
        people.c.on_leaderboard.is_(True)
    )
    statement = statement.order_by(
        stats[-1].desc(), stats[2].desc(), stats[0].desc(), table.c.employee_id
    ).limit(limit)
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    employees = {
        e.id: e
        for e in (
            await session.exec(
                select(Employee).where(Employee.id.in_([r[0] for r in rows]))  # type: ignore[union-attr,call-overload]
            )
        )
        .scalars()  # sqlalchemy's select: rows of one entity, not the entities themselves
        .all()
    }
    return [(employees[r[0]], StatRow(r[0], *[int(v) for v in r[1:]])) for r in rows]


async def _counts_per_period(
    session: AsyncSession,
    at: Any,
    edges: Sequence[datetime],
    where: Sequence[Any] = (),
    *,
    weight: Any = None,
) -> list[int]:
    """How many rows of `at`'s table fall in each [edges[i], edges[i+1]) (with `weight`,
    the sum of that column instead).

    One pass over the rows between the first and last edge: a CASE names each row's
    period (edges are plain UTC instants, so any time zone's days, DST included, work the
    same on SQLite and PostgreSQL), and the outer query counts per period.
    """
    periods = [0] * (len(edges) - 1)
    if not periods:
        return periods
    period = case(*[(at < edge, i) for i, edge in enumerate(edges[1:])], else_=-1)
    columns = [period.label("period")] + ([weight.label("weight")] if weight is not None else [])
    inner = select(*columns).where(at >= edges[0], at < edges[-1], *where)
    rows = inner.subquery()
    tally = func.sum(rows.c.weight) if weight is not None else func.count()
    statement = select(rows.c.period, tally).group_by(rows.c.period)
    for index, count in (await session.exec(statement)).all():  # type: ignore[call-overload]
        if 0 <= index < len(periods):
            periods[index] = int(count)
    return periods


@dataclass(frozen=True)
class DailyCounts:
    """An activity's counters per period (a day, in the caller's time zone)."""

    views: list[int]
    unique_visitors: list[int]
    signups: list[int]


async def activity_counts_per_period(
    session: AsyncSession, *, activity_id: int, edges: Sequence[datetime]
) -> DailyCounts:
    """Counted views, new unique visitors and sign-ups of one activity in each period.

    The same events the share_stats roll-up counts, so the periods add up to its totals:
    a view as the roll-up counts it (`counted`), a unique visitor on the day of their
    first counted view of a share (share_visitors.first_seen of a row with visits: the
    first human view of a share is always counted; a row a sign-up made holds no visit
    until its first view, which sets first_seen), a sign-up on the day its lead was
    created. Views older than RETENTION_DAYS live on as quarter-hour counts in view_rollups
    (bot/retention.py); every time zone's days start on a quarter hour, so sums stay exact.
    """
    views = View.__table__  # type: ignore[attr-defined]
    rollups = ViewRollup.__table__  # type: ignore[attr-defined]
    visitors = ShareVisitor.__table__  # type: ignore[attr-defined]
    shares = Share.__table__  # type: ignore[attr-defined]
    leads = Lead.__table__  # type: ignore[attr-defined]
    raw = await _counts_per_period(
        session, views.c.at, edges, [views.c.activity_id == activity_id, views.c.counted.is_(True)]
    )
    folded = await _counts_per_period(
        session, rollups.c.bucket, edges, [rollups.c.activity_id == activity_id],
        weight=rollups.c.views,
    )  # fmt: skip
    of_activity = select(shares.c.id).where(shares.c.activity_id == activity_id)
    return DailyCounts(
        views=[a + b for a, b in zip(raw, folded, strict=True)],
        unique_visitors=await _counts_per_period(
            session,
            visitors.c.first_seen,
            edges,
            [visitors.c.share_id.in_(of_activity), visitors.c.visits > 0],
        ),
        signups=await _counts_per_period(
            session, leads.c.created_at, edges, [leads.c.activity_id == activity_id]
        ),
    )
