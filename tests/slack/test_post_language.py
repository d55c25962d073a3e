"""Channel posts speak the activity's language, not the publisher's (issue 14 §1): everyone
in the channel reads the announcement; the admin who published it is answered in theirs."""

from __future__ import annotations

import re

from tests.conftest import ADMIN, Stack
from tests.flows import create_activity, shown
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
