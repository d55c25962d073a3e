"""Typed text reaches Slack verbatim (DESIGN.md section 6): escaped in every `text`, and in
blocks only as plain_text or unstyled rich_text, never as mrkdwn that Slack would turn
into a link, a mention or formatting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.notifications import (
    ActivityAnnounced,
    ActivityWeek,
    CardViewed,
    CheckedIn,
    ContactLogged,
    CustomerReturned,
    DailyDigest,
    DigestLine,
    LeadCreated,
    LeadThread,
    NoRosterAlert,
    Notification,
    OutcomeRecorded,
    OutcomeReminder,
    ShareReminder,
    ViewsTallied,
    WeeklyReport,
)
from handlers.slack.markup import Bold, Said, compose, escape, mrkdwn, rich_text
from handlers.slack.notifier import SlackNotifier
from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    get_share_card,
    latest_view,
    sign_up,
    time_passes,
    view_landing,
    wait_for_dm,
)
from tests.records_flows import CHECKIN_LINK, SALESPERSON, click_and_open, lead_setup, reply_to

HOSTILE = "<https://evil.example|Click to verify> *bold* <!channel>"
ESCAPED = "&lt;https://evil.example|Click to verify&gt; *bold* &lt;!channel&gt;"
MARKER = "evil.example"  # in every hostile text below


def text_objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every Block Kit text object and rich_text element inside `value`."""
    if isinstance(value, list):
        for item in value:
            yield from text_objects(item)
    elif isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text", "text", "link", "broadcast"):
            yield value
        for item in value.values():
            if isinstance(item, dict | list):
                yield from text_objects(item)


def check_verbatim(text: str, blocks: Any, where: str) -> bool:
    """Asserts typed text is inert in one message or view; True if it shows there."""
    assert "<https://evil" not in text and "<!channel>" not in text, (where, text)
    shown = False
    for obj in text_objects(blocks):
        kind, value = obj.get("type"), str(obj.get("text", ""))
        assert kind != "broadcast", (where, obj)
        if MARKER not in value and MARKER not in str(obj.get("url", "")):
            continue
        assert kind in ("plain_text", "text", "link"), (where, obj)  # never mrkdwn
        assert MARKER not in str(obj.get("url", "")), (where, obj)  # a label, not the target
        assert not obj.get("style"), (where, obj)  # no bold or code around typed words
        assert not obj.get("emoji"), (where, obj)  # `:codes:` stay as typed
        shown = shown or HOSTILE in value
    if MARKER in text:
        assert ESCAPED in text, (where, text)
    return shown


def check_workspace(stack: Stack) -> set[str]:
    """Every message and view the stand-in holds; the places where the text is seen."""
    seen: set[str] = set()
    workspace = stack.slack.workspace
    for channel, messages in workspace.messages.items():
        for message in messages:
            if not message.is_bot:  # what people typed themselves is theirs
                continue
            where = f"{channel}: {message.text[:60]}"
            if check_verbatim(message.text, message.blocks, where):
                seen.add(message.text)
    for view in workspace.views.values():
        where = f"view {view.view.get('callback_id') or view.view.get('type')}"
        if check_verbatim("", view.view, where):
            seen.add(where)
    for call in stack.slack.calls:
        if call.method.startswith(("chat.", "views.")):
            check_verbatim(str(call.args.get("text") or ""), call.args, call.method)
    return seen


