"""The salesperson's lead DM: outcome buttons, changing an outcome, thread notes."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from sandbox.workspace import Message
from store.models import LeadNote
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    get_share_card,
    sign_up,
    wait_for_dm,
)

SALESPERSON = "U_SALES1"


@pytest.fixture
async def lead_dm(stack: Stack) -> Message:
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    message = await wait_for_dm(stack, SALESPERSON, "New lead")
    await stack.settle()  # the outbox records where the DM landed: the lead's thread
    return message


def buttons(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


async def tap(stack: Stack, action_id: str, message: Message) -> str:
    since = stack.slack.mark()
    delivery = await stack.slack.click_button(SALESPERSON, action_id, ts=message.ts)
    assert delivery.status == 200 and not delivery.timed_out
    update = await stack.slack.wait_for_call("chat.update", since=since)
    return str(update.args["blocks"])


async def test_lead_dm_offers_outcomes(stack: Stack, lead_dm: Message) -> None:
    assert {"lead_outcome_attended", "lead_outcome_no_show", "lead_outcome_converted"} <= set(
        buttons(lead_dm)
    )
    assert "+86" in lead_dm.text  # the salesperson sees the phone number to call


async def test_outcome_then_change(stack: Stack, lead_dm: Message) -> None:
    assert "Attended by <@U_SALES1>" in await tap(stack, "lead_outcome_attended", lead_dm)
    assert lead_dm.edited
    await wait_for_dm(stack, EMPLOYEE, "attended")

    changed = await tap(stack, "lead_outcome_converted", lead_dm)
    assert re.search("changed from .*Attended to .*Converted", changed)
    await wait_for_dm(stack, EMPLOYEE, r"converted at .*changed from .*Attended")

    again = await tap(stack, "lead_outcome_converted", lead_dm)
    assert "already" in again.lower() or "nothing changed" in again.lower()

    _, row = await stack.services.my_stats(EMPLOYEE, 1)
    # The customer's view of the page she signed up on (1), the sign-up, the outcome.
    assert (row.attended, row.converted, row.points) == (1, 1, 1 + 10 + 20 + 50)

    await tap(stack, "lead_outcome_no_show", lead_dm)
    _, row = await stack.services.my_stats(EMPLOYEE, 1)
    assert (row.signups, row.attended, row.converted, row.points) == (1, 0, 0, 1 + 10)


async def test_only_the_assigned_salesperson_or_an_admin_records(
    stack: Stack, lead_dm: Message
) -> None:
    """Someone else replaying the button payload (signed, so from inside Slack) changes
    nothing; an admin may record on the salesperson's behalf."""
    element = next(
        e
        for b in lead_dm.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "lead_outcome_converted"
    )

    async def replay(user: str) -> None:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": "T_SANDBOX"},
            "team": {"id": "T_SANDBOX"},
            "trigger_id": f"1.2.{user}",  # each tap has its own trigger
            "channel": {"id": lead_dm.channel},
            "container": {
                "type": "message",
                "message_ts": lead_dm.ts,
                "channel_id": lead_dm.channel,
            },
            "message": lead_dm.to_json(),
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": "outcome",
                    "value": element["value"],
                }
            ],
        }
        delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
        assert delivery.status == 200

    since = stack.slack.mark()
    await replay("U_BOB")
    await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args["channel"] == "U_BOB", since=since
    )
    assert stack.slack.calls_to("chat.update", since) == []
    lead, _, _ = await stack.services.lead_context(1)
    assert lead.outcome is None

    await replay(ADMIN)
    await stack.slack.wait_for_call("chat.update", since=since)
    lead, _, _ = await stack.services.lead_context(1)
    assert lead.outcome == "converted"


async def test_thread_reply_becomes_a_note(stack: Stack, lead_dm: Message) -> None:
    since = stack.slack.mark()
    await stack.slack.say(
        SALESPERSON, lead_dm.channel, "Called her, she wants a demo on Friday", thread_ts=lead_dm.ts
    )
    await stack.slack.wait_for_call("reactions.add", since=since)
    async with stack.runtime.db.session() as session:
        notes = list(await session.exec(select(LeadNote)))
    assert [n.text for n in notes] == ["Called her, she wants a demo on Friday"]
    # A message outside any lead thread is not a note.
    await stack.slack.say(SALESPERSON, lead_dm.channel, "hello bot")
    async with stack.runtime.db.session() as session:
        assert len(list(await session.exec(select(LeadNote)))) == 1
