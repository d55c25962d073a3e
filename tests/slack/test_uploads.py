"""Files to a DM: Slack shares an uploaded file a moment after files.completeUploadExternal,
so what the app posts next (the push-source picker) must wait for the file's message."""

from __future__ import annotations

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
