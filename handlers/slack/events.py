"""Events API: thread replies under a salesperson's lead DM become the lead's notes, and
files dropped there become its contact records."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import ShareTrail
from handlers.slack import records
from handlers.slack.errors import reporting_errors

NOTE_SUBTYPES = (None, "file_share", "thread_broadcast")


async def on_message(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    if event.get("subtype") not in NOTE_SUBTYPES:
        return
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or not ts or thread_ts == ts:
        return
    services: ShareTrail = context["services"]
    files = [f for f in event.get("files") or [] if isinstance(f, dict)]
    if files:  # files become contact records (their comment is the record's summary)
        await records.on_thread_files(event, files, client, services)
        return
    lead = await services.add_thread_note(
        channel=str(event.get("channel", "")),
        thread_ts=str(thread_ts),
        author_id=str(event.get("user", "")),
        text=str(event.get("text") or ""),
        message_ts=str(ts),
    )
    if lead is None:
        return
    try:
        await client.reactions_add(channel=str(event["channel"]), timestamp=str(ts), name="memo")
    except SlackApiError:
        return  # The note is saved; the reaction is only a courtesy.


def register(app: AsyncApp) -> None:
    app.event("message")(reporting_errors(on_message))
