"""Communication records: the log_contact modal (kind, when, summary, optional file) and files
dropped into the lead's thread, through signed Slack requests and the stand-in Web API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import i18n
from store.models import ContactRecord, Lead, LeadNote
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.records_flows import (
    SALESPERSON,
    LeadSetup,
    click_and_open,
    error_told_to,
    lead_setup,
    replay_click,
)

MODAL = "log_contact_modal"


async def records(stack: Stack) -> list[ContactRecord]:
    async with stack.runtime.db.session() as session:
        return list((await session.exec(select(ContactRecord))).all())


def thread_posts(stack: Stack, setup: LeadSetup, since: int = 0) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in stack.slack.calls_to("chat.postMessage", since)
        if c.ok and c.args.get("thread_ts") == setup.lead_dm.ts
    ]


def element(view_json: dict[str, object], block_id: str) -> dict[str, object]:
    blocks = view_json["blocks"]
    assert isinstance(blocks, list)
    block = next(b for b in blocks if b.get("block_id") == block_id)
    found: dict[str, object] = block["element"]
    return found


async def test_log_contact_with_a_file_is_stored_and_confirmed_in_the_thread(
    stack: Stack,
) -> None:
    setup = await lead_setup(stack)
    view = await click_and_open(stack, SALESPERSON, "log_contact", MODAL, ts=setup.lead_dm.ts)

    kinds = element(view.view, "contact_kind")
    assert kinds["type"] == "static_select"
    assert [o["value"] for o in kinds["options"]] == ["call", "email", "chat", "meeting"]  # type: ignore[attr-defined]
    when = element(view.view, "contact_at")
    assert when["type"] == "datetimepicker"
    assert abs(int(str(when["initial_date_time"])) - time.time()) < 60  # defaults to now
    summary = element(view.view, "contact_summary")
    assert summary["multiline"] is True and summary["max_length"] == 3000
    file_input = element(view.view, "contact_file")
    assert file_input["type"] == "file_input" and file_input["max_files"] == 1

    recording = stack.slack.user_file(SALESPERSON, "call-wang-fang.m4a", b"\x00" * 2048)
    met = datetime.now(UTC).replace(microsecond=0)  # after the sign-up: not refused
    since = stack.slack.mark()
    delivery = await stack.slack.submit_view(
        SALESPERSON,
        view.id,
        {
            "contact_kind": "call",
            "contact_at": met,
            "contact_summary": "  Wants a demo for 5 seats on Friday.  ",
            "contact_file": [recording.to_json()],
        },
    )
    assert delivery.status == 200 and delivery.json is None  # the modal closes
    assert stack.slack.workspace.views[view.id].closed

    [record] = await records(stack)
    assert (record.lead_id, record.by_user_id, record.kind) == (1, SALESPERSON, "call")
    assert record.at == met
    assert record.summary == "Wants a demo for 5 seats on Friday."
    assert (record.file_id, record.file_name, record.file_size) == (
        recording.id,
        "call-wang-fang.m4a",
        2048,
    )
    assert record.file_mimetype == "audio/mp4"

    await stack.slack.wait_until(lambda: thread_posts(stack, setup, since))
    [posted] = thread_posts(stack, setup, since)
    assert "Call logged" in posted and f"<@{SALESPERSON}>" in posted
    assert "Wants a demo" in posted and "call-wang-fang.m4a" in posted


async def test_without_a_file_and_every_kind(stack: Stack) -> None:
    setup = await lead_setup(stack)
    for kind in ("email", "chat", "meeting"):
        view = await click_and_open(stack, SALESPERSON, "log_contact", MODAL, ts=setup.lead_dm.ts)
        delivery = await stack.slack.submit_view(
            SALESPERSON, view.id, {"contact_kind": kind, "contact_summary": f"{kind} summary"}
        )
        assert delivery.status == 200 and delivery.json is None
    stored = await records(stack)
    assert [r.kind for r in stored] == ["email", "chat", "meeting"]
    assert all(r.file_id is None and r.file_name == "" for r in stored)


async def test_bad_input_keeps_the_modal_open_with_messages(stack: Stack) -> None:
    setup = await lead_setup(stack)
    view = await click_and_open(stack, SALESPERSON, "log_contact", MODAL, ts=setup.lead_dm.ts)
    huge = stack.slack.user_file(SALESPERSON, "screen-recording.mov", b"\x00" * (21 * 1024 * 1024))
    delivery = await stack.slack.submit_view(
        SALESPERSON,
        view.id,
        {
            "contact_kind": "meeting",
            "contact_at": datetime.now(UTC) + timedelta(days=2),
            "contact_summary": "   ",  # Slack accepts blanks; we do not
            "contact_file": [huge.to_json()],
        },
    )
    answer = delivery.json
    assert isinstance(answer, dict) and answer["response_action"] == "errors"
    errors = answer["errors"]
    assert "future" in errors["contact_at"]
    assert "summary" in errors["contact_summary"].lower() or "line" in errors["contact_summary"]
    assert "21.0 MB" in errors["contact_file"] and "20.0 MB" in errors["contact_file"]
    assert not stack.slack.workspace.views[view.id].closed
    assert await records(stack) == []

    # Slack itself refuses an empty required field; the app never hears of it.
    delivery = await stack.slack.submit_view(SALESPERSON, view.id, {"contact_kind": "call"})
    assert delivery.status == 0 and "contact_summary" in stack.slack.workspace.views[view.id].errors
    assert await records(stack) == []


async def test_a_contact_before_the_lead_existed_is_refused(stack: Stack) -> None:
    setup = await lead_setup(stack)
    lead, _, _ = await stack.services.lead_context(1)
    signed_up = lead.created_at.replace(tzinfo=UTC)
    view = await click_and_open(stack, SALESPERSON, "log_contact", MODAL, ts=setup.lead_dm.ts)
    delivery = await stack.slack.submit_view(
        SALESPERSON,
        view.id,
        {
            "contact_kind": "call",
            "contact_at": signed_up - timedelta(days=1),
            "contact_summary": "Called about the webinar",
        },
    )
    answer = delivery.json
    assert isinstance(answer, dict) and answer["response_action"] == "errors"
    assert "before this customer signed up" in answer["errors"]["contact_at"]
    # In the salesperson's zone (users.info: Los Angeles), as their picker shows times.
    local = i18n.format_moment(signed_up, "America/Los_Angeles", locale="en")
    assert local in answer["errors"]["contact_at"], answer
    assert not stack.slack.workspace.views[view.id].closed
    assert await records(stack) == []
    # The minute of the sign-up itself is fine (the picker has whole minutes).
    delivery = await stack.slack.submit_view(
        SALESPERSON,
        view.id,
        {
            "contact_kind": "call",
            "contact_at": signed_up.replace(second=0, microsecond=0),
            "contact_summary": "Called right away",
        },
    )
    assert delivery.status == 200 and delivery.json is None
    assert [r.summary for r in await records(stack)] == ["Called right away"]


async def test_only_the_salesperson_or_an_admin_logs_contacts(stack: Stack) -> None:
    setup = await lead_setup(stack)
    for outsider in (EMPLOYEE, "U_BOB"):
        since = stack.slack.mark()
        await replay_click(stack, outsider, setup.lead_dm, "log_contact", "1")
        told = await error_told_to(stack, outsider, since)
        assert "Only the salesperson assigned to lead #1" in told
        assert stack.slack.calls_to("views.open", since) == []

    since = stack.slack.mark()
    await replay_click(stack, ADMIN, setup.lead_dm, "log_contact", "1")
    await stack.slack.wait_for_call("views.open", since=since)

    # A modal opened in time, submitted after the lead changed hands, is refused on the form.
    view = await click_and_open(stack, SALESPERSON, "log_contact", MODAL, ts=setup.lead_dm.ts)
    async with stack.runtime.db.session() as session:
        lead = await session.get(Lead, 1)
        assert lead is not None
        lead.salesperson_id = "U_SALES2"
        session.add(lead)
    delivery = await stack.slack.submit_view(
        SALESPERSON, view.id, {"contact_kind": "call", "contact_summary": "called"}
    )
    assert isinstance(delivery.json, dict) and "Only the salesperson" in str(delivery.json)
    assert await records(stack) == []


async def test_unknown_lead_id_is_reported(stack: Stack) -> None:
    setup = await lead_setup(stack)
    since = stack.slack.mark()
    await replay_click(stack, SALESPERSON, setup.lead_dm, "log_contact", "999")
    assert "There is no lead 999" in await error_told_to(stack, SALESPERSON, since)


async def test_a_file_dropped_in_the_lead_thread_becomes_a_record(stack: Stack) -> None:
    setup = await lead_setup(stack)
    since = stack.slack.mark()
    message = await stack.slack.share_file(
        SALESPERSON,
        setup.lead_dm.channel,
        "quote.pdf",
        b"%PDF-1.7 quote",
        text="Quote we sent",
        thread_ts=setup.lead_dm.ts,
    )
    await stack.slack.wait_for_call(
        "reactions.add", lambda c: c.args.get("name") == "paperclip", since=since
    )
    [record] = await records(stack)
    assert (record.kind, record.file_name, record.file_mimetype) == (
        "file",
        "quote.pdf",
        "application/pdf",
    )
    assert record.summary == "Quote we sent" and record.message_ts == message.ts
    assert record.file_size == len(b"%PDF-1.7 quote")

    # Slack redelivers events it thinks were missed: still one record.
    event = {
        "type": "message",
        "subtype": "file_share",
        "user": SALESPERSON,
        "text": "Quote we sent",
        "ts": message.ts,
        "thread_ts": setup.lead_dm.ts,
        "channel": setup.lead_dm.channel,
        "channel_type": "im",
        "files": [stack.slack.workspace.files[message.files[0]].to_json()],
    }
    await stack.slack.send_event(event)
    async with stack.runtime.db.session() as session:
        assert len((await session.exec(select(LeadNote))).all()) == 0  # a file is not a note
    assert len(await records(stack)) == 1


async def test_a_file_event_without_metadata_is_completed_with_files_info(stack: Stack) -> None:
    setup = await lead_setup(stack)
    file = stack.slack.user_file(SALESPERSON, "notes.txt", b"hello")
    since = stack.slack.mark()
    await stack.slack.send_event(
        {
            "type": "message",
            "subtype": "file_share",
            "user": SALESPERSON,
            "text": "",
            "ts": stack.slack.workspace.new_ts(),
            "thread_ts": setup.lead_dm.ts,
            "channel": setup.lead_dm.channel,
            "channel_type": "im",
            "files": [{"id": file.id, "mode": "hidden_by_limit", "file_access": "check_file_info"}],
        }
    )
    # (no such message in the stand-in, so the courtesy reaction itself fails: that is fine)
    await stack.slack.wait_until(lambda: stack.slack.calls_to("reactions.add", since))
    assert stack.slack.calls_to("files.info", since)
    [record] = await records(stack)
    assert (record.file_name, record.file_size) == ("notes.txt", 5)


async def test_thread_files_over_the_limit_are_refused_in_the_thread(stack: Stack) -> None:
    setup = await lead_setup(stack)
    since = stack.slack.mark()
    await stack.slack.share_file(
        SALESPERSON,
        setup.lead_dm.channel,
        "site-visit.mov",
        b"\x00" * (20 * 1024 * 1024 + 1),
        thread_ts=setup.lead_dm.ts,
    )
    await stack.slack.wait_until(lambda: thread_posts(stack, setup, since))
    [warning] = thread_posts(stack, setup, since)
    assert "Not added" in warning and "site-visit.mov" in warning
    assert await records(stack) == []


async def test_files_outside_a_lead_thread_or_from_others_are_ignored(stack: Stack) -> None:
    setup = await lead_setup(stack)
    await stack.slack.share_file(SALESPERSON, setup.lead_dm.channel, "cat.png", b"png")
    # The employee's DM with the bot is not the lead thread, whatever thread_ts it names.
    await stack.slack.share_file(EMPLOYEE, EMPLOYEE, "x.png", b"png", thread_ts=setup.lead_dm.ts)
    # Events are handled after the ack: a file that does count marks when they are through.
    since = stack.slack.mark()
    await stack.slack.share_file(
        SALESPERSON, setup.lead_dm.channel, "ok.png", b"png", thread_ts=setup.lead_dm.ts
    )
    await stack.slack.wait_for_call("reactions.add", since=since)
    assert [r.file_name for r in await records(stack)] == ["ok.png"]
