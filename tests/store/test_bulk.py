"""Driver-level batch writes store exactly what SQLAlchemy would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import col, select

from bot import tracking
from store.bulk import MAX_ROWS_PER_STATEMENT, BulkInsert, insert_rows, update_rows
from store.db import Database
from store.models import ShareVisitor, View
from tests.store.test_recorder import make_share

# Every column a new view is written with (the beacon's columns come later).
VIEW_COLUMNS = tuple(
    column.name
    for column in View.__table__.columns  # type: ignore[attr-defined]
    if column.name not in ("id", "dwell_ms", "scroll_pct")
)
NEW_VIEW = BulkInsert(
    table="views", columns=VIEW_COLUMNS, returning=("id",), datetime_columns=("at",)
)
# The writer's own statements for share_visitors.
VISITORS = tracking._NEW_VISITORS  # returns (share_id, visitor_key, id)
COUNTED_AGAIN = tracking._COUNTED_AGAIN


MOMENTS = [
    datetime(2026, 12, 1, 8, 0, 0, tzinfo=UTC),  # no fraction: still six digits on SQLite
    datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 1, 16, 30, 5, 7, tzinfo=timezone(timedelta(hours=8))),  # not UTC
]


async def test_inserted_rows_equal_the_orms_byte_for_byte(db: Database) -> None:
    share = await make_share(db)
    assert share.id is not None
    rows = []
    async with db.session() as session:
        for n, moment in enumerate(MOMENTS):
            named = {
                "share_id": share.id,
                "activity_id": share.activity_id,
                "employee_id": share.employee_id,
                "visitor_key": f"key-{n}",
                "visitor_hash": f"hash-{n}",
                "ua_class": "mobile",
                "is_bot": n == 1,
                "is_own": False,
                "counted": n != 1,
                "source": "dm",
                "lead_id": None,
                "clicks": "",
                "at": moment,
            }
            values = tuple(named[name] for name in VIEW_COLUMNS)
            rows.append(values)
            session.add(View(**named))
        await session.flush()
        inserted = await insert_rows(session, NEW_VIEW, rows)
    assert len(inserted) == len(MOMENTS)

    async with db.session() as session:
        connection = await session.connection()
        stored = (
            await connection.exec_driver_sql(
                f"SELECT {', '.join(VIEW_COLUMNS)} FROM views ORDER BY id"
            )
        ).all()
        read_back = (await session.exec(select(View).order_by(col(View.id)))).all()
    by_orm, by_bulk = stored[: len(MOMENTS)], stored[len(MOMENTS) :]
    assert by_bulk == by_orm  # the database's own values, as the driver returns them
    assert [v.at for v in read_back[len(MOMENTS) :]] == MOMENTS  # the same instants, aware
    assert all(v.at.tzinfo is not None for v in read_back)


async def test_conflicting_rows_are_skipped_and_not_returned(db: Database) -> None:
    share = await make_share(db)
    moment = MOMENTS[0]
    async with db.session() as session:
        first = await insert_rows(
            session,
            VISITORS,
            [(share.id, "a", moment, moment, 1), (share.id, "b", moment, moment, 1)],
        )
    async with db.session() as session:
        second = await insert_rows(
            session,
            VISITORS,
            [(share.id, "b", moment, moment, 1), (share.id, "c", moment, moment, 1)],
        )
    assert sorted(key for _, key, _ in first) == ["a", "b"]
    assert [key for _, key, _ in second] == ["c"]


async def test_batches_larger_than_one_statement_return_every_row(db: Database) -> None:
    share = await make_share(db)
    count = MAX_ROWS_PER_STATEMENT * 2 + 7
    moment = MOMENTS[1]
    async with db.session() as session:
        returned = await insert_rows(
            session, VISITORS, [(share.id, f"v{n}", moment, moment, 1) for n in range(count)]
        )
    assert sorted(key for _, key, _ in returned) == sorted(f"v{n}" for n in range(count))
    assert len({row_id for _, _, row_id in returned}) == count


async def test_update_rows_sets_each_rows_values(db: Database) -> None:
    share = await make_share(db)
    moment, later = MOMENTS[0], MOMENTS[2]
    async with db.session() as session:
        inserted = await insert_rows(
            session,
            VISITORS,
            [(share.id, "a", moment, moment, 1), (share.id, "b", moment, moment, 1)],
        )
        ids = {key: row_id for _, key, row_id in inserted}
    async with db.session() as session:
        await update_rows(session, COUNTED_AGAIN, [(5, later, MOMENTS[1], ids["a"])])
        await update_rows(session, COUNTED_AGAIN, [])  # nothing to do is fine
    async with db.session() as session:
        visitors = {
            v.visitor_key: (v.visits, v.last_counted_at, v.first_seen)
            for v in await session.exec(select(ShareVisitor))
        }
    assert visitors == {"a": (5, later, MOMENTS[1]), "b": (1, moment, moment)}
