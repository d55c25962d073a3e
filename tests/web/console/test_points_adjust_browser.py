"""A manual points adjustment in headless Chromium: the admin gives Ann points with a
reason on /console/people, then tries to take back more than she has (refused beside the
field, the form kept), then takes back some; each is a ledger entry. Screenshot in docs/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import screenshot_path
from tests.conftest import EMPLOYEE, Stack
from tests.ledger_support import assert_ledger_consistent
from tests.web.console.test_console_browser import sign_in_as_admin

pytestmark = pytest.mark.browser


async def test_admin_adjusts_points_in_the_browser(console_stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    services = console_stack.services
    ann = await services.sync_employee(EMPLOYEE)
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await sign_in_as_admin(page, console_stack)
    await page.get_by_role("link", name="People").click()
    await expect(page.get_by_role("heading", name="Points", exact=True)).to_be_visible()

    await page.get_by_label("Employee").select_option(EMPLOYEE)
    await page.get_by_label("Points", exact=True).fill("40")
    await page.get_by_label("Reason").fill("Spoke at the customer day")
    await page.get_by_role("button", name="Adjust points").click()
    await expect(page.get_by_text("The points are adjusted")).to_be_visible()
    await expect(page.get_by_role("cell", name="40", exact=True)).to_be_visible()

    await page.get_by_label("Remove points").check()
    await page.get_by_label("Points", exact=True).fill("55")
    await page.get_by_label("Reason").fill("Counted twice")
    await page.get_by_role("button", name="Adjust points").click()
    message = f"{ann.name} has only 40 points available: remove at most that."
    await expect(page.locator("#e-points")).to_have_text(message)
    await expect(page.get_by_label("Reason")).to_have_value("Counted twice")
    await expect(page.get_by_label("Remove points")).to_be_checked()
    assert (await services.points.balance(EMPLOYEE)).available == 40

    await page.get_by_label("Points", exact=True).fill("15")
    await page.get_by_role("button", name="Adjust points").click()
    await expect(page.get_by_text("The points are adjusted")).to_be_visible()
    await expect(page.get_by_role("cell", name="25", exact=True)).to_be_visible()
    await page.screenshot(path=str(screenshot_path("console-points-adjust.png")), full_page=True)
    assert (await services.points.balance(EMPLOYEE)).available == 25
    async with services.db.session() as session:
        await assert_ledger_consistent(session)
    await context.close()
