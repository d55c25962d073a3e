"""Alembic migrations, run programmatically on an async engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Column, Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from store.db import with_retries

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock every migrating process takes (any fixed bigint; this one is
# "ShTrMigr" in ASCII), so replicas started together migrate one after the other.
MIGRATION_LOCK_KEY = 0x5368_5472_4D69_6772


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def include_object(dialect: str) -> Callable[..., bool]:
    """Autogenerate's filter: SQLite reflects an index's columns but not their DESC, so
    indexes with sorted columns are compared on PostgreSQL only (not dropped and re-added)."""
    sorted_indexes = {
        index.name
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if not all(isinstance(e, Column) for e in index.expressions)
    }

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (dialect == "sqlite" and type_ == "index" and name in sorted_indexes)

    return include


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database schema to the newest revision (`serve` on start, `migrate`).

    On PostgreSQL the migration transaction first takes an advisory lock, held until it
    commits: replicas started together on an empty database otherwise each run Alembic,
    and all but one die creating the same tables (duplicate key on pg_type). The one that
    waited then finds the schema at head and does nothing."""

    async def once() -> None:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_upgrade)

    await with_retries(once)
