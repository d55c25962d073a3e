"""`/sharetrail publish ID --dm-all`: every person in the workspace gets the activity by DM.

The DMs themselves go through the outbox (paced, retried, exactly once); this module
finds the people (users.list, paged) and keeps the admin's progress message current:
"sent 3,400 / 10,000", then a summary. Progress loops resume after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.broadcasts import BroadcastStatus
from bot.i18n import _, format_number, ngettext
from bot.service import ShareTrail
from handlers.slack.errors import slack_error
from handlers.slack.markup import escape

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between progress message updates
PAGE_SIZE = 200


def is_reachable_person(user: dict[str, Any]) -> bool:
    """People an announcement is for: no bots, apps, Slackbot, deactivated or guest accounts."""
    return not (
        user.get("is_bot")
        or user.get("is_app_user")
        or user.get("deleted")
        or user.get("is_restricted")
        or user.get("is_ultra_restricted")
        or user.get("id") == "USLACKBOT"
    )


async def workspace_people(client: AsyncWebClient) -> list[str]:
    return list(await workspace_languages(client))


async def workspace_languages(client: AsyncWebClient) -> dict[str, str]:
    """Everyone an announcement is for, with their Slack locale ("" when Slack gives none):
    users.list with include_locale, so each DM speaks its reader's language at no extra call."""
    people: dict[str, str] = {}
    cursor: str | None = None
    while True:
        response = await client.users_list(limit=PAGE_SIZE, cursor=cursor, include_locale=True)
        for user in response.get("members") or []:
            if is_reachable_person(user):
                people[str(user["id"])] = str(user.get("locale") or "")
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return people


def progress_text(status: BroadcastStatus) -> str:
    name = escape(status.activity_name)
    if status.done:
        if status.failed:
            done = ngettext(
                "Announced *{name}* by DM to {num} person ({failed} could not be reached).",
                "Announced *{name}* by DM to {num} people ({failed} could not be reached).",
                status.sent,
            )
        else:
            done = ngettext(
                "Announced *{name}* by DM to {num} person.",
                "Announced *{name}* by DM to {num} people.",
                status.sent,
            )
        done = done.format(
            name=name, num=format_number(status.sent), failed=format_number(status.failed)
        )
        return "✅ " + done
    return "📣 " + _("Announcing *{name}* by DM: sent {sent} / {queued}").format(
        name=name, sent=format_number(status.sent), queued=format_number(status.queued)
    )


async def announce_to_everyone(
    services: ShareTrail, client: AsyncWebClient, activity_id: int, *, admin_user_id: str
) -> BroadcastStatus:
    people = await workspace_languages(client)
    status = await services.start_broadcast(
        activity_id, by_user_id=admin_user_id, user_ids=list(people), locales=people
    )
    assert status.broadcast.id is not None
    response = await client.chat_postMessage(channel=admin_user_id, text=progress_text(status))
    await services.broadcast_progress_message(
        status.broadcast.id, str(response["channel"]), str(response["ts"])
    )
    follow(services, client, status.broadcast.id)
    return status


def follow(services: ShareTrail, client: AsyncWebClient, broadcast_id: int) -> None:
    services.tasks.spawn(_keep_progress(services, client, broadcast_id), name="broadcast")


async def resume(services: ShareTrail, client: AsyncWebClient) -> None:
    """After a restart: keep reporting on broadcasts that had not finished."""
    for broadcast_id in await services.unfinished_broadcasts():
        follow(services, client, broadcast_id)


async def _keep_progress(services: ShareTrail, client: AsyncWebClient, broadcast_id: int) -> None:
    shown = ""
    while True:
        status = await services.broadcast_status(broadcast_id)
        text = progress_text(status)
        channel, ts = status.broadcast.progress_channel, status.broadcast.progress_ts
        if text != shown and channel and ts:
            try:
                await client.chat_update(channel=channel, ts=ts, text=text)
                shown = text
            except SlackApiError as exc:
                log.warning("broadcast progress not updated: %s", slack_error(exc))
        if status.done:
            await services.finish_broadcast(broadcast_id)
            return
        await asyncio.sleep(PROGRESS_EVERY)
