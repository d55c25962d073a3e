"""The whole loop through Slack's protocol: announce, card, view, sign-up, outcome, numbers."""

from __future__ import annotations

import csv
import io

from tests.conftest import ADMIN, CJK_EMPLOYEE, EMPLOYEE, SALES, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    get_share_card,
    sign_up,
    view_landing,
    wait_for_dm,
)


async def test_full_story(stack: Stack) -> None:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)

    announcement = stack.slack.last_message("C_MARKETING")
    assert announcement is not None and "Spring launch webinar" in announcement.text
    action_ids = [
        e["action_id"] for b in announcement.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert action_ids == ["activity_details", "get_share_card", "my_stats"]

    card = await get_share_card(stack, EMPLOYEE, activity_id)
    assert card.qr_text() == card.url
    assert card.png.startswith(b"\x89PNG")

    page = await view_landing(stack, card.url)
    assert "Spring launch webinar" in page and "Ann Lee" in page
    viewed = await wait_for_dm(stack, EMPLOYEE, "viewing your card")
    assert "Spring launch webinar" in viewed.text

    done = await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    signed = await wait_for_dm(stack, EMPLOYEE, "signed up")
    assert "Wang Fang" in signed.text
    lead_dm = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "New lead" in str(c.args.get("text"))
    )
    salesperson = str(lead_dm.args["channel"])
    assert salesperson in SALES
    name = stack.slack.workspace.users[salesperson].real_name
    assert name in done

    since = stack.slack.mark()
    await stack.slack.click_button(salesperson, "lead_outcome_attended")
    update = await stack.slack.wait_for_call("chat.update", since=since)
    assert "Attended" in update.args["text"]
    await wait_for_dm(stack, EMPLOYEE, "attended")

    _, row = await stack.services.my_stats(EMPLOYEE, activity_id)
    assert (row.views, row.unique_visitors, row.signups, row.attended, row.points) == (
        1,
        1,
        1,
        1,
        1 + 10 + 20,
    )

    since = stack.slack.mark()
    await stack.slack.click_button(EMPLOYEE, "my_stats", channel="C_MARKETING")
    opened = await stack.slack.wait_for_call("views.open", since=since)
    modal_text = str(opened.args["view"])
    assert "31" in modal_text  # points

    csv_text = await stack.services.export_csv(activity_id)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    ann = next(r for r in rows if r["employee_id"] == EMPLOYEE)
    assert (ann["views"], ann["signups"], ann["attended"], ann["points"]) == ("1", "1", "1", "31")


async def test_chinese_employee_card(stack: Stack) -> None:
    activity_id = await create_activity(stack, name="新品发布会")
    card = await get_share_card(stack, CJK_EMPLOYEE, activity_id)
    assert card.qr_text() == card.url
    page = await view_landing(stack, card.url)
    assert "李雷" in page and "新品发布会" in page
    assert ADMIN
