"""The check-in page says until when its link works, in the salesperson's zone (stored with
them, else the activity's; never plain UTC) and the page's language (issue 14 §1)."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from bot import i18n
from tests.conftest import Stack
from tests.records_flows import SALESPERSON, lead_setup
from tests.web.console.test_viewer_zone import store_zone
from tests.web.test_checkin import request_link

LA = "America/Los_Angeles"  # the activity's zone (its admin's)


async def page_text(stack: Stack, url: str, language: str = "en") -> str:
    async with stack.http.get(url, headers={"Accept-Language": language}) as response:
        assert response.status == 200
        return html.unescape(await response.text())


def expiry(url: str) -> datetime:
    return datetime.fromtimestamp(int(url.rsplit(".", 2)[1]), UTC)  # the token's signed expiry


async def test_the_check_in_page_says_until_when_in_the_salespersons_zone(stack: Stack) -> None:
    setup = await lead_setup(stack)
    activity = await stack.services.activity(setup.activity_id)
    assert activity.tz == LA
    url = await request_link(stack, setup)
    until = expiry(url)

    text = await page_text(stack, url)
    shown = i18n.format_moment(until, LA, locale="en")
    assert f"Valid until {shown} (Los Angeles time), once." in text, text
    assert "UTC" not in text
    text = await page_text(stack, url, "zh-CN")
    shown = i18n.format_moment(until, LA, locale="zh")
    assert f"有效期至 {shown}（洛杉矶时间）" in text, text

    await store_zone(stack, SALESPERSON, "Asia/Kolkata")  # their own zone, once known
    url = await request_link(stack, setup)
    text = await page_text(stack, url)
    shown = i18n.format_moment(expiry(url), "Asia/Kolkata", locale="en")
    assert f"Valid until {shown} (Kolkata time), once." in text, text
