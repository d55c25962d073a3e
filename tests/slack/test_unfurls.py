"""A share link pasted in Slack unfurls with its activity (link_shared → chat.unfurl): a
preview, never a view, and nobody is DM'd about it."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.activities import format_when
from store.models import View
from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, dm_count, get_share_card

COLLEAGUE = "U_LI"


@pytest.fixture
def unfurling(stack: Stack) -> Stack:
    """The stand-in unfurls links on the app's domain, as the manifest's unfurl_domains do."""
    stack.slack.unfurl_domains = ["127.0.0.1"]
    return stack


@pytest.mark.usefixtures("instant_tallies")
async def test_a_pasted_share_link_unfurls_as_a_preview(unfurling: Stack) -> None:
    stack = unfurling
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await stack.settle()
    dms_before = dm_count(stack, EMPLOYEE)

    since = stack.slack.mark()
    message = await stack.slack.say(
        COLLEAGUE,
        "C_GENERAL",
        f"Worth a look: {card.url} (and not ours: {stack.app_url}/s/forged-code)",
    )
    call = await stack.slack.wait_for_call("chat.unfurl", since=since)
    assert call.ok
    await stack.settle()

    [unfurl] = message.attachments
    assert unfurl["app_unfurl_url"] == card.url
    shown = json.dumps(unfurl["blocks"], ensure_ascii=False)
    assert unfurl["blocks"][0]["type"] == "rich_text"  # the admin's words, verbatim
    assert "See what's new in ShareTrail 2" in shown
    image_url = unfurl["blocks"][1]["image_url"]
    async with stack.http.get(image_url) as response:
        assert response.status == 200 and response.content_type == "image/png"
    activity = await stack.services.activity(activity_id)
    assert activity.name in shown
    assert format_when(activity) in shown

    async with stack.runtime.db.session() as session:
        [preview] = (await session.exec(select(View))).all()
    assert (preview.is_bot, preview.counted, preview.ua_class) == (True, False, "unfurl")
    _, row = await stack.services.my_stats(EMPLOYEE, activity_id)
    assert (row.views, row.unique_visitors, row.points) == (0, 0, 0)
    assert dm_count(stack, EMPLOYEE) == dms_before  # no "someone is looking" DM


async def test_links_elsewhere_are_not_unfurled(unfurling: Stack) -> None:
    stack = unfurling
    await create_activity(stack)
    since = stack.slack.mark()
    await stack.slack.say(COLLEAGUE, "C_GENERAL", f"Status: {stack.app_url}/healthz")
    await stack.settle()
    assert stack.slack.calls_to("chat.unfurl", since) == []
    async with stack.runtime.db.session() as session:
        assert (await session.exec(select(View))).all() == []
