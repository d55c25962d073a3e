"""The lead timeline (button on the lead DM and on the employee's sign-up DM, and
`/sharetrail lead ID`) with its permissions; known customers named on return visits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.records import Timeline, TimelineEntry
from bot.tracking import Classification, ViewResult, Visit
from handlers.slack.records_blocks import timeline_modal
from sandbox.workspace import Message
from store.models import Lead, View
from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    get_share_card,
    shown,
    sign_up,
    time_passes,
    view_landing,
    wait_for_dm,
)
from tests.records_flows import (
    CHECKIN_LINK,
    SALESPERSON,
    click_and_open,
    error_told_to,
    replay_click,
    reply_to,
    text_of,
)
from tests.slack.test_share_sources import tagged_link

MODAL = "lead_timeline_modal"
SALES_TZ = ZoneInfo("America/Los_Angeles")  # U_SALES1's zone in the sandbox workspace
PHONE = "+8613812345678"
MASKED = "+86*********78"


async def beacon(stack: Stack, url: str, **data: int) -> None:
    async with stack.http.post(
        f"{url}/beacon", json=data, headers={"User-Agent": MOBILE_UA}
    ) as response:
        assert response.status == 204


@pytest.fixture
async def history(stack: Stack) -> Message:
    """A lead with one of everything: a view via LinkedIn, the sign-up, an outcome, a call,
    a check-in and a thread note. Returns the salesperson's lead DM."""
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    await get_share_card(stack, EMPLOYEE, activity_id)
    linkedin = await tagged_link(stack, EMPLOYEE, activity_id, "linkedin")
    await view_landing(stack, linkedin)
    await stack.settle()
    await beacon(stack, linkedin, dwell_ms=95_000, scroll_pct=80)
    await sign_up(stack, linkedin, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    lead_dm = await wait_for_dm(stack, SALESPERSON, "New lead")
    await stack.settle()

    since = stack.slack.mark()
    await stack.slack.click_button(SALESPERSON, "lead_outcome_attended", ts=lead_dm.ts)
    await stack.slack.wait_for_call("chat.update", since=since)
    await stack.services.records.log_contact(
        1,
        user_id=SALESPERSON,
        kind="call",
        at=datetime.now(UTC),
        summary="Follow-up call: sending the proposal.",
    )
    since = stack.slack.mark()
    await stack.slack.click_button(SALESPERSON, "check_in", ts=lead_dm.ts)
    call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "checkin" in str(c.args.get("text")), since=since
    )
    match = CHECKIN_LINK.search(str(call.args["text"]))
    assert match
    since = stack.slack.mark()
    await stack.slack.say(SALESPERSON, lead_dm.channel, "Prefers WeChat", thread_ts=lead_dm.ts)
    await stack.slack.wait_for_call("reactions.add", since=since)
    # met_at has minute precision: two minutes ahead keeps it last in time order.
    met = (datetime.now(UTC) + timedelta(minutes=2)).astimezone(SALES_TZ)
    form = {"lat": "31.23", "lon": "121.47", "accuracy": "25", "note": "Signed the NDA"}
    form["met_at"] = met.strftime("%Y-%m-%dT%H:%M")
    async with stack.http.post(match.group(0), data=form) as response:
        assert response.status == 200
    await stack.settle()
    return lead_dm


def modal_text(stack: Stack, view_id: str) -> str:
    return shown(stack.slack.workspace.views[view_id].view)


async def test_salesperson_sees_everything_in_time_order(stack: Stack, history: Message) -> None:
    view = await click_and_open(stack, SALESPERSON, "lead_timeline", MODAL, ts=history.ts)
    text = modal_text(stack, view.id)
    assert view.view["title"]["text"] == "Lead #1"
    assert PHONE in text and "Acme" not in text
    assert "Counted views by source: `linkedin` 1" in text and "read 2 min in total" in text
    order = [
        "Viewed via LinkedIn on a phone · read 2 min · scrolled 80%",
        "Signed up* via LinkedIn",
        "Attended by <@U_SALES1>",
        "*Call* by <@U_SALES1>: Follow-up call: sending the proposal.",
        "Note by <@U_SALES1>: Prefers WeChat",
        "Met in person* by <@U_SALES1>",
    ]
    positions = [text.find(fragment) for fragment in order]
    assert -1 not in positions, (positions, text)
    assert positions == sorted(positions), text
    assert "openstreetmap.org/?mlat=31.230000" in text and "Signed the NDA" in text


