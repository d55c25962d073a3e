"""The Alembic head builds exactly the tables the models describe, on SQLite and PostgreSQL,
and the newest revision can be rolled back and replayed; employee_stats is backfilled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, insert, inspect, select, text
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables)
from store.db import Database
from store.migrate import alembic_config, include_object
from store.models import Activity, EmployeeStats, Share, ShareStats
from store.queries import STAT_COLUMNS

EMPLOYEE_STATS_REVISION = "c967adc02d5e"
T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _differences(connection: Connection) -> list[Any]:
    opts = {"compare_type": True, "include_object": include_object(connection.dialect.name)}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, SQLModel.metadata))


def _sorting(connection: Connection, table: str, name: str) -> list[tuple[str, bool]]:
    """(column, descending) of an index, read where SQLAlchemy's SQLite reflection can't."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"PRAGMA index_xinfo({name})").all()
        return [(row[2], bool(row[3])) for row in rows if row[5]]  # key columns only
    [index] = [i for i in inspect(connection).get_indexes(table) if i["name"] == name]
    sorting = index.get("column_sorting", {})
    return [(c, "desc" in sorting.get(c, ())) for c in index["column_names"] if c]


async def test_head_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_newest_revision_rolls_back_and_forward(db: Database) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_revision(script.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with db.engine.begin() as connection:
        await connection.run_sync(
            lambda c: command.downgrade(alembic_config(c), str(head.down_revision))
        )
        before = await connection.run_sync(tables)
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        after = await connection.run_sync(tables)
    assert after >= before and {"contact_records", "check_ins"} <= after
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_leaderboard_index_is_in_leaderboard_order(db: Database) -> None:
    """Checked directly: on SQLite `_differences` cannot see an index's DESC."""
    async with db.engine.connect() as connection:
        sorting = await connection.run_sync(
            lambda c: _sorting(c, "employee_stats", "ix_employee_stats_rank")
        )
    assert sorting == [("points", True), ("signups", True), ("views", True), ("employee_id", False)]


async def test_employee_stats_is_backfilled_from_share_stats(db: Database) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    before = script.get_revision(EMPLOYEE_STATS_REVISION).down_revision
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda c: command.downgrade(alembic_config(c), str(before)))
    async with db.session() as session:
        # Only the columns the schema had then (later revisions add more to activities).
        launch, webinar = [
            (
                await session.exec(
                    insert(Activity)
                    .values(name=name, starts_at=T0, ends_at=T0, material_type="video")
                    .returning(Activity.id)  # type: ignore[arg-type]
                )
            ).scalar_one()
            for name in ("Launch", "Webinar")
        ]
        ann, bob, eve, idle = [
            (
                await session.exec(
                    # Core, not the model: later revisions add columns to employees.
                    text(
                        "INSERT INTO employees (user_id, name, title, phone, email, tz, "
                        "is_admin, notify, digest, updated_at) VALUES "
                        "(:user, '', '', '', '', 'UTC', false, true, false, :at) RETURNING id"
                    ),
                    params={"user": user, "at": T0},
                )
            ).scalar_one()
            for user in ("U_ANN", "U_BOB", "U_EVE", "U_IDLE")
        ]
        shares = [
            Share(activity_id=a, employee_id=e)
            for a, e in ((launch, ann), (webinar, ann), (launch, bob), (webinar, eve))
        ]
        session.add_all(shares)
        await session.flush()
        session.add_all(
            ShareStats(
                share_id=share.id,
                source=source,
                activity_id=share.activity_id,
                employee_id=share.employee_id,
                **dict(zip(STAT_COLUMNS, numbers, strict=True)),
            )
            for share, source, numbers in (
                (shares[0], "card_qr", (10, 7, 3, 2, 1, 127)),
                (shares[0], "dm", (4, 4, 1, 0, 0, 14)),
                (shares[1], "email", (2, 2, 0, 0, 0, 2)),
                (shares[2], "card_qr", (5, 3, 1, 1, 0, 33)),
                (shares[3], "dm", (0, 0, 1, 0, 0, 10)),
            )
        )
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
    async with db.session() as session:
        rows = (await session.exec(select(EmployeeStats))).scalars().all()
        sums = [func.sum(getattr(ShareStats, c)) for c in STAT_COLUMNS]
        grouped = await session.exec(
            select(ShareStats.employee_id, *sums).group_by(ShareStats.employee_id)
        )
        expected = {row[0]: tuple(int(v) for v in row[1:]) for row in grouped}
    backfilled = {r.employee_id: tuple(getattr(r, c) for c in STAT_COLUMNS) for r in rows}
    assert backfilled == expected and idle not in backfilled
    assert backfilled[ann] == (16, 13, 4, 2, 1, 143)
    assert backfilled[eve] == (0, 0, 1, 0, 0, 10)
