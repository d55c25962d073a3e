"""/console/audit in headless Chromium: the admin opens the log from the header, sees who
did what (Slack and console actions alike), narrows it to CSV exports with the filter form;
the screenshot lands in docs/console-audit.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import screenshot_path
from tests.conftest import ADMIN, SALES, Stack
from tests.flows import add_global_roster, create_activity
from tests.web.console.test_console_browser import sign_in_as_admin

pytestmark = pytest.mark.browser


async def test_audit_log_in_the_browser(console_stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    stack = console_stack
    await add_global_roster(stack, SALES[0])
    activity_id = await create_activity(stack)
    await stack.services.export_csv(activity_id, audited_by=ADMIN)
    await stack.services.close_activity(activity_id, by_user_id=ADMIN)

    context = await browser.new_context(viewport={"width": 1100, "height": 800})
    page = await context.new_page()
    await sign_in_as_admin(page, stack)
    await page.get_by_role("link", name="Audit").click()
    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.locator("table.audit tbody tr")
    await expect(rows).to_have_count(5)  # roster, create, publish, export, close
    await expect(rows.first).to_contain_text("Activity closed")
    await expect(rows.first).to_contain_text("Alex Admin")
    await expect(page.get_by_role("cell", name="Salespeople added")).to_be_visible()
    await page.screenshot(path=str(screenshot_path("console-audit.png")), full_page=True)

    await page.get_by_label("Action").select_option(label="CSV export")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(f"activity:{activity_id}")
    await context.close()
