"""The employee's own visits (through their preview link) are stored, flagged, not counted."""

from __future__ import annotations

import re

from sqlmodel import select

from store.models import View
from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card, view_landing


async def test_preview_link_marks_the_browser_as_the_employees(stack: Stack) -> None:
    card = await get_share_card(stack, EMPLOYEE, await create_activity(stack))
    match = re.search(r"<(http\S+\?me=[^|>]+)\|", card.message.text)
    assert match, card.message.text
    preview = match.group(1)

    async with stack.http.get(preview, allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == card.url.replace(stack.app_url, "")
        assert "st_own" in response.cookies
    page = await view_landing(stack, preview)  # follows the redirect with the cookie
    assert "Spring launch webinar" in page
    await view_landing(stack, card.url)
    await stack.settle()

    async with stack.runtime.db.session() as session:
        views = list(await session.exec(select(View)))
    assert len(views) == 2 and all(v.is_own and not v.counted for v in views)
    assert (await stack.services.report(1)).totals.views == 0
    assert not any(
        "viewing your card" in str(c.args.get("text"))
        for c in stack.slack.calls_to("chat.postMessage")
    )


async def test_a_forged_preview_token_is_just_a_visit(stack: Stack) -> None:
    card = await get_share_card(stack, EMPLOYEE, await create_activity(stack))
    async with stack.http.get(f"{card.url}?me=1..forged", allow_redirects=False) as response:
        assert response.status == 303
        assert "st_own" not in response.cookies
    await view_landing(stack, card.url)
    await stack.settle()
    assert (await stack.services.report(1)).totals.views == 1
