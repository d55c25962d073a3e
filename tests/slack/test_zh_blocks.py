"""Slack surfaces built by the blocks functions, in Chinese: no English sentence left."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import i18n
from handlers.slack import blocks
from store.models import Activity
from tests.zh_support import english_left, strings_of


def activity(status: str = "published") -> Activity:
    return Activity(
        id=7,
        name="春季新品发布会",
        headline="ShareTrail 2 新功能一览",
        intro="45 分钟产品演示。",
        material_type="event_invitation",
        tz="America/Los_Angeles",
        starts_at=datetime(2026, 12, 1, 22, tzinfo=UTC),
        ends_at=datetime(2026, 12, 2, 0, tzinfo=UTC),
        status=status,
    )


def test_activity_surfaces_in_zh() -> None:
    with i18n.use_locale("zh"):
        surfaces = {
            "notification": blocks.activity_notification(activity()),
            "closed": blocks.activity_notification(activity("closed")),
            "dm": blocks.announcement_dm(7, "春季新品发布会", "12月1日"),
            "fallback": blocks.notification_fallback(activity()),
            "modal": blocks.activity_modal(),
            "more": blocks.more_line(3, "/sharetrail list"),
        }
        text = strings_of(surfaces)
    assert "洛杉矶时间" in text and "获取我的分享卡片" in text
    assert english_left(text) == [], english_left(text)
    # The same functions in English for an English reader.
    with i18n.use_locale("en"):
        assert "Get my share card" in strings_of(blocks.activity_notification(activity()))
