"""The whole story in headless Chromium, through the sandbox's chat UI and the real app.

Admin creates and publishes an activity in a modal, an employee gets the share card, a
customer opens the link from it and signs up, the employee sees the alerts arrive live,
the salesperson records "attended", and the employee's stats show it. Every step waits on
what the page shows (Playwright's auto-waiting expectations), never on a sleep.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.sandbox_runner import Sandbox, start_sandbox
from tests.browser_support import apt_lock

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
DOCS_SCREENSHOT = REPO / "docs" / "sandbox.png"
PACKAGES = ("chromium", "fonts-noto-cjk")
NICE_TO_HAVE = ("fonts-noto-color-emoji",)
# Headless Chromium says "HeadlessChrome", which crawler detection rightly treats as a bot;
# people use ordinary browsers, so every context presents one.
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
ACTIVITY = "Spring launch webinar"
CUSTOMER = "Wang Fang"


def _apt(*args: str) -> subprocess.CompletedProcess[str] | str:
    """Run apt-get as root (or through non-interactive sudo); a string says why not."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None or subprocess.run([sudo, "-n", "true"], capture_output=True).returncode:
            return "not root, and sudo is missing or asks for a password"
        prefix = [sudo, "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        return subprocess.run(
            [*prefix, "apt-get", *args], capture_output=True, text=True, env=env, timeout=1200
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get {' '.join(args)} failed: {exc}"


def _install_chromium() -> str | None:
    """Install Debian's chromium and a CJK font; None on success, else the reason."""
    for args in (("update",), ("install", "-y", *PACKAGES)):
        result = _apt(*args)
        if isinstance(result, str):
            return result
        if result.returncode != 0:
            return f"apt-get {' '.join(args)} failed: {result.stderr.strip()[-400:]}"
    _apt("install", "-y", *NICE_TO_HAVE)  # emoji glyphs only make screenshots nicer
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's chromium, installed with apt-get on first use if missing."""
    with apt_lock():  # other test processes (pytest-xdist) may be installing it right now
        path = shutil.which("chromium")
        if path is None:
            reason = _install_chromium()
            path = shutil.which("chromium")
    if path is None:
        pytest.skip(f"Debian's chromium is not installed and could not be: {reason}")
    return path


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    running = await start_sandbox(
        app_port=0,
        ui_port=0,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        seed=False,
    )
    yield running
    await running.stop()


async def test_whole_story_in_the_browser(sandbox: Sandbox, chromium: str) -> None:
    from playwright.async_api import Page, async_playwright, expect

    expect.set_options(timeout=15_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))

    async def shot(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{next(shots):02d}-{name}.png"
        await page.screenshot(path=str(path))
        return path

    ui = sandbox.ui_url
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:

            async def person(user: str, pane: str) -> Page:
                context = await browser.new_context(
                    viewport={"width": 1280, "height": 860}, user_agent=DESKTOP_UA
                )
                page = await context.new_page()
                await page.goto(f"{ui}/u/{user}/{pane}")
                await expect(page.locator("body[data-live='1']")).to_have_count(1)
                return page

            # The newcomer's first screen: who are you?
            chooser = await (await browser.new_context()).new_page()
            await chooser.goto(f"{ui}/")
            await expect(chooser.get_by_role("link", name=re.compile("李雷"))).to_be_visible()
            await shot(chooser, "pick-a-user")

            # Admin: a global roster, then /sharetrail new in #marketing's composer.
            admin = await person("U_ADMIN", "C_MARKETING")
            composer = admin.get_by_role("textbox", name="Message")
            await composer.fill("/sharetrail sales add @sam")
            await composer.press("Enter")
            await expect(admin.get_by_text("Added to the roster")).to_be_visible()
            await composer.fill("/sharetrail new")
            await composer.press("Enter")
            modal = admin.get_by_role("dialog", name="New activity")
            await expect(modal).to_be_visible()
            await modal.get_by_label("Name", exact=True).fill(ACTIVITY)
            await modal.get_by_label("Starts").fill("2026-12-01T14:00")
            await modal.get_by_label("Ends").fill("2026-12-01T16:00")
            await modal.get_by_label("Material type").select_option(label="Event invitation")
            await modal.get_by_label("Landing page headline").fill("See what's new in 2026")
            await modal.get_by_label("Publish to channel").select_option(label="#marketing")
            await shot(admin, "admin-new-activity-modal")
            await modal.get_by_role("button", name="Create").click()
            await expect(modal).to_be_hidden()
            announcement = admin.locator("article.msg", has_text=ACTIVITY).filter(
                has=admin.get_by_role("button", name="Get my share card")
            )
            await expect(announcement).to_be_visible()
            await shot(admin, "admin-activity-published")

            # Employee: the announcement in #marketing → the card in the DM.
            employee = await person("U_ANN", "C_MARKETING")
            post = employee.locator("article.msg", has_text=ACTIVITY)
            await post.get_by_role("button", name="Get my share card").click()
            await employee.get_by_role("link", name="ShareTrail").click()
            card = employee.locator("article.msg").filter(has=employee.locator("img.file-image"))
            await expect(card).to_be_visible()
            image = card.locator("img.file-image")
            await expect(image).to_have_js_property("complete", True)
            assert await image.evaluate("img => img.naturalWidth") > 500
            path = await shot(employee, "employee-share-card")
            if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
                DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, DOCS_SCREENSHOT)

            # Customer: opens the link from the DM in a new page and signs up.
            # The customer's link reads as itself (the employee's own preview link does not).
            link = card.locator(".msg-text a", has_text="/s/")
            async with employee.context.expect_page() as opened:
                await link.click()
            customer = await opened.value
            await expect(
                customer.get_by_role("heading", name="See what's new in 2026")
            ).to_be_visible()
            await shot(customer, "customer-landing-page")
            await customer.get_by_label("Name").fill(CUSTOMER)
            await customer.get_by_label("Phone").fill("+86 138 1234 5678")
            await customer.get_by_role("button", name="Sign me up").click()
            await expect(customer.get_by_text(f"You're signed up, {CUSTOMER}!")).to_be_visible()
            await expect(customer.get_by_text("Sam Sales will be in touch")).to_be_visible()
            await shot(customer, "customer-signed-up")

            # Employee, without reloading: the "viewed" and "signed up" DMs arrive live.
            await employee.bring_to_front()
            await expect(employee.get_by_text("is viewing your card")).to_be_visible()
            await expect(employee.get_by_text(f"{CUSTOMER} signed up for")).to_be_visible()
            await shot(employee, "employee-live-alerts")

            # Salesperson (the only one on the roster): "Attended".
            sales = await person("U_SALES1", "D_U_SALES1")
            lead = sales.locator("article.msg", has_text=f"New lead #1: {CUSTOMER}")
            await expect(lead).to_be_visible()
            await lead.get_by_role("button", name="Attended").click()
            await expect(lead.get_by_text("Outcome recorded")).to_be_visible()
            await shot(sales, "sales-attended")
            await expect(employee.get_by_text(f"{CUSTOMER} attended")).to_be_visible()

            # Employee: My stats on the announcement.
            await employee.get_by_role("link", name="# marketing").click()
            await (
                employee.locator("article.msg", has_text=ACTIVITY)
                .get_by_role("button", name="My stats")
                .click()
            )
            stats = employee.get_by_role("dialog", name="My stats")
            await expect(stats).to_be_visible()
            for label in ("Views", "Sign-ups", "Attended"):
                field = stats.locator(".bk-field", has_text=label)
                await expect(field).to_have_text(re.compile(rf"^\s*{label}\s*1\s*$"))
            await shot(employee, "employee-my-stats")
        finally:
            await browser.close()


