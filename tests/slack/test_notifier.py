"""Exactly once for every kind of message the outbox sends, whatever Slack does with the
answer: lost (the app times out), a 500 after the message was stored, or a dropped
connection. The retry finds the first copy (conversations.history for top-level
messages, conversations.replies for thread replies) instead of posting it again."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest
from sqlmodel import select

from handlers.slack.notifier import RATE_LIMITED_PAUSE
from sandbox.emulator import Call
from sandbox.workspace import JSON, Message, add_people
from store.models import OutboxMessage
from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, Stack
from tests.flows import (
    Card,
    create_activity,
    delivered,
    get_share_card,
    view_landing,
    wait_for_dm,
)
from tests.slack.test_broadcast import SEEDED_PEOPLE, announcements, dm_all

pytestmark = pytest.mark.usefixtures("slack_timeout", "instant_tallies")

# Each way the answer to a call that took effect can be lost.
LOST_ANSWERS = ["lost_reply", "http_500_after", "dropped"]


@pytest.fixture
async def card(stack: Stack) -> Card:
    return await get_share_card(stack, EMPLOYEE, await create_activity(stack))


def text_has(words: str) -> Callable[[JSON], bool]:
    return lambda args: words in str(args.get("text"))


def messages_with(stack: Stack, words: str, user: str = EMPLOYEE) -> list[Message]:
    """Top-level messages and thread replies in the user's DM with the app."""
    return [m for m in stack.slack.dm_messages(user) if words in m.text]


def posts_with(stack: Stack, words: str, since: int = 0) -> list[Call]:
    return [c for c in stack.slack.calls_to("chat.postMessage", since) if words in c.args["text"]]


async def outbox_errors(stack: Stack) -> list[str]:
    """The last error of every outbox row (kept after it was finally sent)."""
    async with stack.runtime.db.session() as session:
        return [row.last_error for row in (await session.exec(select(OutboxMessage))).all()]


async def assert_all_sent(stack: Stack) -> None:
    health = await stack.services.outbox.health()
    assert (health.failed, health.pending, health.sending) == (0, 0, 0), health


@pytest.mark.parametrize("fault", LOST_ANSWERS)
async def test_a_dm_whose_answer_is_lost_is_posted_once(
    stack: Stack, card: Card, fault: str
) -> None:
    since = stack.slack.mark()
    stack.slack.faults.add("chat.postMessage", fault, delay=3.0, where=text_has("viewing"))
    await view_landing(stack, card.url)
    await delivered(stack)

    assert len(messages_with(stack, "viewing your card")) == 1
    assert len(posts_with(stack, "viewing your card", since)) == 1  # no blind re-send either
    assert stack.slack.calls_to("conversations.history", since)  # the retry looked first
    await assert_all_sent(stack)


@pytest.mark.parametrize("fault", LOST_ANSWERS)
async def test_a_thread_reply_whose_answer_is_lost_is_posted_once(
    stack: Stack, card: Card, fault: str
) -> None:
    """The "Read for …" reply under the viewing DM: only conversations.replies shows it."""
    await view_landing(stack, card.url)
    viewing = await wait_for_dm(stack, EMPLOYEE, "viewing your card")
    await delivered(stack)
    since = stack.slack.mark()
    stack.slack.faults.add("chat.postMessage", fault, delay=3.0, where=text_has("Read for"))

    beacon = {"dwell_ms": 65_000, "scroll_pct": 70, "clicks": []}
    async with stack.http.post(f"{card.url}/beacon", data=json.dumps(beacon)) as response:
        assert response.status == 204
    await delivered(stack)

    (reply,) = messages_with(stack, "Read for")
    assert reply.thread_ts == viewing.ts
    assert len(posts_with(stack, "Read for", since)) == 1
    looked = stack.slack.calls_to("conversations.replies", since)
    assert looked and looked[0].args["ts"] == viewing.ts
    await assert_all_sent(stack)


async def test_a_lost_rewrite_is_applied_once(stack: Stack, card: Card) -> None:
    """chat.update repeats safely: the count is rewritten, never posted apart."""
    await view_landing(stack, card.url, user_agent=MOBILE_UA.replace("15E148", "15E001"))
    await delivered(stack)
    stack.http.cookie_jar.clear()
    since = stack.slack.mark()
    stack.slack.faults.add("chat.update", "http_500_after")
    await view_landing(stack, card.url, user_agent=MOBILE_UA.replace("15E148", "15E002"))
    await delivered(stack)

    (dm,) = messages_with(stack, "viewed your card")
    assert dm.text.startswith("👀 2 people viewed") and dm.edited
    assert not messages_with(stack, "is viewing your card")
    assert posts_with(stack, "👀", since) == []
    await assert_all_sent(stack)


