"""Publishing an activity where the bot cannot post: Slack answers channel_not_found for
a private channel the bot is not in, and the admin is told to invite it."""

from __future__ import annotations

import pytest

from sandbox.workspace import BOT_USER_ID, Channel
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import create_activity, wait_for_dm
from tests.slack.test_commands import reply_to

INVITE = "invite me with `/invite @ShareTrail`"


def private_channel(stack: Stack) -> Channel:
    return stack.slack.workspace.add_channel(
        Channel("C_SALESTEAM", "sales-team", [ADMIN, EMPLOYEE], is_private=True)
    )


async def test_publishing_in_a_private_channel_asks_to_invite_the_bot(stack: Stack) -> None:
    secret = private_channel(stack)
    activity_id = await create_activity(stack, channel_id=None)

    answer = await reply_to(stack, ADMIN, f"publish {activity_id} <#C_SALESTEAM|sales-team>")
    assert INVITE in answer and "could not post" not in answer
    assert stack.slack.workspace.history("C_SALESTEAM") == []
    assert (await stack.services.activity(activity_id)).channel_id is None

    stack.slack.workspace.join(secret, BOT_USER_ID)  # the admin types /invite @ShareTrail
    answer = await reply_to(stack, ADMIN, f"publish {activity_id} <#C_SALESTEAM|sales-team>")
    assert "Published" in answer
    (post,) = stack.slack.workspace.history("C_SALESTEAM")
    assert post.blocks


async def test_the_activity_modal_asks_to_invite_the_bot_too(stack: Stack) -> None:
    """Choosing a private channel in the modal: the activity is created, and the note
    says why it is not published yet."""
    private_channel(stack)
    await create_activity(stack, channel_id="C_SALESTEAM")
    note = await wait_for_dm(stack, ADMIN, "Created activity")
    assert INVITE in note.text


@pytest.mark.usefixtures("slack_timeout")
@pytest.mark.parametrize("fault", ["lost_reply", "http_500_after", "dropped"])
async def test_a_channel_post_whose_answer_is_lost_is_posted_once(stack: Stack, fault: str) -> None:
    """The post landed but its answer did not: found, not posted again; and published."""
    activity_id = await create_activity(stack, channel_id=None)
    stack.slack.faults.add(
        "chat.postMessage", fault, delay=3.0, where=lambda args: args["channel"] == "C_GENERAL"
    )
    answer = await reply_to(stack, ADMIN, f"publish {activity_id} <#C_GENERAL|general>")
    assert "Published" in answer
    (post,) = [m for m in stack.slack.workspace.history("C_GENERAL") if m.blocks]
    activity = await stack.services.activity(activity_id)
    assert (activity.channel_id, activity.message_ts) == ("C_GENERAL", post.ts)
    assert len(stack.slack.calls_to("chat.postMessage")) == 2  # the admin's note + this one
