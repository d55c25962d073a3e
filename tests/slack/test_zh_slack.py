"""Slack in Chinese, through Slack's protocol: people whose Slack locale is zh-CN (users.info
include_locale) get every reply, modal and DM in Chinese, with no English sentence left
(names, ids and commands aside)."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.workspace import Message
from tests.conftest import ADMIN, CJK_EMPLOYEE, EMPLOYEE, Stack
from tests.flows import (
    activity_form,
    add_global_roster,
    get_share_card,
    in_days,
    latest_view,
    sign_up,
    view_landing,
)
from tests.zh_support import english_left, strings_of

CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"`[^`\n]*`")
NAME = "春季新品发布会"
CUSTOMER = "王芳"


def speak_chinese(stack: Stack, *users: str) -> None:
    for user in users:
        stack.slack.workspace.users[user].locale = "zh-CN"


def all_text(message: Message) -> str:
    return message.text + "\n" + strings_of(message.blocks)


def assert_chinese(text: str, *allow: str) -> None:
    assert CJK.search(text), text
    typed = CODE.sub(" ", text)  # `me notify on|off`: commands stay as typed in any language
    left = english_left(typed, allow=(NAME, CUSTOMER, *allow))
    assert left == [], (left, text)


async def reply_to(stack: Stack, user: str, text: str, channel: str = "C_GENERAL") -> str:
    """The app's ephemeral answer (through response_url) to `/sharetrail text`, all its text."""
    since = stack.slack.mark()
    delivery = await stack.slack.send_slash_command(user, text, channel=channel)
    assert delivery.status == 200 and not delivery.timed_out, delivery
    await stack.slack.wait_for_call("response_url", since=since)
    message = stack.slack.last_message(channel, viewer=user)
    assert message is not None and message.ephemeral_to == user
    return all_text(message)


async def dm_where(stack: Stack, user: str, found: Any, since: int = 0) -> Message:
    def first() -> Message | None:
        return next((m for m in stack.slack.dm_messages(user)[since:] if found(m)), None)

    message: Message = await stack.slack.wait_until(first)
    return message


async def create_activity_zh(stack: Stack, **overrides: Any) -> tuple[int, Message]:
    """A Chinese-speaking admin: /sharetrail new, the modal, the "created" DM."""
    since = stack.slack.mark()
    await stack.slack.send_slash_command(ADMIN, "new")
    await stack.slack.wait_for_call("views.open", since=since)
    view = latest_view(stack, ADMIN, "activity_modal")
    assert view is not None
    before = len(stack.slack.dm_messages(ADMIN))
    form = activity_form(name=NAME, headline="新功能一览", intro="45 分钟产品演示。")
    delivery = await stack.slack.submit_view(ADMIN, view.id, {**form, **overrides})
    assert delivery.status == 200 and delivery.json is None, delivery.body
    note = await dm_where(stack, ADMIN, lambda m: re.search(r"#\d+", m.text), since=before)
    match = re.search(r"#(\d+)", note.text)
    assert match
    return int(match.group(1)), note


async def test_commands_answer_in_chinese(stack: Stack) -> None:
    """help, list, stats ID, me, an error and an unknown subcommand, for a zh-CN person."""
    speak_chinese(stack, ADMIN)
    activity_id, created = await create_activity_zh(stack)
    assert_chinese(all_text(created))
    await get_share_card(stack, CJK_EMPLOYEE, activity_id)

    for command in ("help", "list", f"stats {activity_id}", "me", "stats"):
        assert_chinese(await reply_to(stack, CJK_EMPLOYEE, command))
    admin_help = await reply_to(stack, ADMIN, "help")
    assert_chinese(admin_help)
    assert "/sharetrail export ID" in admin_help  # commands stay as typed
    for wrong in ("stats abc", "lead", "frobnicate", "me notify maybe", "sales add Sam"):
        assert_chinese(await reply_to(stack, ADMIN, wrong), "frobnicate", "Sam")
    for setting in ("me notify off", "me notify digest on", "me leaderboard off"):
        assert_chinese(await reply_to(stack, CJK_EMPLOYEE, setting))
    assert_chinese(await reply_to(stack, ADMIN, "health"))
    assert_chinese(await reply_to(stack, ADMIN, f"close {activity_id}"))
    # The same commands still answer in English for an en-US person.
    assert "*ShareTrail commands*" in await reply_to(stack, "U_ANN", "help")


async def test_activity_modal_and_its_errors_in_chinese(stack: Stack) -> None:
    """The modal as views.open sent it (title, labels, hints, options), the errors a bad
    submission gets back and the "created" DM, for a zh-CN admin; the details modal."""
    speak_chinese(stack, ADMIN, CJK_EMPLOYEE)
    since = stack.slack.mark()
    await stack.slack.send_slash_command(ADMIN, "new")
    call = await stack.slack.wait_for_call("views.open", since=since)
    modal = call.args["view"]
    modal = json.loads(modal) if isinstance(modal, str) else modal
    shown = strings_of(modal)
    assert "新建活动" in shown or "活动" in shown
    assert_chinese(shown, "English")  # the language picker names English in English

    view = latest_view(stack, ADMIN, "activity_modal")
    assert view is not None
    form = activity_form(starts_at=in_days(7, hour=11), ends_at=in_days(7, hour=9))
    delivery = await stack.slack.submit_view(ADMIN, view.id, form)
    assert delivery.json and delivery.json.get("response_action") == "errors", delivery.body
    errors = "\n".join(delivery.json["errors"].values())
    assert_chinese(errors)

    # Fixed and sent: the "created and published" DM, then the details modal of the post.
    before = len(stack.slack.dm_messages(ADMIN))
    good = activity_form(name=NAME, headline="新功能一览", intro="45 分钟产品演示。")
    delivery = await stack.slack.submit_view(ADMIN, view.id, good)
    assert delivery.status == 200 and delivery.json is None, delivery.body
    created = await dm_where(stack, ADMIN, lambda m: re.search(r"#\d+", m.text), since=before)
    assert_chinese(all_text(created))
    since = stack.slack.mark()
    await stack.slack.click_button(CJK_EMPLOYEE, "activity_details", channel="C_MARKETING")
    opened = await stack.slack.wait_for_call("views.open", since=since)
    details = opened.args["view"]
    details = json.loads(details) if isinstance(details, str) else details
    assert_chinese(strings_of(details))
    # Closing a dialog is 关闭; 结束 would read as "end the activity".
    assert details["close"]["text"] == "关闭"