async def test_a_failed_action_shows_an_error_line(sandbox: Sandbox, chromium: str) -> None:
    from playwright.async_api import Route, async_playwright, expect

    from sandbox.workspace import BOT_USER_ID, Message

    workspace = sandbox.emulator.workspace
    button = {"type": "button", "action_id": "ping", "text": {"type": "plain_text", "text": "Ping"}}
    workspace.post(
        Message(
            "C_GENERAL",
            workspace.new_ts(),
            BOT_USER_ID,
            "x",
            [{"type": "actions", "elements": [button]}],
        )
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            page = await browser.new_page()
            await page.goto(f"{sandbox.ui_url}/u/U_ANN/C_GENERAL")
            await expect(page.locator("body[data-live='1']")).to_have_count(1)
            error = page.locator("#error-line")
            await expect(error).to_be_hidden()

            async def refuse(route: Route) -> None:
                await route.abort("connectionrefused")

            await page.route("**/action", refuse)
            await page.get_by_role("button", name="Ping").click()
            await expect(error).to_be_visible()
            await expect(error).to_contain_text("Could not reach the sandbox")

            await page.unroute("**/action")
            await page.get_by_role("button", name="Ping").click()  # the app ignores it: ok
            await expect(error).to_be_hidden()
            sandbox.emulator.app_url = "http://127.0.0.1:9"  # now the app is unreachable
            await page.get_by_role("button", name="Ping").click()
            await expect(error).to_contain_text("Could not reach the app")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "error-line.png"))
        finally:
            await browser.close()
