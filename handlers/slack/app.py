"""Builds the bolt AsyncApp: client, services in context, listeners, one error handler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot import i18n
from bot.errors import DomainError
from bot.service import ShareTrail
from handlers.slack import actions, commands, events, home, records, rewards, unfurls, views
from handlers.slack.errors import report

log = logging.getLogger(__name__)

# Web API methods that do the same thing when sent twice. Anything else (chat.postMessage,
# files.completeUploadExternal, views.open…) makes a second copy if a 500 or a dropped
# connection hid that the first one landed: those are never re-sent blindly. The outbox
# retries its posts itself, after looking for the first copy (notifier.py).
REPEATABLE_METHODS = frozenset(
    {
        "api.test",
        "auth.test",
        "chat.getPermalink",
        "chat.update",
        "conversations.history",
        "conversations.info",
        "conversations.join",
        "conversations.list",
        "conversations.members",
        "conversations.open",
        "conversations.replies",
        "files.getUploadURLExternal",
        "files.info",
        "team.info",
        "users.info",
        "users.list",
        "users.lookupByEmail",
        "users.profile.get",
        "views.publish",
        "views.update",
    }
)


def repeatable(url: str) -> bool:
    """May this request be re-sent blindly? Web API calls (…/chat.postMessage) by method;
    a file's bytes to its upload URL (…/upload/v1/F123, no method) are idempotent too."""
    method = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return "." not in method or method in REPEATABLE_METHODS


class RepeatableServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's 5xx retry, for repeatable methods only."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return repeatable(request.url) and await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class RepeatableConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack_sdk's dropped-connection retry, for repeatable methods only."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return repeatable(request.url) and await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def retry_handlers(*, rate_limits: bool) -> list[AsyncRetryHandler]:
    """5xx and dropped connections: repeatable methods only. A 429 means Slack did
    nothing, so any call may wait out Retry-After and go again (unless the caller paces
    itself)."""
    handlers: list[AsyncRetryHandler] = []
    if rate_limits:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    handlers += [
        RepeatableServerErrorRetryHandler(max_retry_count=2),
        RepeatableConnectionErrorRetryHandler(max_retry_count=2),
    ]
    return handlers


def make_client(
    token: str,
    base_url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    rate_limits: bool = True,
) -> AsyncWebClient:
    """A Web API client that retries reads on 5xx and dropped connections (never posts:
    see REPEATABLE_METHODS), and (unless the caller paces itself, like the outbox) waits
    out Retry-After on 429. With `session`, calls reuse its connections, and the
    session's timeout is the one that applies (slack_sdk ignores its own `timeout` then)."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        session=session,
        retry_handlers=retry_handlers(rate_limits=rate_limits),
    )


async def on_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None,
) -> None:
    """Backstop for failures outside listeners (listeners use `reporting_errors`)."""
    await report(error, body, client, respond)


LOCALE_WAIT_S = 0.5


async def person_locale(services: ShareTrail, user_id: str | None, default: str) -> str:
    """The person's Slack locale (users.info include_locale, cached by the directory), else
    LANGUAGE."""
    return (await person_settings(services, user_id, default))[0]


async def person_settings(
    services: ShareTrail, user_id: str | None, default: str
) -> tuple[str, str | None]:
    """The person's Slack locale, else LANGUAGE, and time zone (users.info `tz`), else None;
    one cached users.info call for both."""
    if not user_id:
        return default, None
    try:
        profile = await services.directory.profile(user_id)
    except (DomainError, SlackApiError, aiohttp.ClientError, TimeoutError):
        return default, None  # the listener meets the same failure and reports it
    return i18n.supported(profile.locale, default), profile.tz or None


def build_bolt_app(
    services: ShareTrail,
    *,
    client: AsyncWebClient,
    signing_secret: str | None,
    language: str = i18n.DEFAULT_LOCALE,
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

    async def speak_their_language(
        context: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> None:
        # Set, not scoped: the listener runs after this returns, in this request's task or
        # one it starts, so the value is this request's alone (bot/i18n.py).
        lookup = services.tasks.spawn(
            person_settings(services, context.get("user_id"), language), name="slack-locale"
        )
        try:
            # Never let users.info eat Slack's 3 seconds (ack, trigger_id): past the bound the
            # request runs in LANGUAGE and the lookup finishes in the background, cached for
            # the person's next request.
            locale, tz = await asyncio.wait_for(asyncio.shield(lookup), LOCALE_WAIT_S)
        except TimeoutError:
            locale, tz = language, None
        i18n.set_locale(locale)
        i18n.set_zone(tz)  # times this person alone reads are in their zone (markup.Date)
        await next()

    app.use(attach_services)
    app.use(speak_their_language)
    app.error(on_error)
    for module in (commands, actions, views, events, home, records, rewards, unfurls):
        module.register(app)
    actions.register_fallbacks(app)
    return app
