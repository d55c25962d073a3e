"""The App Home tab in the sandbox, in headless Chromium, as each role, in English and Chinese.

The admin sees the open activities with KPI bars, the funnel, the 14-day chart (the image
really loads) and the health in words, and "New activity" opens its modal; the salesperson
sees their leads by state and taps an outcome on one of them (not the first: the tap must
reach the lead it is on) and the home redraws with that lead moved; the employee sees their
shares, rank and the top 10, taps "Get my share card" on an open activity and the card
arrives in the DM. Every step waits on what the page shows, never on a sleep. Screenshots:
test-artifacts/screenshots/home-*.png; the README's three (admin en, salesperson zh,
employee en) go to docs/ with UPDATE_DOCS_SCREENSHOT=1.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from bot.activities import ActivityDraft, create_activity
from bot.demo import DEMO_ACTIVITY_NAME, seed_demo
from bot.directory import employee_by_user
from bot.i18n import translate
from bot.roster import add_salespeople, remove_salespeople
from bot.shares import get_or_create_share, share_url
from handlers.sandbox_runner import ADMIN, Sandbox, announce_demo, start_sandbox
from store.models import Lead
from tests.browser_support import chromium_executable, screenshot_path
from tests.flows import signup_form
from tests.sandbox.test_restart import LINK, MOBILE_UA, share_card

pytestmark = pytest.mark.browser

SALESPERSON, OFF_ROSTER = "U_SALES1", "U_SALES2"
# (the employee who plays, the other sharers) per language: U_LI's Slack is in Chinese.
EMPLOYEES = {"en": ("U_ANN", ("U_BOB", "U_LI")), "zh": ("U_LI", ("U_HAN", "U_ANN"))}
SLACK_LOCALE = {"en": "en-US", "zh": "zh-CN"}
# Slack's own labels around the app's blocks follow the person's Slack language too.
HOME_TAB = {"en": ("🏠 App Home", "ShareTrail · Home"), "zh": ("🏠 应用主页", "ShareTrail · 主页")}
# (name, phone, company): a long name and a Chinese one among them.
CUSTOMERS = (
    ("Wang Fang", "+86 138 1234 5601", ""),
    (
        "Maximiliane Alexandra von Hohenberg-Schwarzenfeld",
        "+1 415 555 0199",
        "Hohenberg-Schwarzenfeld Industrie GmbH & Co. KG",
    ),
    ("欧阳娜娜", "+86 139 8765 4302", "深圳市前海微众未来科技有限公司"),
    ("Chen Jie", "+86 137 1111 2203", "Acme Trading (Shanghai) Co., Ltd."),
)
# A company name with no space to break at: it must wrap inside the home, not run out of it.
UNBROKEN = (
    "HohenbergSchwarzenfeldInternationaleIndustrieUndHandelsgesellschaft"
    "MitBeschraenkterHaftungUndCompagnieKommanditgesellschaft"
)
VISITS = 3  # people who open each other sharer's link (points for the top 10)
SECOND_ACTIVITY = "2027 客户答谢日 · Customer Day roadshow: Shanghai, Beijing and Shenzhen"
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
WIDTH, HEIGHT = 1280, 860
MIN_SHOT = 480  # a short home is not padded out with white
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# The README shows these (docs/ with UPDATE_DOCS_SCREENSHOT=1); the rest stay artifacts.
README_SHOTS = frozenset({"home-admin-en.png", "home-sales-zh.png", "home-employee-en.png"})
PHONE = {"User-Agent": MOBILE_UA}


async def share_link(sandbox: Sandbox, user: str) -> str:
    """The employee's link from their share card (tapped under the announcement)."""
    card = await share_card(sandbox, user)
    link = LINK.search(card.text)
    assert link, card.text
    return link.group(0)


# How many lines of the page a piece of text takes (0: not found), from its text node.
LINES_OF_TEXT = """(root, text) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + text.length);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  }
  return 0;
}"""


@dataclass
class World:
    sandbox: Sandbox
    language: str
    employee: str
    leads: list[str]  # the salesperson's customers, newest first (as the home lists them)

    def t(self, message: str) -> str:
        return translate(message, locale=self.language)


