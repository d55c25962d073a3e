"""App Home and the details modal."""

from __future__ import annotations

import json

from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card, view_landing


async def test_app_home_lists_my_activities_with_stats(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    await stack.settle()

    since = stack.slack.mark()
    deliveries = await stack.slack.open_app_home(EMPLOYEE)
    assert [d.status for d in deliveries] == [200]
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(EMPLOYEE)
    assert home is not None and home.view["type"] == "home"
    text = json.dumps(home.view, ensure_ascii=False)
    assert "Spring launch webinar" in text
    assert '"action_id": "my_stats", "value": "1"' in text
    assert "1 view · 1 unique · 0 sign-ups" in text

    second = await create_activity(stack, name="Autumn summit")
    await stack.slack.open_app_home(EMPLOYEE)
    await stack.slack.wait_until(lambda: "Autumn summit" in json.dumps(home.view))
    assert f'"action_id": "get_share_card", "value": "{second}"' in json.dumps(home.view)


async def test_details_modal_offers_the_card(stack: Stack) -> None:
    await create_activity(stack)
    since = stack.slack.mark()
    await stack.slack.click_button(EMPLOYEE, "activity_details", channel="C_MARKETING")
    opened = await stack.slack.wait_for_call("views.open", since=since)
    text = json.dumps(opened.args["view"], ensure_ascii=False)
    for expected in ("Spring launch webinar", "Event invitation", "See what's new", "100"):
        assert expected in text
    details = stack.slack.workspace.views[
        next(
            v
            for v in stack.slack.workspace.views
            if stack.slack.workspace.views[v].user == EMPLOYEE
        )
    ]
    card = await get_share_card(stack, EMPLOYEE, 1, view_id=details.id, channel=None)
    assert card.url.startswith(stack.app_url)
