"""The console in headless Chromium: the admin signs in through the stand-in's Sign in with
Slack page, creates an activity (first with a mistake the form points out), publishes it to
#marketing, and the screenshots land in docs/ for the README. Also on a phone-sized screen."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.i18n import translate
from tests.browser_support import phone, screenshot_path
from tests.conftest import EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card, sign_up

pytestmark = pytest.mark.browser


def zh(message: str) -> str:
    return translate(message, locale="zh")


async def sign_in_as(page: Any, stack: Stack, name: str, role: str) -> None:
    """Through the stand-in's Sign in with Slack page, as anyone of the sandbox."""
    from playwright.async_api import expect

    await page.goto(f"{stack.app_url}/console")
    await expect(page.get_by_role("heading", name="ShareTrail console")).to_be_visible()
    await page.get_by_role("link", name="Sign in with Slack").click()
    await expect(page.get_by_role("heading", name="Sign in to ShareTrail Sandbox")).to_be_visible()
    await page.get_by_role("button", name=name).click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    await expect(page.get_by_text(f"{name} · {role}")).to_be_visible()


async def sign_in_as_admin(page: Any, stack: Stack) -> None:
    await sign_in_as(page, stack, "Alex Admin", "Admin")


async def customers(stack: Stack, activity_id: int) -> None:
    """Ann shares the activity; three people open her link (two from WeChat), two sign up
    and go to Sam, the salesperson."""
    await add_global_roster(stack, SALES[0])
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    share_id = stack.services.codec.decode(card.url.rsplit("/", 1)[1]).share_id
    wechat = stack.services.share_link(share_id, "wechat")
    for n, url in enumerate((card.url, wechat, wechat)):
        async with aiohttp.ClientSession() as visitor:
            if n:
                fields = {"name": f"Customer {n}", "phone": f"+86 138 0000 000{n}"}
                await sign_up(stack, url, fields, browser=visitor)
            else:
                async with visitor.get(url, headers={"User-Agent": MOBILE_UA}) as response:
                    assert response.status == 200
    await stack.settle()


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
    await page.screenshot(path=str(screenshot_path("console-form-errors.png")), full_page=True)
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
    await page.screenshot(path=str(screenshot_path("console-activity.png")), full_page=True)

    await customers(console_stack, 1)
    await page.get_by_role("link", name="Open the report: charts, employees, sources").click()
    await expect(page.get_by_role("heading", name="Report: Spring product tour")).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(4)
    sources = page.locator("section", has=page.get_by_role("heading", name="By push source"))
    await expect(sources.get_by_role("cell", name="WeChat")).to_be_visible()
    await expect(sources.get_by_role("cell", name="Card QR")).to_be_visible()
    await page.screenshot(path=str(screenshot_path("console-report.png")), full_page=True)

    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("link", name="Spring product tour")).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(1)
    await page.screenshot(path=str(screenshot_path("console-dashboard.png")), full_page=True)

    await page.get_by_role("link", name="People").click()
    await page.get_by_label("Or a Slack user ID").fill("U_BOB")
    await page.get_by_role("button", name="Add salesperson").click()
    await expect(page.get_by_text("Added to the salespeople.")).to_be_visible()
    salespeople = page.locator("section", has=page.get_by_role("heading", name="Salespeople"))
    await expect(salespeople.get_by_role("cell", name="Bob Smith", exact=True)).to_be_visible()
    await page.screenshot(path=str(screenshot_path("console-people.png")), full_page=True)
    await context.close()

    # The salesperson: their leads, one opened, an outcome recorded.
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await sign_in_as(page, console_stack, "Sam Sales", "Salesperson")
    await page.get_by_role("link", name="My new leads").click()
    await page.get_by_role("link", name="Customer 1").click()
    await expect(page.get_by_role("link", name="+86 138 0000 0001")).to_have_attribute(
        "href", "tel:+8613800000001"
    )
    await page.get_by_role("button", name="Attended").click()
    await expect(page.get_by_text("Outcome recorded.")).to_be_visible()
    timeline = page.locator("section", has=page.get_by_role("heading", name="Timeline"))
    await expect(timeline.get_by_role("cell", name="(WeChat)")).to_be_visible()
    await expect(timeline.get_by_role("cell", name="Attended", exact=True)).to_be_visible()
    assert "wechat" not in await timeline.inner_text()
    await page.screenshot(path=str(screenshot_path("console-lead.png")), full_page=True)
    await context.close()

    # The employee: their own numbers, no admin pages.
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await sign_in_as(page, console_stack, "Ann Lee", "Employee")
    shares = page.locator("section", has=page.get_by_role("heading", name="Your shares"))
    await expect(shares.get_by_role("cell", name="Spring product tour")).to_be_visible()
    await expect(page.get_by_role("link", name="Activities")).to_have_count(0)
    await page.screenshot(path=str(screenshot_path("console-employee.png")), full_page=True)
    await context.close()

    # The same report for an admin whose browser asks for Chinese.
    context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{console_stack.app_url}/console")
    await expect(page.get_by_role("heading", name=zh("ShareTrail console"))).to_be_visible()
    await page.get_by_role("link", name=zh("Sign in with Slack")).click()
    await page.get_by_role("button", name="Alex Admin").click()
    await expect(page.get_by_role("heading", name=zh("Dashboard"))).to_be_visible()
    await page.goto(f"{console_stack.app_url}/console/activities/1/report")
    await expect(page.get_by_role("heading", name=zh("By push source"))).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(4)
    await page.screenshot(path=str(screenshot_path("console-zh.png")), full_page=True)
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
    await page.screenshot(path=str(screenshot_path("console-phone.png")), full_page=True)

    # The report and the people page fit the phone too (wide tables scroll in their card).
    activity_id = await create_activity(console_stack, name="Spring product tour")
    await customers(console_stack, activity_id)
    for path in (f"/console/activities/{activity_id}/report", "/console/people"):
        await page.goto(console_stack.app_url + path)
        await expect(page.locator("main h1")).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390, path
    await page.goto(f"{console_stack.app_url}/console/activities/{activity_id}/report")
    await expect(page.locator("svg.chart").first).to_be_visible()
    card = await page.locator(".chart-card").first.bounding_box()
    assert card is not None and card["width"] <= 390  # the chart scrolls inside its card
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.screenshot(path=str(screenshot_path("console-report-phone.png")), full_page=True)
