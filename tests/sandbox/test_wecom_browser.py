"""The WeCom sandbox's phone in headless Chromium: tap 获取我的分享卡片, the card image
arrives; a customer signs up, the salesperson taps 已到场 and the card turns grey.
Screenshots go to test-artifacts/wecom/ (and docs/ with UPDATE_DOCS_SCREENSHOT=1)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from handlers.wecom_sandbox import EMPLOYEES, SALES, WeComSandbox, start_wecom_sandbox
from tests.browser_support import chromium_executable, phone
from tests.sandbox.test_restart import sign_up

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "wecom"
LINK = re.compile(r"https?://\S+/s/[\w-]+")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[WeComSandbox]:
    running = await start_wecom_sandbox(
        app_port=0, ui_port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'wecom.db'}"
    )
    yield running
    await running.stop()


def keep(name: str) -> Path:
    path = ARTIFACTS / name
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, REPO / "docs" / name)
    return path


async def test_share_card_and_attended_on_the_phone(sandbox: WeComSandbox) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_executable())
        try:
            page = await phone(browser, locale="zh-CN", timezone_id="Asia/Shanghai")
            await page.goto(f"{sandbox.ui_url}/?u={EMPLOYEES[0]}")
            card = page.locator(".card").first
            await expect(card).to_contain_text("春季新品发布会")
            await card.get_by_role("button", name="获取我的分享卡片").click()
            await expect(page.locator("img.sent")).to_be_visible()
            await page.screenshot(path=str(ARTIFACTS / "wecom-share-card.png"), full_page=True)
            keep("wecom-share-card.png")
            text = await page.locator(".bubble").last.inner_text()
            link = LINK.search(text)
            assert link, text

            async with aiohttp.ClientSession() as http:
                await sign_up(http, link.group(0), "Wang Fang", "+86 138 1234 5678")
            await sandbox.runtime.services.settle()
            await page.goto(f"{sandbox.ui_url}/?u={SALES}")
            lead = page.locator(".card", has_text="Wang Fang")
            await lead.get_by_role("button", name="已到场").click()
            await expect(page.locator(".card .done")).to_have_text("已到场 ✓")
            await page.screenshot(path=str(ARTIFACTS / "wecom-lead-attended.png"), full_page=True)
            keep("wecom-lead-attended.png")
        finally:
            await browser.close()
    report = await sandbox.runtime.services.report(1)
    assert (report.totals.signups, report.totals.attended) == (1, 1)
