"""Idempotency keys stamped on Slack messages (message metadata), and finding them again.

A call whose answer was lost (a 5xx, a dropped connection, a timeout) may have posted its
message anyway. Before posting again, look for the key: conversations.history lists
top-level messages only, so a thread reply is looked up with conversations.replies. Slack
returns metadata only when asked (`include_all_metadata`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.notifications import MessageRef
from handlers.slack.errors import slack_error

# Looking for a message: from a minute before it was sent (clocks differ), a page at a time.
CLOCK_SKEW = 60.0
SEARCH_PAGE = 200
# Answers after which Slack may or may not have done it (besides a dropped connection
# or a timeout, which raise aiohttp.ClientError / TimeoutError).
UNCLEAR_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})

Pace = Callable[[str], Awaitable[None]]


def stamp(key: str, event_type: str = "sharetrail", **payload: Any) -> dict[str, Any]:
    """Message metadata carrying `key` (chat.postMessage's `metadata` argument)."""
    return {"event_type": event_type, "event_payload": {**payload, "key": key}}


def stamped_key(message: dict[str, Any]) -> str | None:
    """The idempotency key a message was stamped with (its metadata's payload)."""
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    key = payload.get("key")
    return str(key) if key is not None else None


def unclear(error: Exception) -> bool:
    """Could the call have taken effect although it failed?"""
    if isinstance(error, SlackApiError):
        code = slack_error(error)
        return error.response.status_code >= 500 or code in UNCLEAR_ERRORS
    return isinstance(error, aiohttp.ClientError | TimeoutError)


def api_method(exc: SlackApiError) -> str:
    """The Web API method a failed call was for (the last part of its URL)."""
    return str(getattr(exc.response, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1]


async def find_stamped(
    client: AsyncWebClient,
    channel: str,
    key: str,
    since: datetime,
    *,
    thread_ts: str | None = None,
    pace: Pace | None = None,
) -> MessageRef | None:
    """The message stamped with `key` in `channel` (or in the thread of `thread_ts`)
    posted since `since`; `pace` runs before each call."""
    return await find_message(
        client,
        channel,
        since,
        lambda message: stamped_key(message) == key,
        thread_ts=thread_ts,
        pace=pace,
    )


async def find_message(
    client: AsyncWebClient,
    channel: str,
    since: datetime,
    match: Callable[[dict[str, Any]], bool],
    *,
    thread_ts: str | None = None,
    pace: Pace | None = None,
) -> MessageRef | None:
    """The first message in `channel` (or the thread of `thread_ts`) since `since` that
    `match`es, paging through Slack's answer."""
    method = "conversations.history" if thread_ts is None else "conversations.replies"
    args: dict[str, Any] = {
        "channel": channel,
        "oldest": f"{since.timestamp() - CLOCK_SKEW:.6f}",
        "limit": SEARCH_PAGE,
        "include_all_metadata": True,  # without it Slack leaves the metadata out
    }
    while True:
        if pace is not None:
            await pace(method)
        if thread_ts is None:
            response = await client.conversations_history(**args)
        else:
            response = await client.conversations_replies(ts=thread_ts, **args)
        for message in response.get("messages") or []:
            if match(message):
                return channel, str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not (response.get("has_more") and cursor):
            return None
        args["cursor"] = cursor
