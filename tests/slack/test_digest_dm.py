"""`/sharetrail me notify digest on|off` and the digest DM, through Slack's protocol."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.digests import digest_window
from bot.scheduler import run_due
from store.models import Employee, View
from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card, shown, view_landing, wait_for_dm
from tests.slack.test_commands import reply_to


async def test_turning_the_digest_on_and_off(stack: Stack) -> None:
    assert "Daily digest on" in await reply_to(stack, EMPLOYEE, "me notify digest on")
    me = await reply_to(stack, EMPLOYEE, "me")
    assert "Live notifications are on; the daily digest is on" in me
    assert "Daily digest off" in await reply_to(stack, EMPLOYEE, "me notify digest off")
    assert "the daily digest is off" in await reply_to(stack, EMPLOYEE, "me")
    for bad in ("me notify digest", "me notify digest maybe", "me notify sometimes"):
        assert "me notify digest on|off" in await reply_to(stack, EMPLOYEE, bad)


async def test_the_digest_dm_tells_yesterdays_numbers(stack: Stack) -> None:
    await reply_to(stack, EMPLOYEE, "me notify digest on")
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    await stack.settle()
    async with stack.runtime.db.session() as session:
        viewed_at = (await session.exec(select(View.at))).one()
        employee = (await session.exec(select(Employee).where(Employee.user_id == EMPLOYEE))).one()

    # The first nine o'clock (the employee's time) after the view: its digest covers it.
    nine = digest_window(viewed_at + timedelta(days=1), employee.tz)[2]
    report = await run_due(db=stack.runtime.db, now=nine)
    assert report.digests == 1
    stack.services.outbox.wake()
    dm = await wait_for_dm(stack, EMPLOYEE, "Your ShareTrail day")
    assert dm.text.endswith(": 1 view, 0 sign-ups.")
    body = shown(dm.blocks)
    assert "Spring launch webinar: 1 view (1 visitor), 0 sign-ups" in body
    assert "me notify digest off" in body
    again = await run_due(db=stack.runtime.db, now=nine + timedelta(hours=1))
    assert again.digests == 0
