"""Erasing a customer from what the bot already posted in Slack (bot/privacy.py queues it).

A message that showed the customer is rewritten in place (chat.update) to a neutral
"customer data erased" one with no buttons: the message stays, so the conversation around
it still reads, but nothing of the person, and nothing to tap that would act on them.
A file kept as their contact record is deleted (files.delete).

What Slack allows and what it does not (Slack's chat.update and files.delete references):
- chat.update only edits the app's own messages: a salesperson's own thread replies (notes
  typed under the lead DM, the message a file was dropped with) answer `cant_update_message`
  and stay as they are; so do ephemeral answers, which Slack does not keep.
- A bot token may delete only files the app uploaded; a file a person uploaded answers
  `cant_delete_file`. With SLACK_ADMIN_TOKEN (a workspace admin's user token with the
  files:write user scope) it is deleted with that token; without it the outbox row fails
  with `cant_delete_file` and shows in `/sharetrail health`.
- Already gone counts as done: `message_not_found`, `cant_update_message` (not ours to
  edit), `thread_not_found`, `file_not_found`, `file_deleted`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import _
from bot.notifications import FileErased, MessageErased
from handlers.slack.errors import slack_error
from handlers.slack.pacing import Pacer

MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message", "thread_not_found"})
FILE_GONE = frozenset({"file_not_found", "file_deleted"})


def erased_message(event: MessageErased) -> tuple[str, list[dict[str, Any]]]:
    """The neutral text a message about an erased customer becomes (no buttons)."""
    text = _("🔒 Customer data erased: this message was about lead #%(lead)d.") % {
        "lead": event.lead_id
    }
    return text, [{"type": "section", "text": {"type": "plain_text", "text": text}}]


async def erase_message(
    client: AsyncWebClient, pacer: Pacer, event: MessageErased, *, max_wait: float
) -> None:
    """Rewrite one posted message; one that is gone or not ours has nothing to erase."""
    text, blocks = erased_message(event)
    await pacer.acquire("chat.update", max_wait=max_wait)
    try:
        await client.chat_update(channel=event.channel, ts=event.ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if slack_error(exc) not in MESSAGE_GONE:
            raise


async def delete_file(
    client: AsyncWebClient,
    admin: AsyncWebClient | None,
    pacer: Pacer,
    event: FileErased,
    *,
    max_wait: float,
) -> None:
    """Delete one file: with the bot token, else (a person's upload) the admin's token."""
    await pacer.acquire("files.delete", max_wait=max_wait)
    try:
        await client.files_delete(file=event.file_id)
        return
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in FILE_GONE:
            return
        if code != "cant_delete_file" or admin is None:
            raise
    try:
        await admin.files_delete(file=event.file_id)
    except SlackApiError as exc:
        if slack_error(exc) not in FILE_GONE:
            raise