async def build_world(sandbox: Sandbox, language: str) -> World:
    """The demo activity announced; three employees share it, four customers sign up through
    the playing employee's link; a second activity is open that nobody has shared yet."""
    employee, others = EMPLOYEES[language]
    workspace = sandbox.emulator.workspace
    for user in (ADMIN, SALESPERSON, employee):  # before the app first asks (it caches a minute)
        workspace.users[user].locale = SLACK_LOCALE[language]
    runtime = sandbox.runtime
    await seed_demo(runtime.db, secret=runtime.services.secret, base_url=sandbox.app_url)
    await announce_demo(sandbox)
    async with runtime.db.session() as session:  # one salesperson: every lead is theirs
        await remove_salespeople(session=session, user_ids=[OFF_ROSTER])
    link = await share_link(sandbox, employee)
    for other in others:
        for _visitor in range(VISITS):
            async with aiohttp.ClientSession() as visitor:  # each their own browser
                await signup_form(visitor, await share_link(sandbox, other), PHONE)
    for name, phone, company in CUSTOMERS:
        async with aiohttp.ClientSession() as customer:
            form = await signup_form(customer, link, PHONE)
            fields = {**form, "name": name, "phone": phone, "company": company}
            async with customer.post(f"{link}/signup", data=fields, headers=PHONE) as response:
                assert response.status == 200, await response.text()
    start = (datetime.now(UTC) + timedelta(days=30)).replace(hour=2, minute=0, second=0)
    async with runtime.db.session() as session:
        second = await create_activity(
            session=session,
            draft=ActivityDraft(
                name=SECOND_ACTIVITY,
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                material_type="event_invitation",
                headline="Meet the team",
                intro="Demos, talks and dinner.",
                kpi_views=300,
                kpi_signups=40,
                tz="Asia/Shanghai",
            ),
            created_by=ADMIN,
        )
        second.status = "published"
        session.add(second)
        sharer = await employee_by_user(session=session, user_id=others[0])
        assert sharer is not None
        early = await get_or_create_share(session=session, activity=second, employee=sharer)
        assert early.id is not None
    early_link = share_url(runtime.services.codec, sandbox.app_url, early.id)
    for _visitor in range(VISITS):  # the second activity's first views: its chart has data
        async with aiohttp.ClientSession() as visitor:
            await signup_form(visitor, early_link, PHONE)

    async with runtime.db.session() as session:
        leads = (await session.exec(select(Lead).order_by(col(Lead.id).desc()))).all()
    assert [(lead.name, lead.salesperson_id) for lead in leads] == [
        (name, SALESPERSON) for name, _phone, _company in reversed(CUSTOMERS)
    ]
    return World(sandbox, language, employee, [lead.name for lead in leads])


@pytest.fixture(params=["en", "zh"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    sandbox = await start_sandbox(
        app_port=0,
        ui_port=0,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'home.db'}",
        seed=False,
    )
    try:
        yield await build_world(sandbox, request.param)
    finally:
        await sandbox.stop()


async def open_home(browser: Any, world: World, user: str) -> Any:
    from playwright.async_api import expect

    context = await browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        user_agent=DESKTOP_UA,
        locale=SLACK_LOCALE[world.language],
    )
    page = await context.new_page()
    await page.goto(f"{world.sandbox.ui_url}/u/{user}/home")
    await expect(page.locator("body[data-live='1']")).to_have_count(1)
    await expect(page.locator("#pane .home .blocks")).to_be_visible()
    return page


async def shot(page: Any, name: str) -> Path:
    """The whole home in one picture: the window is made as tall as the home (the pane
    scrolls inside a window-high layout, so a full-page screenshot would cut it)."""
    needed = await page.evaluate(  # the window less the pane's share, plus what it holds
        "() => { const p = document.getElementById('pane');"
        " return window.innerHeight - p.clientHeight + p.firstElementChild.offsetHeight + 24; }"
    )
    await page.set_viewport_size({"width": WIDTH, "height": max(MIN_SHOT, min(int(needed), 4000))})
    # Every picture now in view has arrived (or failed) before the shot: waited on, not slept.
    await page.evaluate(
        "() => Promise.all([...document.querySelectorAll('#pane img')].map(img => img.complete"
        " ? null : new Promise(done => { img.onload = img.onerror = done; })))"
    )
    if name in README_SHOTS:
        path = screenshot_path(name)
    else:  # the other pictures are for looking at, never the README's
        path = ARTIFACTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))
    await page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    return path


