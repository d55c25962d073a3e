"""The check-in page in headless Chromium asking for Chinese: what its script says (location
found with its accuracy, access denied, coordinates typed) is Chinese, and so are the form's
errors; nothing English is left on the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import phone
from tests.conftest import Stack
from tests.records_flows import check_in_link, lead_setup
from tests.zh_support import english_left, page_text

pytestmark = pytest.mark.browser

ZH = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
NAMES = ("Wang Fang", "Acme", "Spring launch webinar")


async def no_english(page: Any) -> None:
    body = await page.content()
    status = await page.locator("#geo-status").inner_text()
    assert english_left(status) == [], status
    assert english_left(page_text(body), allow=NAMES) == [], english_left(page_text(body))


async def test_check_in_script_speaks_chinese(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    setup = await lead_setup(stack)
    page = await phone(
        browser,
        geolocation={"latitude": 31.23, "longitude": 121.47, "accuracy": 25},
        permissions=["geolocation"],
        **ZH,
    )
    await page.goto(await check_in_link(stack, setup))
    status = page.locator("#geo-status")
    await expect(status).to_have_text("📍 已获取位置，精度 ±25 米。")
    await expect(page.locator("#accuracy")).to_have_value("25")
    await no_english(page)

    denied = await phone(browser, **ZH)  # no geolocation permission granted
    await denied.goto(await check_in_link(stack, setup))
    await expect(denied.locator("#geo-status")).to_contain_text("位置访问被拒绝")
    await no_english(denied)
    await denied.get_by_role("button", name="签到", exact=True).click()  # nothing to go on
    await expect(denied.get_by_text("需要你的位置")).to_be_visible()
    await no_english(denied)

    await denied.locator("#lat").fill("31.2304")
    await denied.locator("#lon").fill("121.4737")
    await denied.locator("#accuracy").fill("12")
    await denied.locator("#met_at").fill("")
    await denied.get_by_role("button", name="签到", exact=True).click()  # no meeting time
    await expect(denied.locator("#geo-status")).to_have_text("使用已输入的坐标（±12 米）。")
    await no_english(denied)
