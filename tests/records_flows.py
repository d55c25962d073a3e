"""Steps shared by the lead-records tests (push sources, contacts, check-ins, timelines)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sandbox.delivery import Delivery
from sandbox.workspace import Message, View
from tests.conftest import EMPLOYEE, Stack
from tests.flows import (
    Card,
    add_global_roster,
    create_activity,
    get_share_card,
    latest_view,
    sign_up,
    wait_for_dm,
)

SALESPERSON = "U_SALES1"
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
CHECKIN_LINK = re.compile(r"https?://\S+/checkin/[A-Za-z0-9_\-.:]+")


@dataclass
class LeadSetup:
    activity_id: int
    card: Card
    lead_dm: Message  # the salesperson's lead message (its ts is the thread)


async def lead_setup(stack: Stack, phone: str = "+86 138 1234 5678") -> LeadSetup:
    """Roster, activity, the employee's card, one sign-up, the salesperson's lead DM."""
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await sign_up(stack, card.url, {"name": "Wang Fang", "phone": phone, "company": "Acme"})
    lead_dm = await wait_for_dm(stack, SALESPERSON, "New lead|新线索")  # in their language
    await stack.settle()
    return LeadSetup(activity_id, card, lead_dm)


async def reply_to(stack: Stack, user: str, text: str, channel: str = "C_GENERAL") -> Message:
    """The app's ephemeral answer (through response_url) to `/sharetrail text`."""
    since = stack.slack.mark()
    delivery = await stack.slack.send_slash_command(user, text, channel=channel)
    assert delivery.status == 200 and not delivery.timed_out, delivery
    await stack.slack.wait_for_call("response_url", since=since)
    message = stack.slack.last_message(channel, viewer=user)
    assert message is not None and message.ephemeral_to == user
    return message


def text_of(message: Message) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


async def replay_click(
    stack: Stack, user: str, message: Message, action_id: str, value: str
) -> Delivery:
    """Someone else sends a (validly signed) click on a message they cannot see."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "name": user.lower(), "team_id": "T_SANDBOX"},
        "team": {"id": "T_SANDBOX"},
        "trigger_id": stack.slack._trigger(user),
        "channel": {"id": message.channel},
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        "message": message.to_json(),
        "actions": [{"type": "button", "action_id": action_id, "block_id": "x", "value": value}],
    }
    delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
    assert delivery.status == 200
    return delivery


async def click_and_open(
    stack: Stack, user: str, action_id: str, callback_id: str, **where: Any
) -> View:
    """Tap a button that opens a modal; the modal as the user sees it."""
    since = stack.slack.mark()
    delivery = await stack.slack.click_button(user, action_id, **where)
    assert delivery.status == 200 and not delivery.timed_out, delivery
    await stack.slack.wait_for_call("views.open", since=since)
    view = latest_view(stack, user, callback_id)
    assert view is not None
    return view


async def error_told_to(stack: Stack, user: str, since: int) -> str:
    """The ephemeral (response_url) or DM error a refused click produced."""

    def told() -> str | None:
        for call in stack.slack.calls[since:]:
            if call.method == "response_url" or (
                call.method == "chat.postMessage" and call.args.get("channel") == user
            ):
                found = [
                    m.text
                    for c in stack.slack.workspace.channels.values()
                    for m in stack.slack.workspace.history(c.id, viewer=user)
                    if m.text.startswith(("⚠️", "😵"))
                ]
                if found:
                    return found[-1]
        return None

    text: str = await stack.slack.wait_until(told)
    return text


async def check_in_link(stack: Stack, setup: LeadSetup) -> str:
    """The salesperson taps Check in on the lead DM; the signed link the app DMs back."""
    since = stack.slack.mark()
    await stack.slack.click_button(SALESPERSON, "check_in", ts=setup.lead_dm.ts)
    call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "checkin" in str(c.args.get("text")), since=since
    )
    match = CHECKIN_LINK.search(str(call.args["text"]))
    assert match
    return match.group(0)