async def test_employee_opens_it_from_the_sign_up_dm_with_the_phone_masked(
    stack: Stack, history: Message
) -> None:
    signed_up = await wait_for_dm(stack, EMPLOYEE, "signed up")
    assert "lead_timeline" in json.dumps(signed_up.blocks)
    assert "Wang Fang" in signed_up.text  # the words are unchanged, the button is added
    view = await click_and_open(stack, EMPLOYEE, "lead_timeline", MODAL, ts=signed_up.ts)
    text = modal_text(stack, view.id)
    assert MASKED in text and PHONE not in text and "138 1234" not in text
    assert "Signed up* via LinkedIn" in text and "phone is hidden" in text


# The salesperson's own records in the `history` fixture: a call's summary, a thread note,
# and the check-in's place, accuracy and note.
SALES_RECORDS = (
    "Follow-up call",
    "Prefers WeChat",
    "Met in person",
    "openstreetmap.org",
    "31.23",
    "121.47",
    "±25 m",
    "Signed the NDA",
)
CUSTOMER_STORY = (
    "Viewed via LinkedIn on a phone",
    "Signed up* via LinkedIn",
    "Attended by <@U_SALES1>",
)


async def test_the_employee_sees_the_customers_story_not_the_sales_records(
    stack: Stack, history: Message
) -> None:
    """Through signed clicks: the sharing employee gets views, sign-up and outcome; the
    salesperson and an admin also get the contacts, notes and the check-in's place."""
    signed_up = await wait_for_dm(stack, EMPLOYEE, "signed up")
    view = await click_and_open(stack, EMPLOYEE, "lead_timeline", MODAL, ts=signed_up.ts)
    employee_sees = modal_text(stack, view.id)
    assert all(fragment in employee_sees for fragment in CUSTOMER_STORY), employee_sees
    leaked = [fragment for fragment in SALES_RECORDS if fragment in employee_sees]
    assert leaked == [], employee_sees
    timeline = await stack.services.records.timeline(1, user_id=EMPLOYEE)
    assert {e.kind for e in timeline.entries} == {"view", "signup", "outcome"}

    view = await click_and_open(stack, SALESPERSON, "lead_timeline", MODAL, ts=history.ts)
    salesperson_sees = modal_text(stack, view.id)
    reply = await reply_to(stack, ADMIN, "lead 1")
    view = await click_and_open(stack, ADMIN, "lead_timeline", MODAL, ts=reply.ts)
    admin_sees = modal_text(stack, view.id)
    for sees in (salesperson_sees, admin_sees):
        missing = [f for f in CUSTOMER_STORY + SALES_RECORDS if f not in sees]
        assert missing == [], sees


async def test_admin_gets_it_from_the_lead_command(stack: Stack, history: Message) -> None:
    reply = await reply_to(stack, ADMIN, "lead 1")
    assert "lead_timeline" in text_of(reply) and PHONE in text_of(reply)
    view = await click_and_open(stack, ADMIN, "lead_timeline", MODAL, ts=reply.ts)
    assert PHONE in modal_text(stack, view.id)


async def test_the_lead_command_masks_and_refuses_like_the_timeline(
    stack: Stack, history: Message
) -> None:
    assert MASKED in text_of(await reply_to(stack, EMPLOYEE, "lead 1"))
    refused = text_of(await reply_to(stack, "U_BOB", "lead 1"))
    assert "There is no lead 1 you can see" in refused and "lead_timeline" not in refused


@pytest.mark.parametrize("outsider", ["U_BOB", "U_SALES2"])
async def test_others_are_refused(stack: Stack, history: Message, outsider: str) -> None:
    since = stack.slack.mark()
    await replay_click(stack, outsider, history, "lead_timeline", "1")
    assert "There is no lead 1 you can see" in await error_told_to(stack, outsider, since)
    assert stack.slack.calls_to("views.open", since) == []


