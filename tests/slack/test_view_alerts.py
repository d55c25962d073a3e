"""Coalescing "someone is viewing your card": one DM per share per ten minutes, rewritten
with the count as more people come, through the real landing server and Slack stand-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import view_alerts
from sandbox.workspace import Message
from store.models import OutboxMessage
from tests.conftest import CJK_EMPLOYEE, EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import (
    Card,
    add_global_roster,
    create_activity,
    get_share_card,
    time_passes,
    view_landing,
)

pytestmark = pytest.mark.usefixtures("instant_tallies")


def person(n: int) -> str:
    """A different visitor's browser (views_by clears the cookie jar between people)."""
    return MOBILE_UA.replace("Mobile/15E148", f"Mobile/15E{n:03d}")


@pytest.fixture
async def card(stack: Stack) -> Card:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    return await get_share_card(stack, EMPLOYEE, activity_id)


def viewing_dms(stack: Stack, user: str = EMPLOYEE) -> list[Message]:
    return [m for m in stack.slack.dm_messages(user) if m.text.startswith("👀")]


async def views_by(stack: Stack, url: str, people: range) -> None:
    """Each person opens the link in their own browser."""
    for n in people:
        await view_landing(stack, url, user_agent=person(n))
        stack.http.cookie_jar.clear()


async def test_a_burst_of_views_is_one_message_rewritten_with_the_count(
    stack: Stack, card: Card
) -> None:
    since = stack.slack.mark()
    await views_by(stack, card.url, range(12))
    await stack.settle()

    (dm,) = viewing_dms(stack)
    assert re.fullmatch(
        r"👀 12 people viewed your card for \*Spring launch webinar\* in the last minute "
        r"\(latest on a phone, via your card's QR code\)\.",
        dm.text,
    ), dm.text
    posts = [c for c in stack.slack.calls_to("chat.postMessage", since) if "👀" in c.args["text"]]
    updates = stack.slack.calls_to("chat.update", since)
    assert len(posts) == 1
    assert 1 <= len(updates) < 11  # views arriving together share one rewrite
    report = await stack.services.report(1)
    assert report.totals.views == 12  # coalescing changes the messages, not the counting


async def test_each_share_has_its_own_window(stack: Stack, card: Card) -> None:
    other = await get_share_card(stack, CJK_EMPLOYEE, 1)
    await views_by(stack, card.url, range(3))
    await views_by(stack, other.url, range(3, 5))
    await stack.settle()
    assert viewing_dms(stack)[-1].text.startswith("👀 3 people viewed")
    # 李雷's Slack speaks Chinese (zh-CN): his DM is in Chinese.
    assert "有 2 人看了你的" in viewing_dms(stack, CJK_EMPLOYEE)[-1].text


async def test_a_view_after_the_window_is_a_new_message(stack: Stack, card: Card) -> None:
    await views_by(stack, card.url, range(2))
    await stack.settle()
    await time_passes(stack, minutes=11)
    await views_by(stack, card.url, range(2, 3))
    await stack.settle()

    first, second = viewing_dms(stack)
    assert first.text.startswith("👀 2 people viewed")
    assert second.text.startswith("👀 Someone is viewing your card") and not second.edited


async def test_a_window_survives_a_restart_of_the_recorder(stack: Stack, card: Card) -> None:
    """The windows live in the outbox: a restarted writer (or process) continues them."""
    await views_by(stack, card.url, range(2))
    await stack.settle()
    await stack.services.recorder.stop()
    stack.services.recorder.start()
    await views_by(stack, card.url, range(2, 4))
    await stack.settle()
    (dm,) = viewing_dms(stack)
    assert dm.text.startswith("👀 4 people viewed")


async def test_the_tally_waits_for_the_first_message(stack: Stack, card: Card) -> None:
    """Slack throttles the first DM: the count is not posted apart, it waits and rewrites."""
    stack.slack.faults.add(
        "chat.postMessage",
        "ratelimited",
        retry_after=1,
        where=lambda args: "viewing" in str(args.get("text")),
    )
    since = stack.slack.mark()
    await views_by(stack, card.url, range(3))
    await stack.slack.wait_for_call("chat.update", since=since)
    await stack.settle()

    (dm,) = viewing_dms(stack)
    assert dm.text.startswith("👀 3 people viewed")


async def test_when_the_first_message_failed_for_good_the_count_is_posted(
    stack: Stack, card: Card
) -> None:
    stack.slack.faults.add(
        "chat.postMessage",
        "error",
        error="channel_not_found",
        where=lambda args: "viewing" in str(args.get("text")),
    )
    await views_by(stack, card.url, range(2))
    await stack.settle()
    (dm,) = viewing_dms(stack)
    assert dm.text.startswith("👀 2 people viewed") and not dm.edited
    await views_by(stack, card.url, range(2, 4))
    await stack.settle()
    (again,) = viewing_dms(stack)
    assert again.ts == dm.ts and again.text.startswith("👀 4 people viewed")


async def test_a_deleted_first_message_gets_a_new_one(stack: Stack, card: Card) -> None:
    await views_by(stack, card.url, range(1))
    await stack.settle()
    (first,) = viewing_dms(stack)
    first.deleted = True
    await views_by(stack, card.url, range(1, 3))
    await stack.settle()
    (dm,) = viewing_dms(stack)
    assert dm.ts != first.ts and dm.text.startswith("👀 3 people viewed")
    # Later counts rewrite that new message: one message, however the window goes on.
    await views_by(stack, card.url, range(3, 5))
    await stack.settle()
    (again,) = viewing_dms(stack)
    assert again.ts == dm.ts and again.text.startswith("👀 5 people viewed")


async def test_reading_reports_of_tallied_views_go_in_the_windows_thread(
    stack: Stack, card: Card
) -> None:
    await views_by(stack, card.url, range(1))
    await view_landing(stack, card.url, user_agent=person(1))  # keeps its cookie...
    await stack.settle()
    async with stack.http.post(  # ...which ties the page's beacon to the view
        f"{card.url}/beacon",
        json={"dwell_ms": 95_000, "scroll_pct": 80},
        headers={"User-Agent": person(1)},
    ) as response:
        assert response.status == 204
    await stack.settle()
    (window,) = viewing_dms(stack)
    replies = [m for m in stack.slack.dm_messages(EMPLOYEE) if m.thread_ts == window.ts]
    assert [m.text for m in replies] == ["📖 Read for 1 min, scrolled 80% of the page."]


async def test_tallies_wait_to_collect_the_views_that_follow(
    stack: Stack, card: Card, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real delay, views arriving while a tally waits update that same row."""
    monkeypatch.setattr(view_alerts, "TALLY_DELAY", timedelta(hours=1))
    await views_by(stack, card.url, range(1))
    await stack.settle()
    for n in range(1, 6):
        await views_by(stack, card.url, range(n, n + 1))
        await stack.settle()  # one recorder batch each
    async with stack.runtime.db.session() as session:
        tallies = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ViewsTallied"))
        ).all()
    assert len(tallies) == 1 and tallies[0].status == "pending"
    assert '"count":6' in tallies[0].payload
