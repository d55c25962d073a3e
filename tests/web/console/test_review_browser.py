"""Points in the console: an activity's own rules, set in the Slack modal, read the same in
the channel post and on the console's activity page; a phone signed up through two
employees' links waits in /console/review (admins only, CSRF), where the admin approves it
in headless Chromium (screenshot in docs/), audited, and the points become available."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot import audit, ledger
from bot.points import Rules, rules_line
from store.models import AuditEntry, PointFlag
from tests.browser_support import screenshot_path
from tests.conftest import CJK_EMPLOYEE, EMPLOYEE, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card, sign_up
from tests.ledger_support import assert_ledger_consistent
from tests.web.console.conftest import SignIn
from tests.web.console.test_console_browser import sign_in_as_admin

pytestmark = pytest.mark.browser

PHONE = "+86 139 0000 0042"


async def test_review_queue_in_the_browser(
    console_stack: Stack, browser: Any, signed_in: SignIn
) -> None:
    from playwright.async_api import expect

    stack = console_stack
    await add_global_roster(stack, SALES[0])
    first = await create_activity(stack)
    second = await create_activity(stack, name="Autumn tour", points_signup="15")
    rules = Rules(signup=15)
    # The same words wherever the rules are mentioned: the channel post…
    posts = {m.ts: m.text + str(m.blocks) for m in stack.slack.workspace.history("C_MARKETING")}
    (autumn,) = [ts for ts, post in posts.items() if "Autumn tour" in post]
    (spring,) = [ts for ts, post in posts.items() if "Autumn tour" not in post]
    assert "15 per sign-up" in posts[autumn] and "10 per sign-up" in posts[spring]
    # Ann and Li share different activities; one customer signs up through both links.
    ann = await get_share_card(stack, EMPLOYEE, first, ts=spring)
    li = await get_share_card(stack, CJK_EMPLOYEE, second, ts=autumn)
    await sign_up(stack, ann.url, {"name": "Zhou Min", "phone": PHONE})
    await sign_up(stack, li.url, {"name": "Zhou Min", "phone": PHONE})
    await stack.settle()
    services = stack.runtime.services
    li_id = (await services.sync_employee(CJK_EMPLOYEE)).id
    assert li_id is not None
    async with stack.runtime.db.session() as session:
        assert await ledger.balance(session, li_id) == ledger.Balance(
            1, 0, 15
        )  # her visitor: 1 available
        (flag,) = (await session.exec(select(PointFlag))).all()
    assert flag.reason == "shared_phone" and flag.status == "open"

    admin = await signed_in("U_ADMIN")
    employee = await signed_in(EMPLOYEE)
    status, _, _ = await employee.get("/console/review")
    assert status == 403
    status, _, _ = await admin.post(f"/console/review/{flag.id}", {"decision": "approve"})
    assert status == 403  # no CSRF token: refused, nothing decided
    status, body, _ = await admin.get(f"/console/activities/{second}")
    assert status == 200 and rules_line(rules) in body.replace("&#39;", "'")

    context = await browser.new_context(viewport={"width": 1100, "height": 760})
    page = await context.new_page()
    await sign_in_as_admin(page, stack)
    await page.get_by_role("link", name="Review").click()
    await expect(page.get_by_role("heading", name="Review")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="several employees")
    await expect(row).to_contain_text("Autumn tour")
    await expect(row).to_contain_text("15")
    await page.screenshot(path=str(screenshot_path("console-review.png")), full_page=True)
    await row.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text("Approved: the points are available.")).to_be_visible()
    await expect(page.get_by_text("Nothing waits for review.")).to_be_visible()
    await context.close()

    async with stack.runtime.db.session() as session:
        assert await ledger.balance(session, li_id) == ledger.Balance(16, 0, 0)
        await assert_ledger_consistent(session)
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == audit.REVIEW_APPROVE))
        ).all()
        assert [(e.actor, e.subject) for e in entries] == [("U_ADMIN", f"flag:{flag.id}")]
