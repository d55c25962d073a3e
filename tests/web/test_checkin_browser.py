"""The check-in page in headless Chromium with a granted, fake geolocation (Playwright's
geolocation override): the page finds the position itself, shows its accuracy, and the
submitted check-in is stored and posted in the lead's thread. Also: location denied, the
salesperson types the coordinates. Every step waits on what the page shows, never a sleep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from store.models import CheckIn
from tests.browser_support import phone
from tests.conftest import Stack
from tests.records_flows import check_in_link, lead_setup

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "checkin"
OSM = "https://www.openstreetmap.org/?mlat=31.230000&mlon=121.470000#map=17/31.230000/121.470000"


async def stored(stack: Stack) -> list[CheckIn]:
    async with stack.runtime.db.session() as session:
        return list((await session.exec(select(CheckIn))).all())


async def test_check_in_with_the_browser_location(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    setup = await lead_setup(stack)
    url = await check_in_link(stack, setup)
    page = await phone(
        browser,
        geolocation={"latitude": 31.23, "longitude": 121.47, "accuracy": 25},
        permissions=["geolocation"],
    )
    await page.goto(url)
    await expect(page.get_by_role("heading", name="Check in with Wang Fang")).to_be_visible()
    status = page.locator("#geo-status")
    await expect(status).to_contain_text("accurate to ±25 m")
    await expect(page.locator("#lat")).to_have_value("31.230000")
    await expect(page.locator("#lon")).to_have_value("121.470000")
    await expect(page.locator("#accuracy")).to_have_value("25")
    met_at = await page.locator("#met_at").input_value()
    assert len(met_at) == 16 and "T" in met_at  # now, in the salesperson's zone
    await page.get_by_label("Note").fill("Met at the Shanghai office; NDA signed.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "01-check-in-page.png"), full_page=True)

    since = stack.slack.mark()
    await page.get_by_role("button", name="Check in").click()
    await expect(page.get_by_role("heading", name="Checked in with Wang Fang")).to_be_visible()
    await expect(page.get_by_role("link", name="See it on OpenStreetMap")).to_have_attribute(
        "href", OSM
    )
    await page.screenshot(path=str(ARTIFACTS / "02-checked-in.png"), full_page=True)

    [check_in] = await stored(stack)
    assert (check_in.lat, check_in.lon, check_in.accuracy_m) == (31.23, 121.47, 25.0)
    assert check_in.note == "Met at the Shanghai office; NDA signed."
    posted = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("thread_ts") == setup.lead_dm.ts, since=since
    )
    assert OSM in str(posted.args["text"]) and "±25 m" in str(posted.args["text"])

    # Back to the form (no-store: the browser asks again): the link is used up, it says so.
    await page.go_back()
    await expect(page.get_by_role("heading", name="already used")).to_be_visible()
    assert len(await stored(stack)) == 1


async def test_location_denied_then_typed_by_hand(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    setup = await lead_setup(stack)
    url = await check_in_link(stack, setup)
    page = await phone(browser)  # no geolocation permission granted
    await page.goto(url)
    await expect(page.locator("#geo-status")).to_contain_text("denied")

    await page.get_by_role("button", name="Check in").click()  # nothing to go on yet
    await expect(page.get_by_text("We need your location")).to_be_visible()
    assert await stored(stack) == []

    await page.get_by_label("Latitude").fill("31.2304")
    await page.get_by_label("Longitude").fill("121.4737")
    await page.get_by_role("button", name="Check in").click()
    await expect(page.get_by_role("heading", name="Checked in with Wang Fang")).to_be_visible()
    [check_in] = await stored(stack)
    assert (check_in.lat, check_in.lon, check_in.accuracy_m) == (31.2304, 121.4737, 0.0)