async def test_app_home_by_role_in_the_browser(world: World) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)
    t, lang = world.t, world.language
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_executable())
        try:
            # --- admin ---------------------------------------------------------------
            admin = await open_home(browser, world, ADMIN)
            home = admin.locator("#pane .home")
            tab, title = HOME_TAB[lang]
            await expect(admin.locator("#sidebar a.active")).to_have_text(tab)
            await expect(admin.get_by_role("heading", name=title)).to_be_visible()
            await expect(admin.locator("html")).to_have_attribute("lang", SLACK_LOCALE[lang])
            await expect(home.get_by_role("heading", name=t("🛠 Admin"))).to_be_visible()
            await expect(home).to_contain_text(DEMO_ACTIVITY_NAME)
            await expect(home).to_contain_text(SECOND_ACTIVITY)
            # The home opens at its top (a conversation opens at its newest message).
            await expect(home.get_by_role("heading", name=t("🛠 Admin"))).to_be_in_viewport()
            assert await admin.locator("#pane").evaluate("p => p.scrollTop") == 0
            charts = home.locator("figure.bk-figure")
            await expect(charts).to_have_count(2)
            for chart in await charts.all():
                image = chart.locator("img")
                await image.scroll_into_view_if_needed()
                await expect(image).to_have_js_property("complete", True)
                assert await image.evaluate("img => img.naturalWidth") > 0
                # Readable: as wide as the home allows, not a thumbnail; its title above it.
                picture, title = (
                    await image.bounding_box(),
                    await chart.locator("figcaption").bounding_box(),
                )
                assert picture and title and picture["width"] >= 600, picture
                assert title["y"] + title["height"] <= picture["y"], (title, picture)
            await expect(home.get_by_text(t("Health"), exact=True)).to_be_visible()
            await expect(home.get_by_role("button", name=t("Open console"))).to_be_visible()
            await expect(home.get_by_role("button", name=t("Export CSV")).first).to_be_visible()
            await shot(admin, f"home-admin-{lang}.png")
            await home.get_by_role("button", name=t("New activity")).click()
            modal = admin.get_by_role("dialog")
            await expect(modal).to_be_visible()
            await modal.get_by_role("button", name=re.compile("Cancel|取消")).click()
            await expect(modal).to_be_hidden()

            # --- salesperson ---------------------------------------------------------
            sales = await open_home(browser, world, SALESPERSON)
            home = sales.locator("#pane .home")
            await expect(home.get_by_role("heading", name=t("📇 My leads"))).to_be_visible()
            for name in world.leads:
                await expect(home).to_contain_text(name)
            for _name, phone, _company in CUSTOMERS:  # as people write them, on one line
                shown = phone.replace(" ", "\u00a0")
                assert await home.evaluate(LINES_OF_TEXT, shown) == 1, phone
            await shot(sales, f"home-sales-before-{lang}.png")
            tapped = world.leads[1]  # not the first: the tap must reach the lead it is on
            row = home.locator(".bk-rich_text", has_text=tapped)
            buttons = row.locator("xpath=following-sibling::div[1]")
            await buttons.get_by_role("button", name=t("Attended")).click()
            follow_up = home.locator(".bk-section", has_text=t("📞 Follow-up due"))
            await expect(follow_up).to_be_visible()
            rows = home.locator(".bk-section, .bk-rich_text")
            texts = await rows.all_inner_texts()
            after = texts[[i for i, x in enumerate(texts) if "Follow-up" in x or "跟进" in x][0] :]
            assert tapped in "\n".join(after[:2]), texts
            await shot(sales, f"home-sales-{lang}.png")

            # --- employee ------------------------------------------------------------
            employee = await open_home(browser, world, world.employee)
            home = employee.locator("#pane .home")
            await expect(home.get_by_role("heading", name=t("📣 My shares"))).to_be_visible()
            await expect(home.get_by_text(t("Top 10"), exact=True)).to_be_visible()
            await expect(home).to_contain_text(SECOND_ACTIVITY)
            await shot(employee, f"home-employee-{lang}.png")
            offer = home.locator(".bk-section", has_text=SECOND_ACTIVITY)
            await offer.get_by_role("button", name=t("Get my share card")).click()
            # The home redraws: the activity is among the employee's shares now, offered no
            # more (a second tap would only point to the card already sent).
            shared = home.locator(".bk-section", has_text=SECOND_ACTIVITY)
            await expect(shared.get_by_role("button", name=t("My stats"))).to_be_visible()
            await expect(home.get_by_role("button", name=t("Get my share card"))).to_have_count(0)
            await employee.goto(f"{world.sandbox.ui_url}/u/{world.employee}/D_{world.employee}")
            await expect(employee.locator("body[data-live='1']")).to_have_count(1)
            card = employee.locator("article.msg", has_text=SECOND_ACTIVITY).locator(
                "img.file-image"
            )
            await expect(card).to_be_visible()
            await expect(card).to_have_js_property("complete", True)
            assert await card.evaluate("img => img.naturalWidth") > 500
            await shot(employee, f"home-employee-card-{lang}.png")
        finally:
            await browser.close()

    async with world.sandbox.runtime.db.session() as session:
        [lead] = (await session.exec(select(Lead).where(Lead.name == world.leads[1]))).all()
        assert lead.outcome == "attended"
        others = (await session.exec(select(Lead).where(Lead.name != world.leads[1]))).all()
        assert all(other.outcome is None for other in others)


