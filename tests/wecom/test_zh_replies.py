"""WeCom answers in Chinese (it is Chinese first), errors raised deep in bot/ included: an
unknown activity or lead, a closed activity's share card, someone else's lead."""

from __future__ import annotations

from tests.wecom.conftest import EMPLOYEE, SALES, WECOM_ADMIN, WeComStack
from tests.wecom.test_flow import cards, keys, new_activity
from tests.zh_support import english_left


async def test_wecom_error_replies_in_zh(wecom_stack: WeComStack) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin
    activity_id = await new_activity(stack, salespeople=[f"wecom:{SALES}"])
    await stack.services.start_broadcast(
        activity_id, by_user_id=f"wecom:{WECOM_ADMIN}", user_ids=[f"wecom:{EMPLOYEE}"]
    )
    await stack.settle()
    (announcement,) = cards(wecom.chat(EMPLOYEE))

    before = len(wecom.chat(EMPLOYEE))
    for text in ("数据 999", "stats 999", "线索 999"):
        assert await wecom.send_text(stack.http, EMPLOYEE, text) == 200
        await stack.settle()  # one at a time: each is answered after its own callback
    await stack.services.close_activity(activity_id, by_user_id=f"wecom:{WECOM_ADMIN}")
    assert await wecom.tap(stack.http, EMPLOYEE, announcement, keys(announcement)[0]) == 200
    await stack.settle()

    replies = [m.body.get("content", "") for m in wecom.chat(EMPLOYEE)[before:]]
    assert len(replies) == 4, replies
    assert replies[0] == replies[1] == "活动 999 不存在。"
    assert "999" in replies[2] and "线索" in replies[2]
    assert "春季发布会" in replies[3] and "已结束" in replies[3]
    assert english_left("\n".join(replies)) == [], replies


def test_every_wecom_notification_in_zh_has_no_english_left() -> None:
    """Each message the outbox sends on WeCom (views, sign-ups, lead cards, outcomes,
    contacts, check-ins, returns, announcements, reminders, digest, weekly report, erasure,
    redemptions), rendered in zh: Chinese, with no catalogue English left around the
    (hostile) words people typed."""
    import re

    from bot.i18n import use_locale
    from handlers.wecom.messages import render
    from tests.slack.test_markup import HOSTILE, hostile_notifications
    from tests.zh_support import english_left, strings_of

    cjk = re.compile(r"[\u4e00-\u9fff]")
    rendered = 0
    with use_locale("zh"):
        for n, event in enumerate(hostile_notifications()):
            for message in render(event, f"key-{n}"):
                shown = strings_of(message.body).replace(HOSTILE, " ")
                assert cjk.search(shown), (type(event).__name__, shown)
                assert english_left(shown, allow=("Mon",)) == [], (type(event).__name__, shown)
                rendered += 1
    assert rendered >= len(hostile_notifications())
