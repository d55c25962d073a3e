"""Errors from listeners become a message to the user, reported inside the listener.

Why not bolt's `app.error` alone: in slack-bolt's asyncio runner, an exception raised
after `ack()` resets the acknowledgement (asyncio_runner.py, `ack.response = response`
with response None), so Slack waits the full 3 seconds and shows "operation_timeout".
Catching here keeps the ack intact; `app.error` remains the backstop for middleware.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DomainError
from bot.i18n import N_, _

log = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[None]]


def slack_error(exc: SlackApiError) -> str:
    """The error code of a failed call. A 5xx page is text, not JSON (slack_sdk's
    `exc.response.get` raises on it): it reads as `http_500`."""
    data = exc.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return str(code or f"http_{exc.response.status_code}")


SOMETHING_WRONG = N_("😵 Something went wrong on our side. Try again?")


def user_to_tell(body: dict[str, Any]) -> str | None:
    """Who acted: `user.id` (interactions), `user_id` (commands) or `event.user` (events)."""
    user = body.get("user")
    event = body.get("event")
    found = (
        (user.get("id") if isinstance(user, dict) else None)
        or body.get("user_id")
        or (event.get("user") if isinstance(event, dict) else None)
    )
    return str(found) if isinstance(found, str) and found else None


async def tell_user(
    body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None, message: str
) -> None:
    """Ephemeral where Slack gave us a response_url, else a DM."""
    try:
        if respond is not None and body.get("response_url"):
            await respond(text=message, response_type="ephemeral", replace_original=False)
            return
        user_id = user_to_tell(body)
        if user_id:
            await client.chat_postMessage(channel=str(user_id), text=message)
    except SlackApiError as exc:
        log.warning("could not report an error to the user: %s", slack_error(exc))


async def report(
    error: Exception, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None
) -> None:
    if isinstance(error, DomainError):
        await tell_user(body, client, respond, f"⚠️ {error}")
        return
    if isinstance(error, SlackApiError):
        log.warning("Slack API error: %s", slack_error(error))
    else:
        log.exception("listener failed", exc_info=error)
    await tell_user(body, client, respond, _(SOMETHING_WRONG))


def reporting_errors(listener: Listener) -> Listener:
    """Wrap a listener so its failures are told to the user without undoing the ack."""
    wanted = list(inspect.signature(listener).parameters)

    # bolt injects arguments by the wrapper's own parameter names (no __wrapped__ here).
    async def run(
        ack: Any,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: Any,
        respond: AsyncRespond | None,
        logger: logging.Logger,
        payload: dict[str, Any],
        action: Any,
        command: Any,
        view: Any,
        event: Any,
    ) -> None:
        available = {
            "ack": ack,
            "body": body,
            "client": client,
            "context": context,
            "respond": respond,
            "logger": logger,
            "payload": payload,
            "action": action,
            "command": command,
            "view": view,
            "event": event,
        }
        services = context.get("services") if isinstance(context, dict) else None
        current = asyncio.current_task()
        if services is not None and current is not None:
            services.tasks.track(current)  # so shutdown waits for work done after the ack
        try:
            await listener(**{name: available[name] for name in wanted})
        except Exception as error:  # every failure is reported; none is swallowed silently
            if ack is not None and getattr(ack, "response", None) is None:
                await ack()  # failed before acknowledging: still answer Slack at once
            await report(error, body, client, respond)

    run.__name__ = listener.__name__
    run.__qualname__ = listener.__qualname__
    return run
