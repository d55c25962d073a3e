"""The page's beacon becomes one reply under the employee's "someone is viewing" DM."""

from __future__ import annotations

import json

from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card, view_landing, wait_for_dm


async def test_first_beacon_is_told_in_the_viewing_dms_thread(stack: Stack) -> None:
    card = await get_share_card(stack, EMPLOYEE, await create_activity(stack))
    await view_landing(stack, card.url)
    viewing = await wait_for_dm(stack, EMPLOYEE, "viewing your card")
    await stack.settle()

    beacon = {"dwell_ms": 125_000, "scroll_pct": 90, "clicks": ["phone"]}
    async with stack.http.post(f"{card.url}/beacon", data=json.dumps(beacon)) as response:
        assert response.status == 204
    await stack.settle()
    replies = [
        c for c in stack.slack.calls_to("chat.postMessage") if "Read for" in str(c.args["text"])
    ]
    assert len(replies) == 1
    assert replies[0].args["thread_ts"] == viewing.ts
    assert replies[0].args["text"] == (
        "📖 Read for 2 min, scrolled 90% of the page, tapped your phone number."
    )

    async with stack.http.post(f"{card.url}/beacon", data=json.dumps(beacon)) as response:
        assert response.status == 204  # a later beacon of the same view: no second reply
    await stack.settle()
    assert (
        sum("Read for" in str(c.args["text"]) for c in stack.slack.calls_to("chat.postMessage"))
        == 1
    )


async def test_preview_bots_beacons_tell_nobody(stack: Stack) -> None:
    card = await get_share_card(stack, EMPLOYEE, await create_activity(stack))
    await view_landing(stack, card.url, user_agent="WhatsApp/2.23.20.0 A")
    async with stack.http.post(
        f"{card.url}/beacon",
        data=json.dumps({"dwell_ms": 1000}),
        headers={"User-Agent": "WhatsApp/2.23.20.0 A"},
    ) as response:
        assert response.status == 204
    await stack.settle()
    assert not any(
        "Read for" in str(c.args["text"]) for c in stack.slack.calls_to("chat.postMessage")
    )
