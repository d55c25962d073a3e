"""Slack re-sends a request it thinks was not acknowledged (X-Slack-Retry-Num): the app
acknowledges the repeat and does nothing twice — no second card, lead note or activity."""

from __future__ import annotations

from sqlmodel import select

from store.models import LeadNote
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.flows import (
    activity_form,
    add_global_roster,
    create_activity,
    get_share_card,
    open_activity_modal,
    sign_up,
    wait_for_dm,
)


async def test_retried_block_action_sends_one_card(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    await get_share_card(stack, EMPLOYEE, activity_id)
    original = stack.slack.deliveries[-1]
    assert original.kind == "block_actions"
    for retry in (1, 2, 3):
        again = await stack.slack.endpoint.redeliver(original, retry)
        assert again.status == 200
    await stack.settle()
    uploads = stack.slack.calls_to("files.completeUploadExternal")
    assert len(uploads) == 1


async def test_retried_view_submission_creates_one_activity(stack: Stack) -> None:
    view = await open_activity_modal(stack)
    delivery = await stack.slack.submit_view(ADMIN, view.id, activity_form())
    assert delivery.status == 200
    again = await stack.slack.endpoint.redeliver(delivery, 1)
    assert again.status == 200
    await wait_for_dm(stack, ADMIN, "Created activity")
    await stack.settle()
    assert len(await stack.services.activities()) == 1
    assert len(stack.slack.calls_to("chat.postMessage")) == 2  # announcement + admin's note


async def test_retried_event_adds_one_note(stack: Stack) -> None:
    await add_global_roster(stack, *SALES)
    card = await get_share_card(stack, EMPLOYEE, await create_activity(stack))
    await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    lead_call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "New lead" in str(c.args.get("text"))
    )
    salesperson = str(lead_call.args["channel"])
    lead_dm = await wait_for_dm(stack, salesperson, "New lead")
    await stack.settle()

    await stack.slack.say(salesperson, lead_dm.channel, "Calling her now", thread_ts=lead_dm.ts)
    original = stack.slack.deliveries[-1]
    assert original.kind == "event"
    await stack.slack.wait_for_call("reactions.add")
    for retry in (1, 2):
        assert (await stack.slack.endpoint.redeliver(original, retry)).status == 200
    await stack.settle()
    async with stack.runtime.db.session() as session:
        notes = list(await session.exec(select(LeadNote)))
    assert [n.text for n in notes] == ["Calling her now"]
    assert len(stack.slack.calls_to("reactions.add")) == 1