async def test_a_hostile_customer_is_shown_verbatim_everywhere(stack: Stack) -> None:
    """Sign-up, lead DM, outcome, contact record, check-in, thread note, return visit,
    timeline and `lead` command, all through the running app."""
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    await stack.settle()
    fields = {"name": HOSTILE, "phone": "+86 138 1234 5678", "company": HOSTILE, "note": HOSTILE}
    await sign_up(stack, card.url, fields)
    lead_dm = await wait_for_dm(stack, SALESPERSON, "New lead")
    signed_up = await wait_for_dm(stack, EMPLOYEE, "signed up")
    await stack.settle()
    assert ESCAPED in lead_dm.text and ESCAPED in signed_up.text

    since = stack.slack.mark()
    await stack.slack.click_button(SALESPERSON, "lead_outcome_attended", ts=lead_dm.ts)
    await stack.slack.wait_for_call("chat.update", since=since)
    await wait_for_dm(stack, EMPLOYEE, "attended")

    contact = await click_and_open(
        stack, SALESPERSON, "log_contact", "log_contact_modal", ts=lead_dm.ts
    )
    delivery = await stack.slack.submit_view(
        SALESPERSON, contact.id, {"contact_kind": "call", "contact_summary": HOSTILE}
    )
    assert delivery.status == 200 and delivery.json is None

    since = stack.slack.mark()
    await stack.slack.click_button(SALESPERSON, "check_in", ts=lead_dm.ts)
    call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "checkin" in str(c.args.get("text")), since=since
    )
    match = CHECKIN_LINK.search(str(call.args["text"]))
    assert match
    sales_tz = ZoneInfo("America/Los_Angeles")  # U_SALES1's zone in the stand-in
    met_at = (datetime.now(sales_tz) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    form = {"lat": "31.23", "lon": "121.47", "accuracy": "25", "met_at": met_at, "note": HOSTILE}
    async with stack.http.post(match.group(0), data=form, headers={"User-Agent": MOBILE_UA}) as r:
        assert r.status == 200

    await stack.slack.say(SALESPERSON, lead_dm.channel, HOSTILE, thread_ts=lead_dm.ts)
    await stack.settle()

    await time_passes(stack)
    before = len(stack.slack.dm_messages(EMPLOYEE))
    await view_landing(stack, card.url)  # the known customer comes back
    named = await wait_for_dm(stack, EMPLOYEE, "is viewing", since=before)
    returned = await wait_for_dm(stack, SALESPERSON, "Your customer")
    assert ESCAPED in named.text and ESCAPED in returned.text

    await click_and_open(stack, SALESPERSON, "lead_timeline", "lead_timeline_modal", ts=lead_dm.ts)
    await click_and_open(stack, EMPLOYEE, "lead_timeline", "lead_timeline_modal", ts=signed_up.ts)
    await reply_to(stack, ADMIN, "lead 1")
    await stack.settle()

    seen = check_workspace(stack)
    for message in (lead_dm, signed_up, named, returned):
        assert message.text in seen, message.text  # shown verbatim in its blocks
    timeline = latest_view(stack, SALESPERSON, "lead_timeline_modal")
    assert timeline is not None
    shown = json.dumps(timeline.view, ensure_ascii=False)
    assert shown.count(json.dumps(HOSTILE)[1:-1]) >= 4  # name, company, summary, notes


async def test_a_hostile_activity_name_is_shown_verbatim_everywhere(stack: Stack) -> None:
    """What an admin typed (name, headline) in the announcement, DMs, commands, home tab,
    details and stats."""
    await add_global_roster(stack, SALESPERSON)
    activity_id = await create_activity(stack, name=HOSTILE, headline=HOSTILE)
    announcement = stack.slack.last_message("C_MARKETING")
    assert announcement is not None
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await click_and_open(
        stack, EMPLOYEE, "activity_details", "activity_details_modal", channel="C_MARKETING"
    )
    since = stack.slack.mark()  # a second tap points to the card (the name in its words)
    await stack.slack.click_button(EMPLOYEE, "get_share_card", channel="C_MARKETING")
    await stack.slack.wait_until(
        lambda: any("already have" in c.args.get("text", "") for c in stack.slack.calls[since:])
    )
    await view_landing(stack, card.url)
    await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    await wait_for_dm(stack, SALESPERSON, "New lead")
    for command in ("list", f"stats {activity_id}", "stats", f"leaderboard {activity_id}", "me"):
        await reply_to(stack, EMPLOYEE, command)
    await reply_to(stack, ADMIN, f"publish {activity_id} <#C_GENERAL|general>")
    await stack.slack.open_app_home(EMPLOYEE)
    await stack.slack.wait_for_call("views.publish")
    await stack.settle()

    seen = check_workspace(stack)
    assert announcement.text in seen
    comments = [
        str(c.args.get("initial_comment") or "")
        for c in stack.slack.calls
        if c.method.startswith("files.")
    ]
    assert any(ESCAPED in c for c in comments) and not any(HOSTILE in c for c in comments)


def hostile_notifications() -> list[Notification]:
    """One of each notification that carries typed words, all of them hostile."""
    now = datetime.now(UTC)
    thread = LeadThread(SALESPERSON, "D1", "1.0")
    week = ActivityWeek(1, HOSTILE, "published", "Mon", 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, (("U1", 3),))
    return [
        CardViewed(EMPLOYEE, 1, HOSTILE, 1, 1, 2, "dm", "mobile", lead_name=HOSTILE),
        ViewsTallied(EMPLOYEE, HOSTILE, 1, 3, now, now, "dm", "mobile", "k", ("D1", "1.0")),
        LeadCreated(
            1,
            1,
            HOSTILE,
            EMPLOYEE,
            "Ann",
            SALESPERSON,
            "Sam",
            HOSTILE,
            HOSTILE,
            HOSTILE,
            HOSTILE,
            "dm",
            False,
        ),
        OutcomeRecorded(1, HOSTILE, EMPLOYEE, HOSTILE, "converted", "attended", SALESPERSON),
        NoRosterAlert((ADMIN,), 1, HOSTILE, 1),
        ContactLogged(1, HOSTILE, thread, SALESPERSON, "call", now, HOSTILE, HOSTILE, "https://f"),
        ContactLogged(1, HOSTILE, thread, SALESPERSON, "file", now, "", HOSTILE, ""),
        CheckedIn(1, HOSTILE, thread, SALESPERSON, 31.2, 121.4, 5.0, now, "UTC", HOSTILE),
        CustomerReturned(1, HOSTILE, HOSTILE, thread, 2, "dm", "mobile", 5000),
        ActivityAnnounced(EMPLOYEE, 1, HOSTILE, "Mon", 1),
        ShareReminder(EMPLOYEE, 1, HOSTILE, "Mon"),
        OutcomeReminder(SALESPERSON, 1, HOSTILE, HOSTILE, HOSTILE, HOSTILE, EMPLOYEE, 1, 3),
        WeeklyReport(ADMIN, "2026-W49", now, now, (week,)),
        DailyDigest(EMPLOYEE, "2026-12-03", (DigestLine(HOSTILE, 1, 1, 0),)),
    ]


def test_every_notification_renders_typed_words_verbatim() -> None:
    """The notifier's renderings, for the kinds a scheduler or a replica sends."""
    notifier = SlackNotifier(AsyncWebClient(token="xoxb-unused"))
    for event in hostile_notifications():
        for outgoing in notifier.render(event):
            name = type(event).__name__
            assert outgoing.blocks, f"{name}: typed words need blocks to be shown verbatim"
            assert check_verbatim(outgoing.text, outgoing.blocks, name), name


def test_pieces_render_escaped_text_and_unstyled_rich_text() -> None:
    text, blocks = compose("Hi ", Said(HOSTILE, strong=True), " and ", Bold("us"))
    assert text == f"Hi *{ESCAPED}* and *us*"
    assert blocks == [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi "},
                        {"type": "text", "text": HOSTILE},
                        {"type": "text", "text": " and "},
                        {"type": "text", "text": "us", "style": {"bold": True}},
                    ],
                }
            ],
        }
    ]
    assert escape("a & b") == "a &amp; b" and mrkdwn(["1 < 2"]) == "1 &lt; 2"
    assert rich_text([])["elements"][0]["elements"] == [{"type": "text", "text": " "}]


async def test_a_refused_file_is_named_verbatim_in_the_thread(stack: Stack) -> None:
    """A salesperson's file name (typed by whoever made the file) in the "not added" reply."""
    setup = await lead_setup(stack)
    name = f"{HOSTILE}.mov"
    since = stack.slack.mark()
    await stack.slack.share_file(
        SALESPERSON,
        setup.lead_dm.channel,
        name,
        b"\x00" * (stack.services.records.max_file_bytes + 1),
        thread_ts=setup.lead_dm.ts,
    )
    call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "Not added" in str(c.args.get("text")), since=since
    )
    assert f"{ESCAPED}.mov" in call.args["text"]
    blocks = call.args["blocks"]
    assert check_verbatim(call.args["text"], blocks, "too big")
    assert any(e.get("text") == name for e in text_objects(blocks))
