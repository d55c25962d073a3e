"""Push sources: the share_link_for select under the card answers with the same share's link
tagged for a source; views and sign-ups through it show per source in stats, leaderboard
and export."""

from __future__ import annotations

import csv
import io
import re

from bot.codes import PUSH_SOURCE_LABELS
from sandbox.workspace import Message
from store.models import Lead
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.flows import (
    LINK,
    Card,
    add_global_roster,
    create_activity,
    get_share_card,
    sign_up,
    view_landing,
    wait_for_dm,
)
from tests.records_flows import ANDROID_UA, reply_to, text_of

SOURCES = ["card_qr", "dm", "channel", "email", "wechat", "linkedin", "other"]


def picker_of(stack: Stack, user: str) -> Message:
    return next(m for m in stack.slack.dm_messages(user) if "share_link_for" in str(m.blocks))


def select_element(message: Message) -> dict[str, object]:
    accessory: dict[str, object] = message.blocks[0]["accessory"]
    return accessory


async def choose(stack: Stack, user: str, value: str) -> None:
    picker = picker_of(stack, user)
    delivery = await stack.slack.click_button(user, "share_link_for", ts=picker.ts, selected=value)
    assert delivery.status == 200 and not delivery.timed_out


async def tagged_link(stack: Stack, user: str, activity_id: int, source: str) -> str:
    since = len(stack.slack.dm_messages(user))
    await choose(stack, user, f"{activity_id}:{source}")
    label = re.escape(PUSH_SOURCE_LABELS[source])  # the label people read, never the tag
    message = await wait_for_dm(stack, user, rf"count under {label};", since=since)
    match = LINK.search(message.text)
    assert match, message.text
    return match.group(0)


async def setup(stack: Stack) -> tuple[int, Card]:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    return activity_id, await get_share_card(stack, EMPLOYEE, activity_id)


async def test_card_is_followed_by_a_select_of_every_push_source(stack: Stack) -> None:
    activity_id, card = await setup(stack)
    picker = picker_of(stack, EMPLOYEE)
    assert picker.ts > card.message.ts  # right after the card, in the same DM
    assert picker.channel == card.message.channel
    element = select_element(picker)
    assert element["type"] == "static_select"
    options = element["options"]
    assert isinstance(options, list)
    assert [o["value"] for o in options] == [f"{activity_id}:{s}" for s in SOURCES]
    labels = [o["text"]["text"] for o in options]
    assert "LinkedIn" in labels and "WeChat" in labels and len(set(labels)) == 7


async def test_choosing_a_source_answers_with_the_same_share_tagged(stack: Stack) -> None:
    activity_id, card = await setup(stack)
    url = await tagged_link(stack, EMPLOYEE, activity_id, "linkedin")
    assert url != card.url
    codec = stack.services.codec
    tagged = codec.decode(url.rsplit("/", 1)[-1])
    original = codec.decode(card.url.rsplit("/", 1)[-1])
    assert (tagged.share_id, tagged.source) == (original.share_id, "linkedin")
    assert original.source == "card_qr"
    # Asking again gives the same link: one share per employee and activity.
    assert await tagged_link(stack, EMPLOYEE, activity_id, "linkedin") == url
    # A different employee choosing the same source gets their own share.
    await get_share_card(stack, "U_BOB", activity_id)
    bob = await tagged_link(stack, "U_BOB", activity_id, "linkedin")
    assert codec.decode(bob.rsplit("/", 1)[-1]).share_id != tagged.share_id


async def test_views_and_signups_count_per_source_everywhere(stack: Stack) -> None:
    activity_id, card = await setup(stack)
    linkedin = await tagged_link(stack, EMPLOYEE, activity_id, "linkedin")
    wechat = await tagged_link(stack, EMPLOYEE, activity_id, "wechat")
    await view_landing(stack, card.url)
    await view_landing(stack, linkedin)  # the same visitor again within 30 min: not counted
    await stack.settle()
    stack.http.cookie_jar.clear()  # another customer (another browser: IP+UA is identity too)
    await view_landing(stack, wechat, user_agent=ANDROID_UA)
    await sign_up(stack, wechat, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    await stack.settle()

    async with stack.runtime.db.session() as session:
        lead = await session.get(Lead, 1)
    assert lead is not None and lead.source == "wechat"

    report = await stack.services.report(activity_id)
    per_source = {s: (r.views, r.signups) for s, r in report.by_source.items()}
    assert per_source == {"card_qr": (1, 0), "wechat": (1, 1)}

    rows = list(csv.DictReader(io.StringIO(await stack.services.export_csv(activity_id))))
    assert len(rows) == 1
    row = rows[0]
    assert list(row)[:8] == [
        "employee_id",
        "employee_name",
        "views",
        "unique_visitors",
        "signups",
        "attended",
        "converted",
        "points",
    ]
    assert [c for c in row if c.startswith(("views_", "signups_"))] == [
        f"{m}_{s}" for m in ("views", "signups") for s in SOURCES
    ]
    assert (row["views"], row["views_card_qr"], row["views_wechat"]) == ("2", "1", "1")
    assert (row["signups"], row["signups_wechat"], row["views_linkedin"]) == ("1", "1", "0")

    stats_text = text_of(await reply_to(stack, ADMIN, f"stats {activity_id}"))
    assert "WeChat: 1 view, 1 sign-up" in stats_text and "card_qr" not in stats_text
    assert "Card QR: 1 view, 0 sign-ups" in stats_text
    board = text_of(await reply_to(stack, ADMIN, f"leaderboard {activity_id}"))
    assert "↳ WeChat 1 view, 1 sign-up · Card QR 1 view, 0 sign-ups" in board, board


async def test_an_unknown_choice_is_refused_with_a_message(stack: Stack) -> None:
    await setup(stack)
    since = stack.slack.mark()
    before = len(stack.slack.dm_messages(EMPLOYEE))
    await choose(stack, EMPLOYEE, "1:myspace")  # not an option: Slack would send nothing
    await stack.slack.wait_for_call("response_url", since=since)
    ephemeral = stack.slack.dm_messages(EMPLOYEE)[before:]
    assert any("not one I know" in m.text for m in ephemeral)
    assert not any(LINK.search(m.text) for m in ephemeral)


async def test_closed_activity_still_answers_for_an_existing_share(stack: Stack) -> None:
    activity_id, card = await setup(stack)
    assert "Closed" in text_of(await reply_to(stack, ADMIN, f"close {activity_id}"))
    url = await tagged_link(stack, EMPLOYEE, activity_id, "email")
    assert stack.services.codec.decode(url.rsplit("/", 1)[-1]).source == "email"


async def test_a_tampered_source_tag_is_a_404(stack: Stack) -> None:
    activity_id, _ = await setup(stack)
    url = await tagged_link(stack, EMPLOYEE, activity_id, "linkedin")
    base, code = url.rsplit("/", 1)
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    async with stack.http.get(f"{base}/{forged}") as response:
        assert response.status == 404
