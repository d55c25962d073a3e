"""Chart images behind signed links (handlers/web/charts.py) are drawn in the language of
the person they were made for: Slack fetches them without that person's Accept-Language,
so the link carries the locale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.activities import ActivityDraft
from bot.reports import render
from tests.conftest import ADMIN, Stack


async def _png(stack: Stack, url: str) -> bytes:
    async with stack.http.get(url) as response:
        assert response.status == 200 and response.content_type == "image/png"
        return await response.read()


async def test_a_zh_admins_home_chart_is_drawn_in_zh(stack: Stack) -> None:
    stack.slack.workspace.users[ADMIN].locale = "zh-CN"
    start = datetime.now(UTC) + timedelta(days=3)
    draft = ActivityDraft("春季发布会", start, start + timedelta(hours=2), "event_invitation")
    await stack.services.create_activity(draft, created_by=ADMIN)
    since = stack.slack.mark()
    await stack.slack.open_app_home(ADMIN)
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(ADMIN)
    assert home is not None
    (image,) = [block for block in home.view["blocks"] if block["type"] == "image"]
    token = image["image_url"].rsplit("/", 1)[1].removesuffix(".png")
    activity_id, kind, locale = stack.services.chart_links.read(token)
    assert (kind, locale) == ("daily", "zh")

    zh = await _png(stack, image["image_url"])  # a real GET into the app, as Slack's
    en = await _png(stack, stack.services.chart_links.url(activity_id, kind, locale="en"))
    data = await stack.services.reports.chart_data(activity_id, kind)
    assert zh == render.render(data, "png", locale="zh") != en
    assert en == render.render(data, "png", locale="en")
