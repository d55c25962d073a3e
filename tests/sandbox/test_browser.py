"""The sandbox UI in headless Chromium: attaching a file in a modal, and the world after a restart.

Every step waits on what the page shows (Playwright's expectations), never on a sleep.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from sqlmodel import select

from handlers.sandbox_runner import Sandbox
from store.models import ContactRecord
from tests.browser_support import chromium_executable
from tests.sandbox.test_restart import LINK, Runs, lead_dm, share_card, sign_up

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "sandbox"
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
EMPLOYEE = "U_ANN"
CUSTOMER = "Wang Fang"
NOTES = b"%PDF-1.4\n% call notes: wants a demo for 5 seats\n" + bytes(range(256)) * 8


@pytest.fixture
async def runs(tmp_path: Path) -> AsyncIterator[Runs]:
    runs = Runs(tmp_path)
    yield runs
    await runs.stop()


async def with_a_lead(sandbox: Sandbox) -> tuple[str, str]:
    """The employee shares, a customer signs up: (the salesperson, the lead DM's ts)."""
    card = await share_card(sandbox, EMPLOYEE)
    link = LINK.search(card.text)
    assert link, card.text
    async with aiohttp.ClientSession() as http:
        await sign_up(http, link.group(0), CUSTOMER, "+86 138 1234 5678")
    salesperson, lead = await lead_dm(sandbox, CUSTOMER)
    return salesperson, lead.ts


def submitted_state(sandbox: Sandbox) -> dict[str, Any]:
    """The state of the last view_submission the app received, as Slack sent it."""
    delivery = next(d for d in reversed(sandbox.emulator.deliveries) if d.kind == "view_submission")
    payload = json.loads(parse_qs(delivery.request.decode())["payload"][0])
    state: dict[str, Any] = payload["view"]["state"]["values"]
    return state


async def test_a_file_attached_in_the_log_contact_modal_reaches_the_app(runs: Runs) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sandbox = await runs.start()
    salesperson, lead_ts = await with_a_lead(sandbox)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_executable())
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 860}, user_agent=DESKTOP_UA
            )
            page = await context.new_page()
            await page.goto(f"{sandbox.ui_url}/u/{salesperson}/D_{salesperson}")
            await expect(page.locator("body[data-live='1']")).to_have_count(1)
            lead = page.locator(f'article.msg[data-ts="{lead_ts}"]')
            await lead.get_by_role("button", name=re.compile("Log contact")).click()
            modal = page.get_by_role("dialog", name="Log contact")
            await expect(modal).to_be_visible()
            await modal.get_by_label("Kind").select_option(label="📞 Call")
            await modal.get_by_label("Summary").fill("Wants a demo for 5 seats on Friday.")
            await modal.get_by_label("File").set_input_files(
                {"name": "call-notes.pdf", "mimeType": "application/pdf", "buffer": NOTES}
            )
            await page.screenshot(path=str(ARTIFACTS / "log-contact-with-file.png"))
            await modal.get_by_role("button", name="Save").click()
            await expect(modal).to_be_hidden()
        finally:
            await browser.close()

    [files] = [v["files"] for v in submitted_state(sandbox)["contact_file"].values()]
    assert [(f["name"], f["size"], f["mimetype"]) for f in files] == [
        ("call-notes.pdf", len(NOTES), "application/pdf")
    ]
    uploaded = sandbox.emulator.workspace.files[files[0]["id"]]
    assert uploaded.content == NOTES and uploaded.user == salesperson
    async with sandbox.runtime.db.session() as session:
        [record] = (await session.exec(select(ContactRecord))).all()
    assert (record.kind, record.file_id, record.file_name, record.file_size) == (
        "call",
        uploaded.id,
        "call-notes.pdf",
        len(NOTES),
    )


async def test_after_a_restart_the_browser_shows_the_world_and_its_buttons_work(
    runs: Runs,
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sandbox = await runs.start()
    salesperson, lead_ts = await with_a_lead(sandbox)
    await runs.stop()

    sandbox = await runs.start()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_executable())
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 860}, user_agent=DESKTOP_UA
            )
            employee = await context.new_page()
            await employee.goto(f"{sandbox.ui_url}/u/{EMPLOYEE}/D_{EMPLOYEE}")  # a deep link
            await expect(employee.locator("body[data-live='1']")).to_have_count(1)
            image = employee.locator("article.msg img.file-image")
            await expect(image).to_have_js_property("complete", True)
            assert await image.evaluate("img => img.naturalWidth") > 500
            signed_up = employee.get_by_text(re.compile(f"{CUSTOMER}.* signed up"))
            await expect(signed_up).to_be_visible()
            await employee.screenshot(path=str(ARTIFACTS / "restart-employee-dm.png"))

            sales = await context.new_page()
            await sales.goto(f"{sandbox.ui_url}/u/{salesperson}/D_{salesperson}")
            await expect(sales.locator("body[data-live='1']")).to_have_count(1)
            lead = sales.locator(f'article.msg[data-ts="{lead_ts}"]')
            await expect(lead).to_contain_text(f"New lead #1: {CUSTOMER}")
            await sales.screenshot(path=str(ARTIFACTS / "restart-lead-dm.png"))
            await lead.get_by_role("button", name="Attended").click()
            await expect(lead.get_by_text("Outcome recorded")).to_be_visible()
            attended = employee.get_by_text(re.compile(f"{CUSTOMER}.* attended"))
            await expect(attended).to_be_visible()
            await sales.screenshot(path=str(ARTIFACTS / "restart-lead-attended.png"))
        finally:
            await browser.close()
