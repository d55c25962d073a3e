"""The Alembic head builds exactly the tables the models describe, on SQLite and PostgreSQL,
and the newest revision can be rolled back and replayed."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables)
from store.db import Database
from store.migrate import alembic_config


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


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
