"""`sharetrail` with LANGUAGE=zh, as a user runs it (a real process): help, errors and the
forget/export messages are Chinese; with LANGUAGE=en they stay English."""

from __future__ import annotations

from pathlib import Path

from bot.i18n import use_locale
from bot.privacy import Erasure
from handlers.cli import erasure_summary
from tests.test_cli import _run
from tests.zh_support import english_left

# Names the CLI prints as they are: options, settings, commands, the database dialect.
ALLOW = ("--phone", "--help", "sqlite")


async def test_cli_messages_follow_language(tmp_path: Path) -> None:
    code, out, err = await _run(tmp_path, "--help", LANGUAGE="zh")
    assert code == 0 and "抹除" in out and "数据库迁移" in out
    assert out.startswith("用法：") and "显示此帮助并退出" in out and "show this help" not in out
    assert english_left(out, allow=ALLOW) == [], out
    code, _, err = await _run(tmp_path, "forget", LANGUAGE="zh")
    assert code == 2 and err.endswith("sharetrail forget：错误：缺少必需的参数：--phone\n"), err

    code, out, err = await _run(tmp_path, "migrate", LANGUAGE="zh")
    assert code == 0, err
    assert out.startswith("数据库结构已是最新") and english_left(out, allow=ALLOW) == []

    code, _, err = await _run(tmp_path, "export", "999", LANGUAGE="zh")
    assert code == 1 and "Traceback" not in err
    assert err.strip() == "错误：活动 999 不存在。"

    code, out, err = await _run(tmp_path, "forget", "--phone", "+86 139 0000 0000", LANGUAGE="zh")
    assert code == 0, err
    assert "没有使用该手机号的客户" in out and english_left(out) == []

    code, _, err = await _run(tmp_path, "serve", LANGUAGE="zh")
    assert code == 2 and "未设置 SLACK_BOT_TOKEN" in err
    assert english_left(err, allow=("sharetrail sandbox",)) == [], err

    code, _, err = await _run(
        tmp_path, "serve", LANGUAGE="zh", DATABASE_URL="mysql://x", SLACK_BOT_TOKEN="xoxb-1"
    )
    assert code == 2 and err.startswith("配置有误：") and "DATABASE_URL: 须使用异步驱动" in err
    assert english_left(err) == [], err

    code, _, err = await _run(tmp_path, "export", "999", LANGUAGE="en")
    assert code == 1 and "There is no activity 999." in err


def test_erasure_summary_in_zh_and_en() -> None:
    erasure = Erasure(leads=2, views_unlinked=3, contacts_deleted=1, notes_cleared=2)
    with use_locale("zh"):
        zh = erasure_summary(erasure)
    assert zh.startswith("已抹除 2 条线索：") and english_left(zh) == [], zh
    with use_locale("en"):
        en = erasure_summary(erasure)
    assert en == (
        "Erased 2 leads: 3 views unlinked, 1 contact record deleted, 2 notes cleared, and "
        "0 messages scrubbed. Recorded in the audit log."
    )
