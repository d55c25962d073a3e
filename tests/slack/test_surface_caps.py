"""Every surface stays within Slack's limits however many activities there are (50 blocks a
message, 100 a view, 3,000 characters a section), with "and N more" and a way to the rest.
The stand-in refuses what Slack refuses, so an overflow shows up here as a missing reply."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from bot.activities import ActivityDraft
from bot.digests import digest_window
from bot.scheduler import WEEKLY_ACTIVITIES, report_week, run_due
from bot.shares import get_or_create_share
from store.models import Employee, View
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import create_activity, in_days, view_landing, wait_for_dm
from tests.slack.test_commands import reply_to


async def shared_activities(stack: Stack, user: str, count: int, suffix: str = "") -> list[str]:
    """`count` published activities `user` has shared (made through the services; the
    surfaces under test are reached through Slack); returns their share links."""
    services = stack.services
    employee = await services.sync_employee(user)
    links = []
    for number in range(1, count + 1):
        draft = ActivityDraft(
            name=f"Roadshow stop {number}{suffix}",
            starts_at=in_days(7),
            ends_at=in_days(7, hour=11),
            material_type="event_invitation",
        )
        activity = await services.create_activity(draft, created_by=ADMIN)
        assert activity.id is not None
        activity = await services.mark_published(
            activity.id,
            channel_id="C_MARKETING",
            ts=f"1700000000.{number:06d}",
            by_user_id=ADMIN,
        )
        async with stack.runtime.db.session() as session:
            share = await get_or_create_share(session=session, activity=activity, employee=employee)
        assert share.id is not None
        links.append(services.share_link(share.id, "card_qr"))
    return links


def names(blocks: object) -> list[int]:
    """The activity numbers a surface shows, in order."""
    return [int(n) for n in re.findall(r"Roadshow stop (\d+)", json.dumps(blocks))]


async def test_me_pages_past_50_blocks(stack: Stack) -> None:
    await shared_activities(stack, EMPLOYEE, 48)

    first = await reply_to(stack, EMPLOYEE, "me")
    message = stack.slack.last_message("C_GENERAL", viewer=EMPLOYEE)
    assert message is not None and len(message.blocks) <= 50
    page_one = names(message.blocks)
    assert len(page_one) == 40
    assert "and 8 more: `/sharetrail me 2`" in first
    assert "All 48 activities" in first

    second = await reply_to(stack, EMPLOYEE, "me 2")
    message = stack.slack.last_message("C_GENERAL", viewer=EMPLOYEE)
    assert message is not None
    assert sorted(page_one + names(message.blocks)) == list(range(1, 49))  # newest first
    assert "page 2 of 2" in second and "more:" not in second


async def test_app_home_caps_at_100_blocks(stack: Stack) -> None:
    await shared_activities(stack, EMPLOYEE, 49)
    since = stack.slack.mark()
    await stack.slack.open_app_home(EMPLOYEE)
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(EMPLOYEE)
    assert home is not None and len(home.view["blocks"]) <= 100
    shown = names(home.view["blocks"])
    assert shown == list(range(49, 49 - len(shown), -1))  # the newest ones
    text = json.dumps(home.view)
    assert f"and {49 - len(shown)} more: `/sharetrail me` lists them all." in text


async def test_a_failing_app_home_is_told_to_the_user(stack: Stack) -> None:
    """An event has no response_url: the error handler DMs the user named in the event."""
    stack.slack.faults.add("views.publish", "error", error="internal_error")
    await stack.slack.open_app_home(EMPLOYEE)
    await wait_for_dm(stack, EMPLOYEE, "Something went wrong")


async def test_the_daily_digest_caps_its_lines(stack: Stack) -> None:
    await reply_to(stack, EMPLOYEE, "me notify off")
    await reply_to(stack, EMPLOYEE, "me notify digest on")
    for link in await shared_activities(stack, EMPLOYEE, 49):
        await view_landing(stack, link)
    await stack.settle()
    async with stack.runtime.db.session() as session:
        employee = (await session.exec(select(Employee).where(Employee.user_id == EMPLOYEE))).one()
        first_view = (await session.exec(select(func.min(View.at)))).one()
    # The first nine o'clock (the employee's time) after the views: its digest covers them.
    nine = digest_window(first_view + timedelta(days=1), employee.tz)[2]
    assert (await run_due(db=stack.runtime.db, now=nine)).digests == 1
    stack.services.outbox.wake()

    dm = await wait_for_dm(stack, EMPLOYEE, "Your ShareTrail day")
    assert dm.text.endswith(": 49 views, 0 sign-ups.")
    assert len(dm.blocks) <= 50
    assert names(dm.blocks) == list(range(1, 41))
    assert "and 9 more: `/sharetrail me` has every activity's numbers." in json.dumps(dm.blocks)


async def test_a_long_intro_is_shown_whole_and_verbatim(stack: Stack) -> None:
    """The intro (at most 3,000 characters) is rich text, not mrkdwn: nothing to escape or
    cut (issue 13 section 5 replaced the escaped, cut section)."""
    line = "Bring <your badge> & a friend\n"  # 30 characters, 42 once escaped
    intro = ("Agenda:\n" + line * 99).strip()
    await create_activity(stack, intro=intro)
    since = stack.slack.mark()
    await stack.slack.click_button(EMPLOYEE, "activity_details", channel="C_MARKETING")
    opened = await stack.slack.wait_for_call("views.open", since=since)
    [shown] = [
        "".join(e.get("text", "") for part in b["elements"] for e in part["elements"])
        for b in opened.args["view"]["blocks"]
        if b.get("type") == "rich_text" and "Agenda:" in str(b)
    ]
    assert shown == intro


async def test_the_weekly_report_says_how_many_more(stack: Stack) -> None:
    await shared_activities(stack, EMPLOYEE, WEEKLY_ACTIVITIES + 2)
    monday = report_week(datetime.now(UTC) + timedelta(days=7))[2]
    assert (await run_due(db=stack.runtime.db, now=monday, admin_ids=(ADMIN,))).weekly_reports
    stack.services.outbox.wake()

    report = await wait_for_dm(stack, ADMIN, "weekly report")
    assert len(names(report.blocks)) == WEEKLY_ACTIVITIES
    assert "and 2 more: `/sharetrail list` names them all." in json.dumps(report.blocks)


async def test_list_pages_past_40_activities(stack: Stack) -> None:
    """45 activities with 180-character names: 40 a page, then where the rest are."""
    await shared_activities(stack, EMPLOYEE, 45, suffix=" — " + "Grand & <Tour> " * 11)
    first = await reply_to(stack, EMPLOYEE, "list")
    message = stack.slack.last_message("C_GENERAL", viewer=EMPLOYEE)
    assert message is not None
    page_one = names(message.blocks)
    assert len(page_one) == 40 and len(message.blocks) <= 50
    assert "and 5 more: `/sharetrail list 2`" in first

    await reply_to(stack, EMPLOYEE, "list 2")
    message = stack.slack.last_message("C_GENERAL", viewer=EMPLOYEE)
    assert message is not None
    assert sorted(page_one + names(message.blocks)) == list(range(1, 46))
