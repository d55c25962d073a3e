"""Turns domain notifications into Slack DMs. Retries (429 Retry-After, 5xx, connection
errors) come from the client's retry handlers, set up in handlers/slack/app.py."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.notifications import (
    CardViewed,
    CheckedIn,
    ContactLogged,
    CustomerReturned,
    LeadCreated,
    LeadThread,
    MessageRef,
    NoRosterAlert,
    Notification,
    OutcomeRecorded,
)
from handlers.slack import blocks, ids, records_blocks
from handlers.slack.blocks import escape
from store.models import Lead

log = logging.getLogger(__name__)

DEVICE_LABELS = {
    "mobile": "a phone",
    "tablet": "a tablet",
    "desktop": "a computer",
    "wechat": "WeChat",
}
SOURCE_LABELS = {
    "card_qr": "your card's QR code",
    "dm": "a direct message",
    "channel": "a channel post",
    "email": "email",
    "wechat": "WeChat",
    "linkedin": "LinkedIn",
    "other": "your link",
}
OUTCOME_WORDS = {
    "attended": "attended",
    "no_show": "did not show up for",
    "converted": "converted at",
}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def viewed_text(event: CardViewed) -> str:
    where = f"on {DEVICE_LABELS.get(event.device, 'a device')}, via {SOURCE_LABELS[event.source]}"
    who = escape(event.lead_name) if event.lead_name else "Someone"
    if event.visits > 1:
        return (
            f"👀 {who} is viewing your card for *{escape(event.activity_name)}* again — "
            f"{ordinal(event.visits)} visit ({where})."
        )
    return f"👀 {who} is viewing your card for *{escape(event.activity_name)}* ({where})."


class SlackNotifier:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def notify(self, event: Notification) -> MessageRef | None:
        try:
            if isinstance(event, CardViewed):
                await self._dm(event.employee_user_id, viewed_text(event))
            elif isinstance(event, LeadCreated):
                return await self._lead_created(event)
            elif isinstance(event, OutcomeRecorded):
                await self._outcome(event)
            elif isinstance(event, ContactLogged):
                await self._in_thread(event.thread, records_blocks.contact_logged_text(event))
            elif isinstance(event, CheckedIn):
                await self._in_thread(event.thread, records_blocks.checked_in_text(event))
            elif isinstance(event, CustomerReturned):
                await self._dm(
                    event.thread.salesperson_user_id, records_blocks.customer_returned_text(event)
                )
            elif isinstance(event, NoRosterAlert):
                for admin in event.admin_user_ids:
                    await self._dm(
                        admin,
                        f"⚠️ A customer signed up for *{escape(event.activity_name)}* "
                        f"(lead #{event.lead_id}) but no salesperson is on the roster. "
                        "Add some with `/sharetrail sales add @user`.",
                    )
        except SlackApiError as exc:
            log.warning(
                "Slack refused %s: %s", type(event).__name__, exc.response.get("error", "?")
            )
        return None

    async def _dm(self, user_id: str, message: str, **extra: Any) -> MessageRef:
        response = await self._client.chat_postMessage(channel=user_id, text=message, **extra)
        return str(response["channel"]), str(response["ts"])

    async def _in_thread(self, thread: LeadThread, message: str) -> MessageRef:
        """Under the salesperson's lead DM; their DM itself if that message is gone."""
        if thread.channel and thread.ts:
            try:
                return await self._dm(
                    thread.channel, message, thread_ts=thread.ts, unfurl_links=False
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in ("thread_not_found", "message_not_found"):
                    raise
        return await self._dm(thread.salesperson_user_id, message, unfurl_links=False)

    async def _lead_created(self, event: LeadCreated) -> MessageRef | None:
        who = escape(event.customer_name)
        by = (
            f"<@{event.salesperson_user_id}> will follow up."
            if event.salesperson_user_id
            else "An admin will assign a salesperson."
        )
        signed_up = (
            f"🎉 *{who}* signed up for *{escape(event.activity_name)}* through your card! {by}"
        )
        await self._dm(
            event.employee_user_id,
            signed_up,
            blocks=records_blocks.signup_dm_blocks(signed_up, event.lead_id),
        )
        if not event.salesperson_user_id:
            return None
        lead = Lead(
            id=event.lead_id,
            share_id=0,
            activity_id=event.activity_id,
            employee_id=0,
            name=event.customer_name,
            phone=event.customer_phone,
            company=event.company,
            note=event.note,
            visitor_key="",
            visitor_hash="",
            source=event.source,
        )
        return await self._dm(
            event.salesperson_user_id,
            f"New lead for {event.activity_name}: {event.customer_name}, {event.customer_phone}",
            blocks=blocks.lead_dm(
                lead,
                activity_name=event.activity_name,
                employee_user_id=event.employee_user_id,
                sticky=event.sticky,
            ),
            metadata={"event_type": ids.LEAD_DM_EVENT, "event_payload": {"lead_id": event.lead_id}},
        )

    async def _outcome(self, event: OutcomeRecorded) -> None:
        who = escape(event.customer_name)
        verb = OUTCOME_WORDS[event.outcome]
        changed = (
            f" (changed from {blocks.OUTCOME_LABELS[event.previous]})" if event.previous else ""
        )
        await self._dm(
            event.employee_user_id,
            f"📌 *{who}* {verb} *{escape(event.activity_name)}*{changed}, "
            f"recorded by <@{event.by_user_id}>.",
        )
