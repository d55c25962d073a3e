"""Batch writes at the driver level, for the tracking writer.

SQLAlchemy Core prepares every row of an executemany in Python: a parameter dict, the
compiled statement's `construct_params`, a bind processor per value (SQLite's DATETIME
one formats each datetime with `%`). For a 500-view batch that was most of the writer's
time, about 80 µs a view against SQLite's own few. Here a batch is flattened into the
driver's own parameter list, in statements rendered once per (dialect, row count).

Only plain columns go through here (ints, strings, bools, aware UTC datetimes); values are
stored exactly as SQLAlchemy stores them, so the ORM reads them back unchanged
(tests/store/test_bulk.py, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

# SQLite takes at most 32,766 parameters a statement, PostgreSQL 32,767; and a statement
# of a few hundred rows already amortises the round trip.
MAX_ROWS_PER_STATEMENT = 250


@dataclass(frozen=True)
class BulkInsert:
    """INSERT INTO table (columns) VALUES … [ON CONFLICT (on_conflict) DO NOTHING, or DO
    UPDATE SET each of `add_on_conflict` to the stored value plus the new one]
    [RETURNING …]."""

    table: str
    columns: tuple[str, ...]
    returning: tuple[str, ...] = ()
    on_conflict: tuple[str, ...] = ()
    add_on_conflict: tuple[str, ...] = ()
    datetime_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulkUpdate:
    """UPDATE table SET columns… WHERE key = …, one parameter row per updated row."""

    table: str
    columns: tuple[str, ...]
    key: str
    datetime_columns: tuple[str, ...] = ()


@functools.lru_cache(maxsize=4096)  # a view's moment goes into several rows of its batch
def sqlite_datetime(moment: datetime | date) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores: naive UTC, always six fractional digits
    (and its DATE: YYYY-MM-DD)."""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")


def _placeholders(paramstyle: str, start: int, count: int) -> str:
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    if paramstyle in ("numeric_dollar", "numeric"):
        mark = "$" if paramstyle == "numeric_dollar" else ":"
        return ", ".join(f"{mark}{n}" for n in range(start + 1, start + count + 1))
    if paramstyle in ("format", "pyformat"):
        return ", ".join(["%s"] * count)
    raise ValueError(f"unsupported DBAPI paramstyle {paramstyle!r}")


@functools.lru_cache(maxsize=64)
def _insert_sql(spec: BulkInsert, paramstyle: str, rows: int) -> str:
    width = len(spec.columns)
    values = ", ".join(f"({_placeholders(paramstyle, row * width, width)})" for row in range(rows))
    sql = f"INSERT INTO {spec.table} ({', '.join(spec.columns)}) VALUES {values}"
    if spec.on_conflict:
        sql += f" ON CONFLICT ({', '.join(spec.on_conflict)})"
        if spec.add_on_conflict:
            sums = (
                f"{name} = {spec.table}.{name} + excluded.{name}" for name in spec.add_on_conflict
            )
            sql += f" DO UPDATE SET {', '.join(sums)}"
        else:
            sql += " DO NOTHING"
    if spec.returning:
        sql += f" RETURNING {', '.join(spec.returning)}"
    return sql


@functools.lru_cache(maxsize=16)
def _update_sql(spec: BulkUpdate, paramstyle: str) -> str:
    width = len(spec.columns)
    marks = _placeholders(paramstyle, 0, width + 1).split(", ")
    sets = ", ".join(f"{name} = {mark}" for name, mark in zip(spec.columns, marks, strict=False))
    return f"UPDATE {spec.table} SET {sets} WHERE {spec.key} = {marks[-1]}"


def _for_driver(
    session: AsyncSession, columns: tuple[str, ...], datetime_columns: tuple[str, ...]
) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """What a row's values become for this dialect's driver: SQLite's takes datetimes as
    text, asyncpg takes them as they are."""
    if session.get_bind().dialect.name != "sqlite" or not datetime_columns:
        return lambda row: row
    positions = [columns.index(name) for name in datetime_columns]

    def convert(row: Sequence[Any]) -> Sequence[Any]:
        values = list(row)
        for at in positions:
            values[at] = sqlite_datetime(values[at])
        return values

    return convert


async def _run(
    connection: AsyncConnection, sql: str, params: Sequence[Any], *, many: bool = False
) -> list[tuple[Any, ...]]:
    """Run one statement (or an executemany) in the connection's transaction.

    Through SQLAlchemy's aiosqlite adapter a statement is four trips to aiosqlite's thread
    and back (cursor, execute, fetchall, close), each a wake-up of both threads;
    aiosqlite's own `execute_fetchall` and `executemany` are one. The statement still runs
    on the same sqlite3 connection, so in the same transaction."""
    if connection.dialect.driver == "aiosqlite":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        if many:
            await driver.executemany(sql, params)
            return []
        return [tuple(row) for row in await driver.execute_fetchall(sql, params)]
    # SQLAlchemy reads a list as many parameter sets and a tuple as one.
    result = await connection.exec_driver_sql(sql, list(params) if many else tuple(params))
    return [tuple(row) for row in result.all()] if result.returns_rows else []


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, with the ORM changes still pending flushed first.

    These statements bypass the ORM's unit of work: without the flush, an UPDATE the code
    made earlier (a sign-up linking its visitor row) reached the database only after them,
    so a sign-up locked the stats rows before its visitor row while the tracking writer
    locks them the other way round: a deadlock on PostgreSQL. Statements go in the order
    the code wrote them, so the lock order documented in store/queries.py holds."""
    await session.flush()
    return await session.connection()


async def insert_rows(
    session: AsyncSession, spec: BulkInsert, rows: Sequence[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """Insert `rows` (values in `spec.columns` order) in the session's transaction and
    return the RETURNING rows (in no guaranteed order), or [] without RETURNING."""
    connection = await _connection(session)
    paramstyle = connection.dialect.paramstyle
    convert = _for_driver(session, spec.columns, spec.datetime_columns)
    returned: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT):
        chunk = rows[start : start + MAX_ROWS_PER_STATEMENT]
        flat = [value for row in chunk for value in convert(row)]
        returned += await _run(connection, _insert_sql(spec, paramstyle, len(chunk)), flat)
    return returned


async def update_rows(
    session: AsyncSession, spec: BulkUpdate, rows: Sequence[Sequence[Any]]
) -> None:
    """Run the UPDATE once per row (values in `spec.columns` order, then the key), as one
    executemany in the session's transaction."""
    if not rows:
        return
    connection = await _connection(session)
    convert = _for_driver(session, (*spec.columns, spec.key), spec.datetime_columns)
    params = [tuple(convert(row)) for row in rows]
    await _run(connection, _update_sql(spec, connection.dialect.paramstyle), params, many=True)
