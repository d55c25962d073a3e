"""A migrated database per test, on SQLite and (when the service is up) PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from store.db import Database
from store.migrate import upgrade

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


async def _postgres_database() -> str | None:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"sharetrail_{uuid.uuid4().hex[:12]}"
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        pg_name = await _postgres_database()
        if pg_name is None:
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    database = Database.from_url(url)
    await upgrade(database.engine)
    yield database
    await database.dispose()
    if pg_name:
        await _drop_postgres_database(pg_name)
