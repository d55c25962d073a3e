"""`publish ID --dm-all`: every reachable person gets exactly one DM, whatever Slack does."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlmodel import select

from sandbox.workspace import Message, add_people
from store.models import OutboxMessage
from tests.conftest import ADMIN, Stack
from tests.flows import create_activity, wait_for_dm
from tests.slack.test_commands import reply_to

SEEDED_PEOPLE = {"U_ADMIN", "U_LI", "U_HAN", "U_ANN", "U_BOB", "U_SALES1", "U_SALES2"}


async def dm_all(stack: Stack, text: str) -> str:
    await stack.slack.send_slash_command(ADMIN, text, channel="C_GENERAL")

    def answered() -> str | None:
        for message in reversed(stack.slack.workspace.history("C_GENERAL", viewer=ADMIN)):
            if "Announcing it by DM" in message.text:
                return message.text
        return None

    answer: str = await stack.slack.wait_until(answered, timeout=30)
    return answer


def announcements(stack: Stack) -> Counter[str]:
    """Announcement DMs per recipient, read from the stand-in's conversations."""
    counts: Counter[str] = Counter()
    for channel in stack.slack.workspace.channels.values():
        if not channel.is_im:
            continue
        for message in stack.slack.workspace.history(channel.id):
            key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
            if key.startswith("announce:"):
                counts[channel.im_user] += 1
    return counts


async def last_errors(stack: Stack) -> Counter[str]:
    """Why the outbox had to retry (a row keeps its last error once sent)."""
    async with stack.runtime.db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return Counter(row.last_error for row in rows if row.last_error.endswith("Error"))


async def test_dm_all_reaches_every_person_exactly_once(stack: Stack) -> None:
    extra = add_people(stack.slack.workspace, 250)
    activity_id = await create_activity(stack)
    answer = await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    assert "Announcing it by DM to 257 people" in answer
    await stack.settle()

    expected = SEEDED_PEOPLE | set(extra)  # no bots, deactivated or guest accounts
    assert announcements(stack) == Counter(dict.fromkeys(expected, 1))
    await wait_for_dm(stack, ADMIN, "✅ Announced .* to 257 people")
    assert len(stack.slack.calls_to("users.list")) == 2  # paged: 200 + 60

    stack.slack.workspace.messages["C_GENERAL"].clear()
    again = await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    assert "to 0 people" in again
    await stack.settle()
    assert sum(announcements(stack).values()) == len(expected)


@pytest.mark.usefixtures("slack_timeout")  # the app gives up on a Slack answer after 1 s
async def test_rate_limits_500s_and_lost_replies_neither_lose_nor_duplicate(
    stack: Stack,
) -> None:
    extra = add_people(stack.slack.workspace, 40)
    activity_id = await create_activity(stack)
    faults = stack.slack.faults

    def announcement(args: dict[str, object]) -> bool:
        return str(args.get("channel", "")).startswith("U_P")  # the DMs to the 40 people

    faults.add("chat.postMessage", "ratelimited", times=10_000, every=2, where=announcement)
    faults.add("chat.postMessage", "http_500", times=5, every=3, where=announcement)
    faults.add("chat.postMessage", "lost_reply", times=3, every=5, delay=1.5, where=announcement)

    await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    await stack.settle()

    expected = SEEDED_PEOPLE | set(extra)
    assert announcements(stack) == Counter(dict.fromkeys(expected, 1))
    assert all(sum(1 for m in stack.slack.dm_messages(u) if m.blocks) == 1 for u in extra)
    refused = [c for c in stack.slack.calls_to("chat.postMessage") if c.error == "ratelimited"]
    assert len(refused) >= len(extra) // 2
    lost = [c for c in stack.slack.calls_to("chat.postMessage") if c.fault == "lost_reply"]
    assert len(lost) == 3  # those landed although the app timed out: found, not resent
    assert await last_errors(stack) == Counter({"TimeoutError": 3})  # it did time out
    health = await stack.services.outbox.health()
    assert health.failed == 0 and health.pending == 0


async def test_permanent_errors_are_not_retried_and_show_in_health(stack: Stack) -> None:
    add_people(stack.slack.workspace, 3)
    stack.slack.workspace.users["U_P00001"].deleted = False
    activity_id = await create_activity(stack)
    stack.slack.faults.add(
        "chat.postMessage",
        "error",
        error="account_inactive",
        where=lambda args: args.get("channel") == "U_P00001",
    )
    await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    await stack.settle()
    attempts = [
        c for c in stack.slack.calls_to("chat.postMessage") if c.args.get("channel") == "U_P00001"
    ]
    assert len(attempts) == 1  # permanent: tried once
    health = await stack.services.health()
    assert health["messages_failed"] == 1
    assert "announce:1:U_P00001 (account_inactive)" in str(health["recent_failures"])
    await wait_for_dm(stack, ADMIN, r"✅ Announced .* \(1 could not be reached\)")


async def test_closing_takes_the_button_off_the_dm_all_announcements(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    await stack.settle()
    workspace = stack.slack.workspace

    def announcement_dms() -> list[Message]:
        return [
            m
            for channel in workspace.channels.values()
            if channel.is_im
            for m in workspace.messages.get(channel.id, [])
            if "📣" in json.dumps(m.blocks, ensure_ascii=False)
        ]

    before = announcement_dms()
    assert before and all("get_share_card" in json.dumps(m.blocks) for m in before)
    await reply_to(stack, ADMIN, f"close {activity_id}")
    await stack.settle()
    after = announcement_dms()
    assert len(after) == len(before)  # redrawn in place, none posted
    for message in after:
        text = json.dumps(message.blocks, ensure_ascii=False)
        # Each DM speaks its reader's language (U_LI and U_HAN read Chinese).
        closed = ("This activity is closed", "本活动已结束")
        assert "get_share_card" not in text and any(words in text for words in closed)
