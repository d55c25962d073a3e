"""Erasing a customer also erases them from Slack (bot/privacy.py, handlers/slack/erase.py):
every message the bot posted about them is rewritten to "customer data erased" without
buttons, and their contact files are deleted, through the outbox, so a Slack outage during
the erasure delays it but never loses it. Driven through signed Slack requests and the
stand-in Web API, which answers as strictly as Slack (a bot may delete only its own files:
the admin's user token deletes a salesperson's upload)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot import audit
from handlers import cli
from sandbox.workspace import Message
from store.models import OutboxMessage
from tests.conftest import ADMIN, EMPLOYEE, Stack, make_settings
from tests.flows import dm_count, wait_for_dm
from tests.records_flows import SALESPERSON, LeadSetup, click_and_open, lead_setup

NAME = "Wang Fang"
PHONE = "+86 138 1234 5678"
DIGITS = "13812345678"
ADMIN_TOKEN = "xoxp-admin-user-token"


@pytest.fixture
def stack_settings() -> dict[str, object]:
    return {"slack_admin_token": ADMIN_TOKEN}


def shows_customer(text: str) -> bool:
    return NAME.lower() in text.lower() or DIGITS in re.sub(r"[\s\-().+]", "", text)


def messages_showing_customer(stack: Stack) -> list[Message]:
    """Every message in the stand-in (any channel, thread, author) that still shows them."""
    workspace = stack.slack.workspace
    return [
        message
        for messages in workspace.messages.values()
        for message in messages
        if not message.deleted
        and shows_customer(json.dumps(message.to_json(workspace), ensure_ascii=False))
    ]


async def customer_everywhere(stack: Stack) -> tuple[LeadSetup, list[str]]:
    """A lead with everything that shows them in Slack: the salesperson's lead DM, the
    employee's sign-up DM, a contact logged with a file (the thread record), a file dropped
    in the thread, and the outcome DM. Returns the setup and the two file ids."""
    stack.slack.user_tokens[ADMIN_TOKEN] = ADMIN
    setup = await lead_setup(stack, phone=PHONE)
    view = await click_and_open(
        stack, SALESPERSON, "log_contact", "log_contact_modal", ts=setup.lead_dm.ts
    )
    recording = stack.slack.user_file(SALESPERSON, f"call {NAME}.m4a", b"\x00" * 512)
    since = stack.slack.mark()
    delivery = await stack.slack.submit_view(
        SALESPERSON,
        view.id,
        {
            "contact_kind": "call",
            "contact_at": datetime.now(UTC).replace(microsecond=0),
            "contact_summary": f"Called {NAME}, wants 5 seats",
            "contact_file": [recording.to_json()],
        },
    )
    assert delivery.status == 200
    await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("thread_ts") == setup.lead_dm.ts, since=since
    )
    since = stack.slack.mark()
    dropped = await stack.slack.share_file(
        SALESPERSON,
        setup.lead_dm.channel,
        f"{NAME} quote.pdf",
        b"%PDF-1.7 quote",
        text="Quote we sent",
        thread_ts=setup.lead_dm.ts,
    )
    await stack.slack.wait_for_call("reactions.add", since=since)
    before = dm_count(stack, EMPLOYEE)
    await stack.slack.click_button(SALESPERSON, "lead_outcome_attended", ts=setup.lead_dm.ts)
    await wait_for_dm(stack, EMPLOYEE, "attended", since=before)
    await stack.settle()
    assert len(messages_showing_customer(stack)) >= 5  # the lead DM, sign-up, record, file, outcome
    return setup, [recording.id, dropped.files[0]]


async def file_info_error(stack: Stack, file_id: str) -> str | None:
    async with stack.http.post(
        f"{stack.slack.base_url}/api/files.info",
        data={"file": file_id},
        headers={"Authorization": f"Bearer {stack.slack.bot_token}"},
    ) as response:
        answer = await response.json()
    return None if answer["ok"] else str(answer["error"])


async def erase_entry(stack: Stack) -> dict[str, object]:
    async with stack.services.db.session() as session:
        [entry] = (
            await audit.entries(session, where=audit.AuditFilter(action=audit.PRIVACY_ERASE))
        ).entries
    return audit.details_of(entry)


async def test_forget_rewrites_every_slack_message_and_deletes_the_files(
    stack: Stack, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup, files = await customer_everywhere(stack)
    lead_dm_buttons = [b for b in setup.lead_dm.blocks if b["type"] == "actions"]
    assert lead_dm_buttons

    settings = make_settings(tmp_path, "http://127.0.0.1:9/api/", 9, database_url=database_url)
    await cli.forget(settings, "0086 138-1234-5678")  # another process: the server's outbox sends
    assert "queued to be erased" in capsys.readouterr().out
    stack.services.outbox.wake()
    await stack.slack.wait_until(lambda: not messages_showing_customer(stack), timeout=20)
    for file_id in files:
        await stack.slack.wait_until(lambda f=file_id: f not in stack.slack.workspace.files)
        assert await file_info_error(stack, file_id) == "file_not_found"

    lead_dm = stack.slack.workspace.find_message(setup.lead_dm.channel, setup.lead_dm.ts)
    assert lead_dm is not None and "erased" in lead_dm.text  # kept, neutral, no buttons
    assert not [b for b in lead_dm.blocks if b["type"] == "actions"]
    details = await erase_entry(stack)
    assert details["leads"] == 1 and details["chat_files_deleted"] == 2
    assert int(str(details["chat_messages_erased"])) >= 4
    # The salesperson's upload needed the admin's token: the bot's own was refused, as Slack does.
    deletes = stack.slack.calls_to("files.delete")
    assert {c.error for c in deletes if not c.ok} == {"cant_delete_file"}
    assert {c.token for c in deletes if c.ok} == {ADMIN_TOKEN}


async def test_an_erasure_while_slack_answers_500_completes_once_slack_recovers(
    stack: Stack,
) -> None:
    _, files = await customer_everywhere(stack)
    outage = stack.slack.faults.add("*", "http_500", times=10_000)
    since = stack.slack.mark()
    erasure = await stack.services.forget_customer(PHONE, by_user_id=ADMIN)  # the console's
    assert erasure.chat_messages_erased >= 4 and erasure.chat_files_deleted == 2

    def refused(method: str) -> int:
        return sum(1 for c in stack.slack.calls_to(method, since) if c.error == "http_500")

    await stack.slack.wait_until(lambda: refused("chat.update") and refused("files.delete"))
    async with stack.services.db.session() as session:
        queued = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.key.startswith("erase"))  # type: ignore[attr-defined]
            )
        ).all()
    assert queued and all(row.status != "failed" for row in queued)
    assert messages_showing_customer(stack)  # nothing changed while Slack was down

    stack.slack.faults.active.remove(outage)  # Slack recovers
    await stack.slack.wait_until(lambda: not messages_showing_customer(stack), timeout=30)
    for file_id in files:
        await stack.slack.wait_until(
            lambda f=file_id: f not in stack.slack.workspace.files, timeout=30
        )
        assert await file_info_error(stack, file_id) == "file_not_found"
    details = await erase_entry(stack)
    assert details["chat_files_deleted"] == 2
