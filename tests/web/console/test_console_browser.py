"""The console in headless Chromium: the admin signs in through the stand-in's Sign in with
Slack page, creates an activity (first with a mistake the form points out), publishes it to
#marketing, and the screenshots land in docs/ for the README. Also on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import phone
from tests.conftest import Stack

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[3] / "docs"


async def sign_in_as_admin(page: Any, stack: Stack) -> None:
    from playwright.async_api import expect

    await page.goto(f"{stack.app_url}/console")
    await expect(page.get_by_role("heading", name="ShareTrail console")).to_be_visible()
    await page.get_by_role("link", name="Sign in with Slack").click()
    await expect(page.get_by_role("heading", name="Sign in to ShareTrail Sandbox")).to_be_visible()
    await page.get_by_role("button", name="Alex Admin").click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    await expect(page.get_by_text("Alex Admin · Admin")).to_be_visible()


async def test_admin_creates_and_publishes_an_activity(console_stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await sign_in_as_admin(page, console_stack)

    await page.get_by_role("link", name="Activities").click()
    await page.get_by_role("link", name="New activity").click()
    await page.get_by_label("Name").fill("Spring product tour")
    await page.get_by_label("Starts").fill("2030-03-01T14:00")
    await page.get_by_label("Ends").fill("2030-03-01T13:00")  # a mistake: ends first
    await page.get_by_label("Material type").select_option("event_invitation")
    await page.get_by_label("Landing page headline").fill("See what is new, over coffee")
    await page.get_by_label("Intro").fill("Demos, Q&A and a look at the roadmap.")
    await page.get_by_label("Target views").fill("500")
    await page.get_by_label("Target sign-ups").fill("0")  # another: a target must be at least 1
    await page.get_by_label("Publish in channel (optional)").fill("C_MARKETING")
    await page.get_by_role("button", name="Create activity").click()
    await expect(page.get_by_text("The end must be after the start.")).to_be_visible()
    await expect(page.get_by_text("Targets must be whole numbers")).to_be_visible()
    await expect(page.get_by_label("Name")).to_have_value("Spring product tour")
    DOCS.mkdir(exist_ok=True)
    await page.screenshot(path=str(DOCS / "console-form-errors.png"), full_page=True)
    assert await console_stack.services.activities() == []

    await page.get_by_label("Ends").fill("2030-03-01T16:00")
    await page.get_by_label("Target sign-ups").fill("50")
    await page.get_by_role("button", name="Create activity").click()
    await expect(page.get_by_role("heading", name="Spring product tour")).to_be_visible()
    await expect(page.get_by_text("published", exact=True)).to_be_visible()
    await expect(page.get_by_text("Published in the channel.")).to_be_visible()
    posted = await console_stack.slack.wait_until(
        lambda: console_stack.slack.last_message("C_MARKETING")
    )
    assert "Spring product tour" in posted.text
    await page.screenshot(path=str(DOCS / "console-activity.png"), full_page=True)

    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("link", name="Spring product tour")).to_be_visible()
    await page.screenshot(path=str(DOCS / "console-dashboard.png"), full_page=True)
    await context.close()


async def test_readable_on_a_phone(console_stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    page = await phone(browser)
    await sign_in_as_admin(page, console_stack)
    await page.get_by_role("link", name="Activities").click()
    await page.get_by_role("link", name="New activity").click()
    name = page.get_by_label("Name")
    await expect(name).to_be_visible()
    # Nothing wider than the screen; inputs use the page's font, at 16px (no zoom on focus).
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    font = await name.evaluate("e => getComputedStyle(e).fontFamily")
    assert font == await page.evaluate("getComputedStyle(document.body).fontFamily")
    assert await name.evaluate("e => getComputedStyle(e).fontSize") == "16px"
    await page.screenshot(path=str(DOCS / "console-phone.png"), full_page=True)
