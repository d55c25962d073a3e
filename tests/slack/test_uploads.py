"""Files to a DM: Slack shares an uploaded file a moment after files.completeUploadExternal,
so what the app posts next (the push-source picker) must wait for the file's message.
Files exactly once: a share card whose upload answer is lost (the share happened) is found
in the DM, not uploaded again, and the employee's flow goes on (the picker)."""

from __future__ import annotations

import pytest

from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card


async def test_the_picker_follows_a_card_slack_shares_late(stack: Stack) -> None:
    stack.slack.share_delay = 0.5
    activity_id = await create_activity(stack)
    since = stack.slack.mark()
    card = await get_share_card(stack, EMPLOYEE, activity_id)  # the picker comes after it

    [file_id] = card.message.files
    looks = stack.slack.calls_to("files.info", since)
    assert looks and all(c.args.get("file") == file_id for c in looks)
    texts = [m.text for m in stack.slack.dm_messages(EMPLOYEE)]
    assert texts.index(card.message.text) == len(texts) - 2  # card, then picker


@pytest.mark.usefixtures("slack_timeout")
@pytest.mark.parametrize("fault", ["lost_reply", "http_500_after", "dropped"])
async def test_a_share_card_whose_answer_is_lost_arrives_once(stack: Stack, fault: str) -> None:
    activity_id = await create_activity(stack)
    stack.slack.faults.add("files.completeUploadExternal", fault, delay=3.0)
    card = await get_share_card(stack, EMPLOYEE, activity_id)  # the card, then the picker
    await stack.settle()

    assert [m.ts for m in stack.slack.dm_messages(EMPLOYEE) if m.files] == [card.message.ts]
    assert len(stack.slack.calls_to("files.completeUploadExternal")) == 1
    assert stack.slack.calls_to("conversations.history")  # looked before uploading again


async def test_a_failed_upload_is_tried_again_once(stack: Stack) -> None:
    """A 500 before anything was shared: nothing in the DM, so the upload goes again."""
    activity_id = await create_activity(stack)
    stack.slack.faults.add("files.completeUploadExternal", "http_500")
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await stack.settle()
    assert [m.ts for m in stack.slack.dm_messages(EMPLOYEE) if m.files] == [card.message.ts]
    assert len(stack.slack.calls_to("files.completeUploadExternal")) == 2
