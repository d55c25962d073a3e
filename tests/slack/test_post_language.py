"""Channel posts speak the activity's language, not the publisher's (issue 14 §1): everyone
in the channel reads the announcement; the admin who published it is answered in theirs."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.conftest import ADMIN, Stack
from tests.flows import create_activity, shown, wait_for_dm
from tests.slack.test_commands import reply_to

ENGLISH_WORDS = re.compile(r"\b(When|Material|Tap|Get my share card|New activity)\b")


async def test_a_zh_activity_published_by_an_english_admin_is_announced_in_chinese(
    stack: Stack,
) -> None:
    assert stack.slack.workspace.users[ADMIN].locale.startswith("en")
    activity_id = await create_activity(
        stack, name="春季新品发布会", language="zh", channel_id=None
    )
    answer = await reply_to(stack, ADMIN, f"publish {activity_id} <#C_GENERAL|general>")
    assert "Published" in answer  # the admin's own answer stays in their language
    (post,) = [m for m in stack.slack.workspace.history("C_GENERAL") if m.blocks]
    words = shown(post.blocks)
    assert "*时间*" in words and "获取我的分享卡片" in words and "（洛杉矶时间）" in words, words
    assert post.text.startswith("新活动："), post.text
    assert not ENGLISH_WORDS.search(words + post.text), words


def announcement_to(stack: Stack, user_id: str) -> str:
    """The announcement DM `user_id` got, as they read it."""
    for channel in stack.slack.workspace.channels.values():
        if channel.is_im and channel.im_user == user_id:
            for message in stack.slack.workspace.history(channel.id):
                key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
                if key.startswith("announce:"):
                    return shown(message.blocks)
    raise AssertionError(f"no announcement DM to {user_id}")


async def test_dm_all_speaks_each_readers_language_else_the_activitys(stack: Stack) -> None:
    users = stack.slack.workspace.users
    users["U_BOB"] = replace(users["U_BOB"], locale="fr-FR")  # neither en nor zh
    assert users["U_LI"].locale == "zh-CN" and users["U_ANN"].locale == "en-US"
    activity_id = await create_activity(
        stack, name="春季新品发布会", language="zh", channel_id=None
    )
    await stack.slack.send_slash_command(
        ADMIN, f"publish {activity_id} <#C_GENERAL|general> --dm-all", channel="C_GENERAL"
    )
    await wait_for_dm(stack, ADMIN, "✅ Announced")
    await stack.settle()
    chinese, english = "*时间：*", "*When:*"
    assert chinese in announcement_to(stack, "U_LI")
    assert english in announcement_to(stack, "U_ANN") and "Los Angeles time" in announcement_to(
        stack, "U_ANN"
    )
    bob = announcement_to(stack, "U_BOB")  # no supported language: the activity's
    assert chinese in bob and "洛杉矶时间" in bob and english not in bob, bob
    # Closing redraws each DM in the language it was sent in.
    await reply_to(stack, ADMIN, f"close {activity_id}")
    await stack.settle()
    assert "本活动已结束" in announcement_to(stack, "U_LI")
    assert "This activity is closed" in announcement_to(stack, "U_ANN")
    assert "本活动已结束" in announcement_to(stack, "U_BOB")
