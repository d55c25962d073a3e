"""Async engine and per-unit-of-work sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from store.sqlite_files import make_private


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets the landing page read while the writer commits; NORMAL sync is durable in WAL
    # mode against application crashes (only an OS crash can lose the last transactions).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# Python's sqlite3 keeps up to 128 prepared statements per connection by default. The
# batched writes produce a differently sized multi-row INSERT per batch, each a large
# prepared program: with the default the process grew by ~60 MB over 6 × 20,000 views
# (bench/landing.py), with 16 it stays flat. The few hot statements re-prepare cheaply.
SQLITE_CACHED_STATEMENTS = 16


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("cached_statements", SQLITE_CACHED_STATEMENTS)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        make_private(engine.url)  # before the first connection creates the file
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """Owns the engine; hands out one session per unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_engine(url))

    @property
    def can_twin(self) -> bool:
        """False for an in-memory SQLite database: a second engine would get its own."""
        url = self.engine.url
        return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))

    def twin(self) -> Database:
        """Another engine on the same database, for use from another thread's event loop."""
        if not self.can_twin:
            raise ValueError("an in-memory database cannot be opened twice")
        return Database.from_url(self.engine.url.render_as_string(hide_password=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
