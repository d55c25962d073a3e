"""The Content-Security-Policy in headless Chromium: the landing page's beacon script, the
sign-up, the check-in page's geolocation script and the error pages work with no CSP
violation reported, and another site cannot frame the landing page. Waits on events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from store.models import View
from tests.browser_support import phone
from tests.conftest import EMPLOYEE, Stack
from tests.flows import add_global_roster, create_activity, get_share_card
from tests.records_flows import SALESPERSON, check_in_link, lead_setup

pytestmark = pytest.mark.browser

# Runs before the page's own scripts (through DevTools, so the page's CSP does not apply).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
HIDE_PAGE = """
Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
document.dispatchEvent(new Event("visibilitychange"));
"""


class Phone:
    """One browser tab that remembers every CSP complaint in the console."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.csp_messages: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_messages.append(message.text)

    async def violations(self) -> list[str]:
        found: list[str] = await self.page.evaluate("window.__violations || []")
        return found + self.csp_messages


async def watched_phone(browser: Any, **options: Any) -> Phone:
    """A phone tab that records CSP violations from its first script on."""
    page = await phone(browser, **options)
    await page.context.add_init_script(WATCH_VIOLATIONS)
    return Phone(page)


async def test_landing_beacon_and_sign_up_work_under_the_csp(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    tab = await watched_phone(browser)
    page = tab.page

    response = await page.goto(card.url)
    assert response is not None and response.status == 200
    assert "frame-ancestors 'none'" in (await response.all_headers())["content-security-policy"]
    await expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    await page.mouse.wheel(0, 400)
    async with page.expect_request_finished(lambda r: r.url.endswith("/beacon")) as sent:
        await page.evaluate(HIDE_PAGE)  # the page's own listener sends the beacon
    beacon = await (await sent.value).response()
    assert beacon is not None and beacon.status == 204
    await stack.settle()
    async with stack.runtime.db.session() as session:
        [view] = (await session.exec(select(View))).all()
    assert view.dwell_ms is not None and view.dwell_ms > 0

    await page.get_by_label("Name").fill("Wang Fang")
    await page.get_by_label("Phone").fill("+86 138 1234 5678")
    async with page.expect_response(lambda r: r.url.endswith("/signup")) as answered:
        await page.get_by_role("button", name="Sign me up").click()
    signed_up = await answered.value
    assert signed_up.status == 200
    assert "nosniff" in (await signed_up.all_headers())["x-content-type-options"]
    await expect(page.get_by_text("Wang Fang").first).to_be_visible()

    response = await page.goto(f"{stack.app_url}/s/forged-code")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="This link does not exist")).to_be_visible()
    assert await tab.violations() == []


async def test_check_in_geolocation_works_under_the_csp(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    link = await check_in_link(stack, await lead_setup(stack))
    tab = await watched_phone(
        browser,
        geolocation={"latitude": 31.23, "longitude": 121.47, "accuracy": 25},
        permissions=["geolocation"],
    )
    response = await tab.page.goto(link)
    assert response is not None
    headers = await response.all_headers()
    assert headers["referrer-policy"] == "no-referrer"
    assert "script-src 'sha256-" in headers["content-security-policy"]  # the script by hash
    await expect(tab.page.locator("#geo-status")).to_contain_text("accurate to ±25 m")
    await expect(tab.page.locator("#lat")).to_have_value("31.230000")
    assert await tab.violations() == []


async def test_another_site_cannot_frame_the_landing_page(stack: Stack, browser: Any) -> None:
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    tab = await watched_phone(browser)
    async with tab.page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        await tab.page.set_content(f'<iframe src="{card.url}"></iframe>')
    frame = tab.page.frames[-1]
    assert "Sign up" not in await frame.content()
