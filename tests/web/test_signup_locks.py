"""A sign-up racing the tracking writer on PostgreSQL: row locks in one order, and a
sign-up the database rolls back for a deadlock is run again (issue 13 §2).

The tracking writer's batch locks the visitor's share_visitors row, then the share_stats
and employee_stats rows. A second connection here plays that writer, holding its locks
at the moment the sign-up needs them; its deadlock_timeout is long, so when there is a
deadlock PostgreSQL always picks the sign-up as the victim.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from tests.conftest import SALES, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    delivered,
    dm_texts,
    get_share_card,
    sign_up,
    view_landing,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@asynccontextmanager
async def writer(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction, acting as a tracking writer that never gives way."""
    url = stack.runtime.db.engine.url
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await connection.execute("SET deadlock_timeout = '30s'")
        async with connection.transaction():
            yield connection
    finally:
        await connection.close()


async def deadlocks(stack: Stack) -> int:
    """Deadlocks PostgreSQL has detected in this test's database."""
    async with writer(stack) as connection:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        count: int = await connection.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
        return count


async def until_waiting_for_a_lock(stack: Stack, table: str) -> None:
    """Until a statement of the app on `table` waits for a row lock."""
    deadline = time.monotonic() + 30
    async with writer(stack) as watcher:
        while True:
            await watcher.execute("SELECT pg_stat_clear_snapshot()")
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE $1",
                f"%{table}%",
            )
            if waiting:
                return
            assert time.monotonic() < deadline, f"the sign-up never waited for {table}"
            await asyncio.sleep(0.02)  # pg_stat_activity offers no event to await


async def viewed_card(stack: Stack) -> tuple[str, int, int]:
    """An activity, a card, one counted view: (url, share id, employee id); settled."""
    await add_global_roster(stack, SALES[0])
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, "U_ANN", activity_id)
    await view_landing(stack, card.url)
    await stack.settle()
    async with writer(stack) as connection:
        share_id, employee_id = await connection.fetchrow(
            "SELECT id, employee_id FROM shares WHERE activity_id = $1", activity_id
        )
    return card.url, share_id, employee_id


FORM = {"name": "Wang Fang", "phone": "+8613800000001"}


async def test_signup_holds_its_visitor_row_before_it_takes_the_stats_rows(stack: Stack) -> None:
    """The writer's order: when the sign-up waits for a stats row, it already holds its
    visitor's row (so it never holds a stats row a writer waits for while it waits for the
    visitor row the writer holds)."""
    url, share_id, _ = await viewed_card(stack)
    async with writer(stack) as tracking:
        await tracking.execute("UPDATE share_stats SET views = views WHERE share_id = $1", share_id)
        signup = asyncio.create_task(sign_up(stack, url, FORM))
        await until_waiting_for_a_lock(stack, "share_stats")
        async with writer(stack) as probe:
            with pytest.raises(asyncpg.LockNotAvailableError):
                await probe.execute(
                    "SELECT 1 FROM share_visitors WHERE share_id = $1 FOR UPDATE NOWAIT",
                    share_id,
                )
    await signup


async def test_a_signup_rolled_back_for_a_deadlock_runs_again(stack: Stack) -> None:
    """A real deadlock, the sign-up its victim: the customer still gets the success page,
    one lead, one DM each, and the sign-up counted once."""
    url, share_id, employee_id = await viewed_card(stack)
    before = await deadlocks(stack)
    async with writer(stack) as tracking:
        await tracking.execute(
            "UPDATE employee_stats SET views = views WHERE employee_id = $1", employee_id
        )
        signup = asyncio.create_task(sign_up(stack, url, FORM))
        await until_waiting_for_a_lock(stack, "employee_stats")
        # The sign-up holds the visitor's row and waits for ours: take its row, a deadlock.
        await tracking.execute(
            "UPDATE share_visitors SET visits = visits WHERE share_id = $1", share_id
        )
    await signup  # 200, not a 500
    await delivered(stack)
    assert await deadlocks(stack) == before + 1
    async with writer(stack) as connection:
        leads = await connection.fetchval("SELECT count(*) FROM leads")
        signups = await connection.fetchval(
            "SELECT signups FROM employee_stats WHERE employee_id = $1", employee_id
        )
    assert (leads, signups) == (1, 1)
    assert len([t for t in dm_texts(stack, SALES[0]) if "Wang Fang" in t]) == 1
    assert len([t for t in dm_texts(stack, "U_ANN") if "Wang Fang" in t]) == 1
