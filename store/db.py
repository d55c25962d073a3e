"""Async engine and per-unit-of-work sessions."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from store.sqlite_files import make_private

log = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL's SQLSTATEs for "this transaction was rolled back, run it again": 40001
# serialization_failure, 40P01 deadlock_detected (PostgreSQL docs, "Serialization Failure
# Handling"). SQLite's equivalent is "database is locked" after busy_timeout.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
# A unit of work runs at most this many times; between attempts it sleeps a random time up
# to RETRY_BASE_S * 2**attempt ("full jitter"), so the transactions that collided do not
# collide again in lockstep.
RETRY_ATTEMPTS = 5
RETRY_BASE_S = 0.02


def is_transient(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure: the database rolled the transaction
    back, and running the whole unit of work again is safe."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


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


async def with_retries(attempt: Callable[[], Awaitable[T]], *, attempts: int = RETRY_ATTEMPTS) -> T:
    """Await `attempt()` (one whole transaction) again while it fails transiently: bounded,
    jittered, so concurrent writers (the tracking writer, other replicas, a migration)
    never turn a customer's request into an error."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except DBAPIError as exc:
            if number == attempts or not is_transient(exc):
                raise
            delay = random.uniform(0, RETRY_BASE_S * 2**number)
            log.warning(
                "transaction rolled back (%s); attempt %d of %d in %.3fs",
                type(exc.orig).__name__,
                number + 1,
                attempts,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


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

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` as one unit of work (one session, one transaction), run again whole
        when the database rolls it back for a deadlock or serialization failure."""

        async def once() -> T:
            async with self.session() as session:
                return await work(session)

        return await with_retries(once)

    async def dispose(self) -> None:
        await self.engine.dispose()