async def test_lead_dm_outcome_checkin_and_timeline_in_chinese(stack: Stack) -> None:
    """A zh-CN salesperson: the lead DM, `leads`, the outcome tapped on it (the DM redrawn),
    the check-in DM and the timeline modal; the English employee hears it in English."""
    speak_chinese(stack, ADMIN, CJK_EMPLOYEE)
    await add_global_roster(stack, CJK_EMPLOYEE)
    activity_id, _note = await create_activity_zh(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    before = len(stack.slack.dm_messages(EMPLOYEE))
    await sign_up(stack, card.url, {"name": CUSTOMER, "phone": "+86 138 1234 5678"})

    def is_lead_dm(message: Message) -> bool:
        return "lead_outcome_attended" in json.dumps(message.blocks)

    lead_dm = await dm_where(stack, CJK_EMPLOYEE, is_lead_dm)
    assert_chinese(all_text(lead_dm))
    signed_up = await dm_where(stack, EMPLOYEE, lambda m: CUSTOMER in m.text, since=before)
    assert "signed up for" in signed_up.text  # the employee's own language
    await stack.settle()

    assert_chinese(await reply_to(stack, CJK_EMPLOYEE, "leads"))
    assert_chinese(await reply_to(stack, CJK_EMPLOYEE, "lead 1"))

    since = stack.slack.mark()
    await stack.slack.click_button(CJK_EMPLOYEE, "lead_outcome_attended", ts=lead_dm.ts)
    update = await stack.slack.wait_for_call("chat.update", since=since)
    assert_chinese(update.args["text"] + "\n" + strings_of(update.args.get("blocks")))
    told = await dm_where(stack, EMPLOYEE, lambda m: m.text.startswith("📌"), since=before)
    assert "attended" in told.text  # the employee reads English

    since = stack.slack.mark()
    await stack.slack.click_button(CJK_EMPLOYEE, "check_in", ts=lead_dm.ts)
    checkin = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "/checkin/" in str(c.args.get("text")), since=since
    )
    blocks = checkin.args.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert_chinese(str(checkin.args["text"]) + "\n" + strings_of(blocks))

    since = stack.slack.mark()
    await stack.slack.click_button(CJK_EMPLOYEE, "lead_timeline", ts=lead_dm.ts)
    opened = await stack.slack.wait_for_call("views.open", since=since)
    timeline = opened.args["view"]
    timeline = json.loads(timeline) if isinstance(timeline, str) else timeline
    assert_chinese(strings_of(timeline))


async def test_export_message_in_chinese(stack: Stack) -> None:
    speak_chinese(stack, ADMIN)
    activity_id, _note = await create_activity_zh(stack)
    before = len(stack.slack.dm_messages(ADMIN))
    assert_chinese(await reply_to(stack, ADMIN, f"export {activity_id}"))
    upload = await dm_where(stack, ADMIN, lambda m: bool(m.files), since=before)
    file = stack.slack.workspace.files[upload.files[0]]
    assert_chinese(upload.text + "\n" + file.title)


async def test_leaderboards_in_chinese(stack: Stack) -> None:
    """`leaderboard ID`, all activities and the month's board: ranks, points and the
    per-person numbers in Chinese."""
    speak_chinese(stack, ADMIN, CJK_EMPLOYEE)
    activity_id, _note = await create_activity_zh(stack)
    card = await get_share_card(stack, CJK_EMPLOYEE, activity_id)
    await view_landing(stack, card.url)  # one visitor: a point on the board
    await stack.settle()
    board = await reply_to(stack, CJK_EMPLOYEE, f"leaderboard {activity_id}")
    assert "位访客" in board, board  # "(1 位访客，0 个报名，到场 0)"
    assert_chinese(board)
    for command in ("leaderboard", "leaderboard month"):
        assert_chinese(await reply_to(stack, CJK_EMPLOYEE, command))


async def test_every_notification_speaks_its_readers_language() -> None:
    """Each DM the outbox sends (views, sign-ups, outcomes, contacts, check-ins, returns,
    announcements, reminders, digest, weekly report) in the Slack language of the person
    reading it: Chinese for a zh-CN reader, English for an en-US one."""
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.slack.notifier import SlackNotifier
    from tests.slack.test_markup import HOSTILE, hostile_notifications

    async def locale_of(user: str) -> str:
        return "en-US" if user == "U_ANN" else "zh-CN"

    notifier = SlackNotifier(AsyncWebClient(token="xoxb-unused"), locale_of=locale_of)
    for event in hostile_notifications():
        for part in await notifier.localized(event):
            text = part.text + "\n" + strings_of(part.blocks)
            if part.recipient() == "U_ANN":
                assert not CJK.search(text.replace(HOSTILE, "")), (type(event).__name__, text)
            else:
                assert_chinese(text, HOSTILE, "Mon")