async def test_known_customer_is_named_on_return_visits(stack: Stack) -> None:
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    await stack.settle()  # the view is committed before the sign-up, as in real time
    await sign_up(stack, card.url, {"name": "Li Lei", "phone": "+86 139 0000 1111"})
    await wait_for_dm(stack, SALESPERSON, "New lead")
    await stack.settle()

    await time_passes(stack)
    employee_dms = len(stack.slack.dm_messages(EMPLOYEE))
    await view_landing(stack, card.url)
    named = await wait_for_dm(stack, EMPLOYEE, "Li Lei is viewing", since=employee_dms)
    assert "again — 2nd visit" in named.text
    returned = await wait_for_dm(stack, SALESPERSON, "Your customer")
    assert "*Li Lei* (lead #1)" in returned.text and "again — 2nd visit" in returned.text

    await stack.settle()
    await beacon(stack, card.url, dwell_ms=240_000)
    await stack.settle()  # the reading time is stored before the customer comes back
    await time_passes(stack)
    sales_dms = len(stack.slack.dm_messages(SALESPERSON))
    await view_landing(stack, card.url)
    third = await wait_for_dm(stack, SALESPERSON, "3rd visit", since=sales_dms)
    assert "read 4 min so far" in third.text

    await stack.settle()
    async with stack.runtime.db.session() as session:
        views = (await session.exec(select(View).order_by(View.id))).all()  # type: ignore[arg-type]
    # Before sign-up, then attributed (the page she signed up on was a repeat, not counted).
    assert [v.lead_id for v in views if v.counted] == [None, 1, 1]
    timeline = await stack.services.records.timeline(1, user_id=SALESPERSON)
    assert [e.kind for e in timeline.entries] == ["view", "view", "signup", "view", "view"]
    assert timeline.views_by_source == {"card_qr": 3}


async def test_a_view_from_before_the_sign_up_is_not_a_return(stack: Stack) -> None:
    """Views are committed in batches, so one made just before the sign-up can be written
    after it and carry the lead's id; the salesperson is not told the customer is back."""
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await sign_up(stack, card.url, {"name": "Li Lei", "phone": "+86 139 0000 1111"})
    await wait_for_dm(stack, SALESPERSON, "New lead")
    lead, _, employee = await stack.services.lead_context(1)
    assert lead.id is not None and employee.id is not None
    visit = Visit(
        share_id=lead.share_id,
        activity_id=activity_id,
        employee_id=employee.id,
        source="card_qr",
        visitor_key=lead.visitor_key,
        visitor_hash=lead.visitor_hash,
        classification=Classification(False, "mobile", "human"),
        at=lead.created_at - timedelta(seconds=1),
    )
    result = ViewResult(view_id=1, counted=True, first_visit=True, visits=1, lead_id=lead.id)
    since = stack.slack.mark()
    await stack.services.records.customer_returned(visit, result)
    assert stack.slack.calls_to("chat.postMessage", since) == []
    await stack.services.records.customer_returned(
        replace(visit, at=lead.created_at + timedelta(minutes=40)), replace(result, visits=2)
    )
    [call] = stack.slack.calls_to("chat.postMessage", since)
    assert call.args["channel"] == SALESPERSON and "2nd visit" in str(call.args["text"])


def test_a_long_history_fits_slacks_modal_limits() -> None:
    """Hundreds of entries are packed into sections under 3,000 characters, under 100 blocks."""
    lead = Lead(
        id=7,
        share_id=1,
        activity_id=1,
        employee_id=1,
        name="A" * 100,
        phone="+8613800000000",
        visitor_key="v",
        visitor_hash="v",
        salesperson_id=SALESPERSON,
    )
    start = datetime(2026, 11, 25, tzinfo=UTC)
    entries = [
        TimelineEntry(at=start + timedelta(minutes=i), kind="view", source="dm", dwell_ms=5000)
        for i in range(500)
    ] + [
        TimelineEntry(
            at=start + timedelta(days=1, minutes=i),
            kind="contact",
            label="email",
            by_user_id=SALESPERSON,
            text="x" * 3000,
        )
        for i in range(40)
    ]
    view = timeline_modal(Timeline(lead, lead.phone, "Launch", EMPLOYEE, "admin", entries))
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert "Only the most recent entries are shown" in json.dumps(view)
    assert len(view["title"]["text"]) <= 24
