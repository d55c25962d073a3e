"""Units of work run again whole when the database rolls them back for a deadlock or a
serialization failure: bounded, and never for other errors."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store import db as db_mod
from store.db import Database
from store.models import AppSecret


class PostgresError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def failure(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE …", None, PostgresError("rolled back", sqlstate))


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_mod, "RETRY_BASE_S", 0.0)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_deadlock_or_serialization_failure_runs_the_whole_unit_again(
    db: Database, sqlstate: str
) -> None:
    attempts = 0

    async def work(session: AsyncSession) -> int:
        nonlocal attempts
        attempts += 1
        session.add(AppSecret(name=f"attempt-{attempts}", value="x"))
        await session.flush()
        if attempts < 3:
            raise failure(sqlstate)
        return attempts

    assert await db.transaction(work) == 3
    async with db.session() as session:
        names = (await session.exec(select(AppSecret.name))).all()
    assert names == ["attempt-3"]  # the rolled-back attempts left nothing behind


async def test_retries_are_bounded(db: Database) -> None:
    attempts = 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        raise failure("40P01")

    with pytest.raises(DBAPIError):
        await db.transaction(work)
    assert attempts == db_mod.RETRY_ATTEMPTS


async def test_other_errors_are_not_retried(db: Database) -> None:
    attempts = 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        raise IntegrityError("INSERT …", None, PostgresError("duplicate key", "23505"))

    with pytest.raises(IntegrityError):
        await db.transaction(work)
    assert attempts == 1
