"""/console/rewards in headless Chromium: the admin adds a reward (a text file posing as a
picture is refused, in words, beside the field), then a real picture; an employee's
redemption waits in the queue; the admin refuses it with a note. Screenshot in docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import ledger
from tests.browser_support import screenshot_path
from tests.conftest import EMPLOYEE, Stack
from tests.web.console.test_console_browser import sign_in_as_admin
from tests.web.console.test_rewards import png

pytestmark = pytest.mark.browser


async def test_admin_keeps_the_catalogue_and_the_queue(
    console_stack: Stack, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    fake = tmp_path / "hoodie.png"
    fake.write_text("<script>alert(1)</script>")
    real = tmp_path / "hoodie-real.png"
    real.write_bytes(png())
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await sign_in_as_admin(page, console_stack)
    await page.get_by_role("link", name="Rewards").click()
    await expect(page.get_by_role("heading", name="Rewards", exact=True)).to_be_visible()

    await page.get_by_label("Name").fill("Team hoodie")
    await page.get_by_label("Cost in points").fill("30")
    await page.get_by_label("Stock").fill("5")
    await page.get_by_label("Picture (optional)").set_input_files(str(fake))
    await page.get_by_role("button", name="Add reward").click()
    await expect(page.get_by_text("Choose a PNG, JPEG, GIF or WebP image.")).to_be_visible()
    await expect(page.get_by_label("Name")).to_have_value("Team hoodie")
    assert await console_stack.services.spending.catalogue() == []

    await page.get_by_label("Picture (optional)").set_input_files(str(real))
    await page.get_by_role("button", name="Add reward").click()
    await expect(page.get_by_text("The reward is in the catalogue.")).to_be_visible()
    picture = page.get_by_role("img", name="Team hoodie")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.naturalWidth") == 512

    services = console_stack.services
    employee = await services.sync_employee(EMPLOYEE)
    async with services.db.session() as session:
        assert employee.id is not None
        await ledger.credit(
            session, employee_id=employee.id, points=75, reason="seed", ref="s", kind="adjusted"
        )
    [reward] = await services.spending.catalogue()
    await services.spending.redeem(EMPLOYEE, reward.id or 0)
    await services.spending.redeem(EMPLOYEE, reward.id or 0)
    await page.reload()
    await expect(page.get_by_role("button", name="Fulfil #1")).to_be_visible()
    await page.screenshot(path=str(screenshot_path("console-rewards.png")), full_page=True)

    await page.locator("#note-2").fill("Size M is gone, sorry")
    await page.get_by_role("button", name="Refuse and refund #2").click()
    await expect(page.get_by_text("Refused; the points are refunded")).to_be_visible()
    await expect(page.get_by_role("cell", name="Size M is gone, sorry")).to_be_visible()
    assert (await services.spending.balance(EMPLOYEE)).available == 45
    await context.close()