@pytest.mark.parametrize("fault", LOST_ANSWERS)
async def test_a_rewrite_posted_instead_of_a_deleted_message_is_posted_once(
    stack: Stack, card: Card, fault: str
) -> None:
    """The viewing DM was deleted: the new count is posted instead, once, even when the
    answer to that post is lost (the retry finds it before posting)."""
    await view_landing(stack, card.url, user_agent=MOBILE_UA.replace("15E148", "15E001"))
    await delivered(stack)
    (first,) = messages_with(stack, "viewing your card")
    first.deleted = True
    stack.slack.workspace.changed(first)
    stack.http.cookie_jar.clear()
    since = stack.slack.mark()
    stack.slack.faults.add("chat.postMessage", fault, delay=3.0, where=text_has("👀"))
    await view_landing(stack, card.url, user_agent=MOBILE_UA.replace("15E148", "15E002"))
    await delivered(stack)

    (dm,) = messages_with(stack, "👀")
    assert dm.text.startswith("👀 2 people viewed")
    assert len(posts_with(stack, "👀", since)) == 1
    await assert_all_sent(stack)


async def test_the_apps_timeout_applies_with_the_shared_session(
    stack: Stack, card: Card, slack_timeout: float
) -> None:
    """A Slack call whose answer takes longer than SLACK_TIMEOUT_S is given up (a
    TimeoutError the outbox handles), although every client shares one session."""
    stack.slack.faults.add("chat.postMessage", "lost_reply", delay=10, where=text_has("viewing"))
    await view_landing(stack, card.url)
    await delivered(stack)
    assert "TimeoutError" in await outbox_errors(stack)
    (lost,) = [c for c in stack.slack.calls_to("chat.postMessage") if c.fault == "lost_reply"]
    retry = stack.slack.calls_to("conversations.history")[-1]
    assert slack_timeout <= retry.at - lost.at < 10  # gave up after its own timeout
    assert len(messages_with(stack, "viewing your card")) == 1


# Slack's answers that no retry can change (besides unknown channels, revoked tokens…).
PERMANENT = [
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
    "invalid_blocks",
    "invalid_blocks_format",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "messages_tab_disabled",
    "team_access_not_granted",
]


def announcing_to(people: set[str]) -> Callable[[JSON], bool]:
    return lambda args: str(args.get("channel")) in people


async def test_permanent_errors_fail_at_once_and_show_in_health(stack: Stack) -> None:
    people = add_people(stack.slack.workspace, len(PERMANENT))
    for person, code in zip(people, PERMANENT, strict=True):
        stack.slack.faults.add(
            "chat.postMessage", "error", error=code, where=announcing_to({person})
        )
    activity_id = await create_activity(stack)
    await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    await delivered(stack)

    tried = Counter(str(c.args["channel"]) for c in stack.slack.calls_to("chat.postMessage"))
    assert {person: tried[person] for person in people} == dict.fromkeys(people, 1)
    health = await stack.services.outbox.health()
    assert (health.failed, health.pending) == (len(PERMANENT), 0)
    assert {error for _, error in health.recent_failures} <= set(PERMANENT)
    await stack.slack.send_slash_command(ADMIN, "health", channel="C_GENERAL")
    shown = await stack.slack.wait_until(lambda: ephemeral(stack, "ShareTrail health"))
    assert f"{len(PERMANENT)} messages could not be delivered and will not be retried" in shown
    # The latest failures are named in words, each with Slack's error code.
    assert "could not be sent" in shown and any(code in shown for code in PERMANENT)


def ephemeral(stack: Stack, words: str) -> str | None:
    """The newest message only the admin sees in #general that has `words`."""
    for message in reversed(stack.slack.workspace.history("C_GENERAL", viewer=ADMIN)):
        if words in message.text:
            return message.text
    return None


async def test_rate_limited_without_retry_after_pauses_then_retries(stack: Stack) -> None:
    """Slack's HTTP-200 {"ok": false, "error": "rate_limited"} has no Retry-After: every
    post waits a while (no hammering), then the refused one goes again, once."""
    people = add_people(stack.slack.workspace, 200)
    stack.slack.faults.add(
        "chat.postMessage",
        "error",
        error="rate_limited",
        every=20,
        where=announcing_to(set(people)),
    )
    activity_id = await create_activity(stack)
    await dm_all(stack, f"publish {activity_id} <#C_MARKETING|marketing> --dm-all")
    await delivered(stack)

    (refused,) = [c for c in stack.slack.calls_to("chat.postMessage") if c.error]
    assert refused.error == "rate_limited"
    pause = [
        c
        for c in stack.slack.calls_to("chat.postMessage")
        if refused.at + 0.2 < c.at < refused.at + RATE_LIMITED_PAUSE - 0.1
    ]
    assert pause == []
    assert announcements(stack) == Counter(dict.fromkeys(SEEDED_PEOPLE | set(people), 1))
    await assert_all_sent(stack)
