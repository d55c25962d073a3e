"""Builds the bolt AsyncApp: client, services in context, listeners, one error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import ShareTrail
from handlers.slack import actions, commands, events, home, records, unfurls, views
from handlers.slack.errors import report

log = logging.getLogger(__name__)


def make_client(
    token: str,
    base_url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    rate_limits: bool = True,
) -> AsyncWebClient:
    """A Web API client that retries 5xx and dropped connections, and (unless the caller
    paces itself, like the outbox) waits out Retry-After on 429. With `session`, calls
    reuse its connections (its timeout applies)."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=10, session=session)
    if rate_limits:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.extend(
        [
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ]
    )
    return client


async def on_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None,
) -> None:
    """Backstop for failures outside listeners (listeners use `reporting_errors`)."""
    await report(error, body, client, respond)


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
    for module in (commands, actions, views, events, home, records, unfurls):
        module.register(app)
    actions.register_fallbacks(app)
    return app
