"""The customer's page on a phone in headless Chromium: the sign-up button at the top
takes them to the form; a form sent with a mistake comes back scrolled to the form with
the error on screen (not at the top of a long page); buttons and inputs are set in the
page's font. Screenshots: test-artifacts/screenshots/ (docs/ with UPDATE_DOCS_SCREENSHOT=1)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.i18n import translate
from tests.browser_support import phone, screenshot_path
from tests.conftest import EMPLOYEE, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card

pytestmark = pytest.mark.browser


def zh(message: str) -> str:
    return translate(message, locale="zh")


AGENDA = (
    "Welcome and coffee",
    "What is new in ShareTrail 2: a tour of the release",
    "Live demo: from a share card to a signed-up customer in two minutes",
    "Customer story: how a 40-person sales team doubled its sign-ups",
    "Reports and charts your managers will actually read",
    "Roadmap and Q&A with the product team",
    "Hands-on: set up your first activity with our engineers",
    "Drinks and networking",
)
LONG_INTRO = "A 45-minute tour of the release, then time with the team.\n\n" + "\n\n".join(
    f"{14 + n // 2}:{30 * (n % 2):02d}  {item}" for n, item in enumerate(AGENDA * 2)
)


async def test_sign_up_button_and_errors_in_view(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack, intro=LONG_INTRO)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    page = await phone(browser)
    await page.goto(card.url)
    form = page.locator("#signup")
    await expect(form).not_to_be_in_viewport()  # a long page: the form is far below
    await page.screenshot(path=str(screenshot_path("landing-phone.png")))
    await page.get_by_role("link", name="Sign up", exact=True).click()
    await expect(page.get_by_label("Name")).to_be_in_viewport()

    await page.get_by_label("Phone").fill("call me maybe")
    await page.get_by_role("button", name="Sign me up").click()
    error = page.get_by_text("That does not look like a phone number")
    await expect(error).to_be_visible()
    await expect(error).to_be_in_viewport()
    await expect(page.get_by_role("alert")).to_be_in_viewport()
    body_font = await page.evaluate("getComputedStyle(document.body).fontFamily")
    for control in (page.get_by_role("button", name="Sign me up"), page.get_by_label("Name")):
        assert await control.evaluate("e => getComputedStyle(e).fontFamily") == body_font

    await page.get_by_label("Name").fill("Wang Fang")
    await page.get_by_label("Phone").fill("+86 138 0000 1111")
    await page.get_by_role("button", name="Sign me up").click()
    await expect(page.get_by_role("heading", name="You're signed up, Wang Fang!")).to_be_visible()
    await expect(page.get_by_role("link", name="Add to calendar")).to_be_visible()
    await page.screenshot(path=str(screenshot_path("landing-signed-up.png")))
    await page.context.close()

    # A Chinese phone: the same page in Chinese (Accept-Language), for the README.
    assert zh("Sign me up") != "Sign me up"
    chinese = await create_activity(
        stack,
        name="ShareTrail 2 新品发布会",
        headline="抢先体验 ShareTrail 2",
        intro="45 分钟产品导览，现场演示与问答。\n\n14:00 签到与咖啡\n14:30 新功能介绍"
        "\n15:15 现场演示",
    )
    card = await get_share_card(stack, EMPLOYEE, chinese)
    page = await phone(browser, locale="zh-CN")
    await page.goto(card.url)
    await expect(page.get_by_role("button", name=zh("Sign me up"))).to_be_visible()
    await expect(page.get_by_role("link", name=zh("Sign up"), exact=True)).to_be_visible()
    await page.screenshot(path=str(screenshot_path("landing-zh.png")))
    await page.context.close()
