"""Posting and refreshing the activity notification in a channel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import i18n
from bot.errors import InvalidInput
from bot.notifications import MessageRef
from bot.points import DEFAULTS, Rules
from bot.service import ShareTrail
from handlers.slack import blocks
from handlers.slack.errors import slack_error
from handlers.slack.stamps import find_stamped, stamp, unclear
from store.models import Activity


async def publish(
    services: ShareTrail,
    client: AsyncWebClient,
    activity: Activity,
    channel_id: str,
    *,
    by_user_id: str,
) -> Activity:
    """Post the activity with its buttons; joins a public channel first if needed;
    `by_user_id` (who published it) goes into the audit log."""
    assert activity.id is not None
    rules = await services.points.rules(activity.id)
    with post_language(activity):
        payload: dict[str, Any] = {
            "channel": channel_id,
            "text": blocks.notification_fallback(activity),
            "blocks": blocks.activity_notification(activity, rules),
            "unfurl_links": False,
            "metadata": stamp(f"publish:{activity.id}:{uuid.uuid4().hex}"),
        }
    try:
        channel, ts = await post_once(client, payload)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error == "channel_not_found":  # Slack's answer for a private channel I am not in
            raise InvalidInput(
                f"I cannot see <#{channel_id}>: if it is a private channel, invite me with "
                "`/invite @ShareTrail` in it and try again."
            ) from None
        if error != "not_in_channel":
            raise InvalidInput(f"Slack could not post to <#{channel_id}>: `{error}`.") from None
        try:
            await client.conversations_join(channel=channel_id)
            channel, ts = await post_once(client, payload)
        except SlackApiError:
            raise InvalidInput(
                f"I am not in <#{channel_id}>. Invite me with `/invite @ShareTrail` and try again."
            ) from None
    return await services.mark_published(
        activity.id, channel_id=channel, ts=ts, by_user_id=by_user_id
    )


@contextmanager
def post_language(activity: Activity) -> Iterator[None]:
    """A channel post speaks the activity's language, not the publisher's (everyone in the
    channel reads it), and names no one reader's zone (times carry the activity's)."""
    with i18n.use_locale(activity.language or i18n.current_locale()), i18n.use_zone(None):
        yield


async def post_once(client: AsyncWebClient, payload: dict[str, Any]) -> MessageRef:
    """chat.postMessage, stamped; if its answer is lost (a 5xx, a dropped connection, a
    timeout), look whether it landed before posting it again, so the channel gets it once."""
    started = datetime.now(UTC)
    try:
        response = await client.chat_postMessage(**payload)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        if not unclear(exc):
            raise
        key = str(payload["metadata"]["event_payload"]["key"])
        found = await find_stamped(client, str(payload["channel"]), key, started)
        if found is not None:
            return found
        response = await client.chat_postMessage(**payload)
    return str(response["channel"]), str(response["ts"])


async def refresh(client: AsyncWebClient, activity: Activity, rules: Rules = DEFAULTS) -> None:
    """Redraw a published notification (e.g. after closing the activity)."""
    if not (activity.channel_id and activity.message_ts):
        return
    with post_language(activity):
        text = blocks.notification_fallback(activity)
        words = blocks.activity_notification(activity, rules)
    try:
        await client.chat_update(
            channel=activity.channel_id, ts=activity.message_ts, text=text, blocks=words
        )
    except SlackApiError:
        return  # The message was deleted or the channel archived: nothing left to redraw.
