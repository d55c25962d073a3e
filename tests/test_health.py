"""GET /healthz (handlers/main.py) says whether the server can serve, and nothing else: queue
sizes, counts and errors are for admins through `/sharetrail health`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.flows import create_activity, get_share_card, view_landing

# What the old answer revealed to anyone who asked.
INTERNALS = ("pending", "queued", "messages", "activities", "database", "failures", "error")


async def test_healthz_is_status_only(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, "U_ANN", activity_id)
    await view_landing(stack, card.url)  # something queued and sent: nothing of it is told
    async with stack.http.get(f"{stack.app_url}/healthz") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == {"status": "ok"}


async def test_healthz_is_503_with_status_only_when_the_database_is_gone(stack: Stack) -> None:
    url = stack.runtime.db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        pytest.skip("the database is made unreachable by moving its SQLite file")
    database = Path(url.database)
    aside = database.with_name("aside.db")
    await stack.runtime.db.engine.dispose()  # new connections must open the file again
    database.rename(aside)
    database.mkdir()  # a directory where the file was: SQLite cannot open it
    try:
        async with stack.http.get(f"{stack.app_url}/healthz") as response:
            body = await response.text()
            assert response.status == 503
            assert await response.json() == {"status": "unavailable"}
    finally:
        database.rmdir()
        aside.rename(database)
    assert not any(word in body.lower() for word in INTERNALS), body
    async with stack.http.get(f"{stack.app_url}/healthz") as response:
        assert response.status == 200
