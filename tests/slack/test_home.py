"""App Home and the details modal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.home import HomeData, OpenLead
from bot.stats import ActivityReport
from handlers.slack import home_blocks
from sandbox import validation
from store.models import Activity, Lead
from store.queries import StatRow
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    get_share_card,
    shown,
    sign_up,
    view_landing,
)
from tests.slack.test_commands import reply_to


async def test_app_home_lists_my_activities_with_stats(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    await stack.settle()

    since = stack.slack.mark()
    deliveries = await stack.slack.open_app_home(EMPLOYEE)
    assert [d.status for d in deliveries] == [200]
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(EMPLOYEE)
    assert home is not None and home.view["type"] == "home"
    text = json.dumps(home.view, ensure_ascii=False)
    assert "Spring launch webinar" in text
    assert '"action_id": "my_stats", "value": "1"' in text
    assert "1 view · 1 unique · 0 sign-ups" in text

    second = await create_activity(stack, name="Autumn summit")
    await stack.slack.open_app_home(EMPLOYEE)
    await stack.slack.wait_until(lambda: "Autumn summit" in json.dumps(home.view))
    assert f'"action_id": "get_share_card", "value": "{second}"' in json.dumps(home.view)


async def test_details_modal_offers_the_card(stack: Stack) -> None:
    await create_activity(stack)
    since = stack.slack.mark()
    await stack.slack.click_button(EMPLOYEE, "activity_details", channel="C_MARKETING")
    opened = await stack.slack.wait_for_call("views.open", since=since)
    text = json.dumps(opened.args["view"], ensure_ascii=False)
    for expected in ("Spring launch webinar", "Event invitation", "See what's new", "100"):
        assert expected in text
    details = stack.slack.workspace.views[
        next(
            v
            for v in stack.slack.workspace.views
            if stack.slack.workspace.views[v].user == EMPLOYEE
        )
    ]
    card = await get_share_card(stack, EMPLOYEE, 1, view_id=details.id, channel=None)
    assert card.url.startswith(stack.app_url)


async def _home(stack: Stack, user: str) -> dict[str, Any]:
    since = stack.slack.mark()
    deliveries = await stack.slack.open_app_home(user)
    assert [d.status for d in deliveries] == [200]
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(user)
    assert home is not None
    return home.view


async def test_app_home_by_role(stack: Stack) -> None:
    """Admin + salesperson (ADMIN, on the roster) sees both sections; the employee their
    shares, rank and top 10; outcome buttons on the home record and redraw it; the chart
    image is served from its signed link and nowhere else."""
    await add_global_roster(stack, ADMIN)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await sign_up(stack, card.url, {"name": "Wang *Wei*", "phone": "+8613800138000"})
    await stack.settle()

    view = await _home(stack, ADMIN)
    text = shown(view)
    assert "🛠 Admin" in text and "📇 My leads" in text and "📣 My shares" in text
    assert "`▓░░░░░░░░░` Views: 1 / 100 (1%)" in text
    assert "`▓░░░░░░░░░` Sign-ups: 1 / 20 (5%)" in text  # never an empty bar for some
    assert "`░░░░░░░░░░` Attendance: 0 / 10 (0%)" in text
    assert "Funnel:* 1 view → 1 visitor → 1 sign-up → 0 attended → 0 converted" in text
    assert "Every message has been sent" in text or "waiting" in text
    phone = "+86\u00a0138\u00a00013\u00a08000"
    assert f"*🆕 New* (1)\n*#1 *Wang *Wei* — Spring launch webinar · {phone}" in text
    elements = json.dumps(view)
    for action in ("home_new_activity", "home_export", "home_console", "lead_timeline"):
        assert f'"action_id": "{action}"' in elements
    images = [b for b in view["blocks"] if b["type"] == "image"]
    assert len(images) == 1
    async with stack.http.get(images[0]["image_url"]) as response:
        assert response.status == 200
        assert (await response.read())[:8] == b"\x89PNG\r\n\x1a\n"
    forged = images[0]["image_url"].replace("/charts/", "/charts/x")
    async with stack.http.get(forged) as response:
        assert response.status == 404

    # An outcome tapped on the home is recorded and the home redrawn with the lead moved.
    home_id = stack.slack.workspace.home_views[ADMIN]
    since = stack.slack.mark()
    await stack.slack.click_button(ADMIN, "lead_outcome_attended", view_id=home_id)
    await stack.slack.wait_for_call("views.publish", since=since)
    assert "📞 Follow-up due* (1)" in shown(stack.slack.workspace.views[home_id].view)

    view = await _home(stack, EMPLOYEE)
    text = shown(view)
    assert "🛠 Admin" not in text and "📇 My leads" not in text
    assert "rank #1 of 1" in text and f"1. <@{EMPLOYEE}>" not in text
    assert f"🥇 <@{EMPLOYEE}>" in text
    assert "1 view · 1 unique · 1 sign-up" in text


def test_home_view_stays_within_slack_limits() -> None:
    """Hundreds of activities, leads and shares: capped lists with 'and N more', 100 blocks
    at most, and a view the strict stand-in accepts."""
    now = datetime.now(UTC)
    activities = [
        Activity(
            id=n,
            name=f"Activity {n}",
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2),
            status="published",
            kpi_views=100,
        )
        for n in range(1, 301)
    ]
    reports = [ActivityReport(a, StatRow(a.id, views=250), {}, 3) for a in activities[:5]]
    leads = [
        OpenLead(
            Lead(
                id=n,
                share_id=1,
                activity_id=1,
                employee_id=1,
                name=f"C{n}",
                phone="1",
                visitor_key="k",
                visitor_hash="h",
            ),
            "Activity 1",
            ("new", "awaiting", "follow_up")[n % 3],
        )
        for n in range(1, 301)
    ]
    data = HomeData(
        user_id=ADMIN,
        is_admin=True,
        is_salesperson=True,
        open_reports=reports,
        open_total=300,
        leads=leads,
        overview=[(a, StatRow(a.id)) for a in activities[:200]],
        open_activities=activities,
    )
    view = home_blocks.home_view(
        data, chart_url=lambda a, k: f"https://example.com/{a}/{k}.png", console_url="https://x"
    )
    assert validation.view_problems(view) == []
    assert len(view["blocks"]) <= 100
    text = shown(view)
    assert "…and 295 more" in text  # admin: 5 of 300 activities
    assert "…and 95 more: `/sharetrail leads`" in text  # 5 of 100 in each state
    assert "…and 190 more: `/sharetrail me` lists them all." in text
    assert "`▓▓▓▓▓▓▓▓▓▓` Views: 250 / 100 (250%)" in text  # the bar stays full past 100 %
    assert len([b for b in view["blocks"] if b["type"] == "image"]) == home_blocks.ADMIN_CHARTS
    many = home_blocks.capped([{"type": "divider"}] * 150)
    assert len(many) == 100 and "…and 51 more" in shown(many)


async def test_leads_subcommand_lists_and_records(stack: Stack) -> None:
    """`/sharetrail leads`: the salesperson's open leads with their state and buttons; an
    outcome tapped on that ephemeral list is recorded and confirmed."""
    await add_global_roster(stack, SALES[0])
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await sign_up(stack, card.url, {"name": "Li Lei", "phone": "+8613800138001"})
    await stack.settle()

    reply = await reply_to(stack, SALES[0], "leads")
    assert "Your open leads* (1)" in reply and "Li Lei" in reply and "🆕 New" in reply
    assert "lead_outcome_converted" in reply and "lead_timeline" in reply
    assert "No open leads" in await reply_to(stack, EMPLOYEE, "leads")

    since = stack.slack.mark()
    await stack.slack.click_button(SALES[0], "lead_outcome_converted", channel="C_GENERAL")
    await stack.slack.wait_for_call("response_url", since=since)
    await stack.settle()
    lead, _, _ = await stack.services.lead_context(1)
    assert lead.outcome == "converted"
    confirmation = stack.slack.last_message("C_GENERAL", viewer=SALES[0])
    assert confirmation is not None and "Outcome recorded" in confirmation.text
    assert "No open leads" in await reply_to(stack, SALES[0], "leads")  # converted: done


async def test_share_card_answers_in_channel_and_a_second_tap_points_to_the_first(
    stack: Stack,
) -> None:
    """Tapped under the channel post: the card goes to the DM and the channel says so
    (ephemeral); a second tap sends no second card but points to the first, with "Send
    again", which sends a fresh one."""
    activity_id = await create_activity(stack)
    since = stack.slack.mark()
    await get_share_card(stack, EMPLOYEE, activity_id)
    await stack.slack.wait_for_call("chat.postEphemeral", since=since)
    told = stack.slack.last_message("C_MARKETING", viewer=EMPLOYEE)
    assert told is not None and told.ephemeral_to == EMPLOYEE
    assert "Sent to your DMs" in told.text and "Spring launch webinar" in told.text

    cards = [m for m in stack.slack.dm_messages(EMPLOYEE) if m.files]
    since = stack.slack.mark()
    await stack.slack.click_button(EMPLOYEE, "get_share_card", channel="C_MARKETING")
    await stack.slack.wait_for_call("chat.postEphemeral", since=since)
    pointer = stack.slack.last_message("C_MARKETING", viewer=EMPLOYEE)
    assert pointer is not None and "You already have your card" in pointer.text
    assert [m for m in stack.slack.dm_messages(EMPLOYEE) if m.files] == cards

    since = stack.slack.mark()
    await stack.slack.click_button(EMPLOYEE, "share_card_again", channel="C_MARKETING")
    await stack.slack.wait_until(
        lambda: len([m for m in stack.slack.dm_messages(EMPLOYEE) if m.files]) == len(cards) + 1
    )
