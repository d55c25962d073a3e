"""Portable upserts and the aggregate queries the stats are built from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Employee, ShareStats

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
    return _insert(session, table)


def _insert(session: AsyncSession, table: type[SQLModel]) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table.__table__)  # type: ignore[attr-defined]


async def insert_if_absent(
    session: AsyncSession, table: type[SQLModel], values: dict[str, Any], keys: Sequence[str]
) -> bool:
    """Insert a row unless one with the same unique `keys` exists; True if inserted."""
    statement = _insert(session, table).values(**values).on_conflict_do_nothing(index_elements=keys)
    result = await session.exec(statement)
    return bool(result.rowcount)


async def insert_many_if_absent(
    session: AsyncSession,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    chunk: int = 500,
) -> int:
    """Multi-row `insert_if_absent`; returns how many rows were new."""
    added = 0
    for start in range(0, len(rows), chunk):
        statement = (
            _insert(session, table)
            .values(list(rows[start : start + chunk]))
            .on_conflict_do_nothing(index_elements=keys)
        )
        added += int((await session.exec(statement)).rowcount or 0)
    return added


async def bump_share_stats(
    session: AsyncSession,
    *,
    share_id: int,
    source: str,
    activity_id: int,
    employee_id: int,
    deltas: dict[str, int],
) -> None:
    """Add `deltas` to the (share, source) roll-up row, creating it at zero first."""
    if not any(deltas.values()):
        return
    insert = _insert(session, ShareStats).values(
        share_id=share_id,
        source=source,
        activity_id=activity_id,
        employee_id=employee_id,
        **{column: deltas.get(column, 0) for column in STAT_COLUMNS},
    )
    table = ShareStats.__table__  # type: ignore[attr-defined]
    statement = insert.on_conflict_do_update(
        index_elements=["share_id", "source"],
        set_={column: table.c[column] + deltas[column] for column in deltas if deltas[column]},
    )
    await session.exec(statement)


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
    """(employee, StatRow) pairs ordered by points, then sign-ups, then views."""
    table = ShareStats.__table__  # type: ignore[attr-defined]
    sums = _sums()
    statement = select(table.c.employee_id, *sums).group_by(table.c.employee_id)
    if activity_id is not None:
        statement = statement.where(table.c.activity_id == activity_id)
    statement = statement.order_by(
        sums[-1].desc(), sums[2].desc(), sums[0].desc(), table.c.employee_id
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