MANY_ACTIVITIES = 30
SHARED = 14  # of them, shared by the admin (who is also the salesperson)
MANY_LEADS = {"new": 13, "awaiting": 8}  # sign-ups before and after their activity started


async def many_things(sandbox: Sandbox) -> None:
    """30 open activities, 14 shared by the admin, who is the only salesperson and has 21
    open leads: more than a home may list (Slack: 100 blocks per view)."""
    runtime = sandbox.runtime
    await seed_demo(runtime.db, secret=runtime.services.secret, base_url=sandbox.app_url)
    now = datetime.now(UTC).replace(microsecond=0)
    links: dict[str, str] = {}
    async with runtime.db.session() as session:
        await remove_salespeople(session=session, user_ids=[SALESPERSON, OFF_ROSTER])
        await add_salespeople(session=session, user_ids=[ADMIN])
        admin = await employee_by_user(session=session, user_id=ADMIN)
        assert admin is not None
        for n in range(1, MANY_ACTIVITIES + 1):
            start = now - timedelta(hours=1) if n == 1 else now + timedelta(days=n)
            activity = await create_activity(
                session=session,
                draft=ActivityDraft(
                    name=f"Roadshow stop {n}: partner day in city number {n}",
                    starts_at=start,
                    ends_at=start + timedelta(hours=6),
                    material_type="event_invitation",
                    headline="",
                    intro="",
                    kpi_views=100,
                    tz="Asia/Shanghai",
                ),
                created_by=ADMIN,
            )
            activity.status = "published"
            session.add(activity)
            if n <= SHARED:
                share = await get_or_create_share(
                    session=session, activity=activity, employee=admin
                )
                assert share.id is not None
                links[f"{n}"] = share_url(runtime.services.codec, sandbox.app_url, share.id)
    customers = [("1", n) for n in range(MANY_LEADS["awaiting"])] + [
        ("2", n) for n in range(MANY_LEADS["new"])
    ]
    for number, (stop, n) in enumerate(customers):
        # Each on their own phone and network (the sandbox's app trusts its local proxy).
        headers = {**PHONE, "X-Forwarded-For": f"203.0.113.{number + 1}"}
        async with aiohttp.ClientSession() as customer:
            form = await signup_form(customer, links[stop], headers)
            fields = {
                "name": f"Customer {stop}-{n}",
                "phone": f"+8613800{number:06d}",
                "company": UNBROKEN if number == len(customers) - 1 else "",  # shown first
            }
            fields = {**form, **fields}
            async with customer.post(
                f"{links[stop]}/signup", data=fields, headers=headers
            ) as response:
                assert response.status == 200, await response.text()


async def test_a_crowded_home_stays_within_slacks_limits(tmp_path: Path) -> None:
    """Admin, salesperson and employee at once, with more of everything than fits: the home
    the browser shows has at most 100 blocks, each list says "and N more", and nothing
    the person needs first (the admin's buttons, the leads) is what gets cut."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)
    sandbox = await start_sandbox(
        app_port=0,
        ui_port=0,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'many.db'}",
        seed=False,
    )
    try:
        await many_things(sandbox)
        world = World(sandbox, "en", ADMIN, [])
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium_executable())
            try:
                page = await open_home(browser, world, ADMIN)
                home = page.locator("#pane .home")
                await expect(home.get_by_role("heading", name="📇 My leads")).to_be_visible()
                blocks = home.locator(".blocks > .bk-block")
                view = sandbox.emulator.workspace.home_of(ADMIN)
                assert view is not None
                await expect(blocks).to_have_count(len(view.view["blocks"]))
                assert len(view.view["blocks"]) <= 100
                for more in (
                    "…and 26 more",  # 5 of 31 open activities (30 and the demo's)
                    "…and 8 more",  # 5 of 13 new leads
                    "…and 3 more",  # 5 of 8 awaiting an outcome
                    "…and 4 more",  # 10 of 14 shares
                    "…and 7 more",  # 10 of the 17 activities not shared yet
                ):
                    await expect(home.get_by_text(more)).to_be_visible()
                # The whole home is there down to its last line (the points rules).
                await expect(blocks.last).to_contain_text("Points: 1 per unique visitor")
                # A company name with no space to break at wraps inside the home.
                await expect(home.get_by_text(UNBROKEN, exact=False)).to_be_visible()
                assert await home.evaluate("h => h.scrollWidth <= h.clientWidth")
                await shot(page, "home-crowded-en.png")
            finally:
                await browser.close()
    finally:
        await sandbox.stop()
