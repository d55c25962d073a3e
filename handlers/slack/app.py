"""Builds the bolt AsyncApp: client, services in context, listeners, one error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DomainError
from bot.service import ShareTrail
from handlers.slack import actions, commands, events, home, views

log = logging.getLogger(__name__)


def make_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client that obeys Retry-After on 429 and retries 5xx and dropped connections."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=10)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ]
    )
    return client


async def _tell_user(
    body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None, message: str
) -> None:
    """Ephemeral where Slack gave us a response_url, else a DM."""
    try:
        if respond is not None and body.get("response_url"):
            await respond(text=message, response_type="ephemeral", replace_original=False)
            return
        user_id = (body.get("user") or {}).get("id") or body.get("user_id")
        if user_id:
            await client.chat_postMessage(channel=str(user_id), text=message)
    except SlackApiError as exc:
        log.warning("could not report an error to the user: %s", exc.response.get("error"))


async def on_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None,
) -> None:
    if isinstance(error, DomainError):
        await _tell_user(body, client, respond, f"⚠️ {error}")
        return
    if isinstance(error, SlackApiError):
        log.warning("Slack API error: %s", error.response.get("error"))
    else:
        log.exception("listener failed", exc_info=error)
    await _tell_user(body, client, respond, "😵 Something went wrong on our side. Try again?")


def build_bolt_app(
    services: ShareTrail, *, client: AsyncWebClient, signing_secret: str | None
) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        logger=logging.getLogger("sharetrail.slack"),
    )

    async def attach_services(context: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        # Only attaches: listeners open their own DB sessions (they run after this returns).
        context["services"] = services
        await next()

    app.use(attach_services)
    app.error(on_error)
    for module in (commands, actions, views, events, home):
        module.register(app)
    actions.register_fallbacks(app)
    return app
