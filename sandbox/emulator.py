"""A Slack Web API stand-in (aiohttp) plus the user side of Slack.

The app talks to it as to https://slack.com/api/ (point SLACK_API_URL here). Tests and
the browser UI act as users through it: slash commands, button clicks, modal submissions
and messages are delivered to the app as signed HTTP requests (`sandbox.delivery`).
Every Web API call is recorded; faults (rate limits, 500s, slow answers, error codes)
can be injected per method.
"""

from __future__ import annotations

import asyncio
import json
import math
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

from sandbox.delivery import AppEndpoint, Delivery
from sandbox.forms import element_state, missing_required, view_state
from sandbox.signin import OpenIDError, OpenIDProvider
from sandbox.validation import message_problems, view_problems
from sandbox.workspace import (
    BOT_ID,
    BOT_USER_ID,
    JSON,
    TEAM_ID,
    File,
    Message,
    View,
    Workspace,
    seeded_workspace,
)

URL = re.compile(r"https?://[^\s<>|]+")
AFTER_EFFECT = ("lost_reply", "http_500_after", "dropped")  # faults after the call took effect
SHARE_DELAY = 0.05  # Slack shares an uploaded file a moment after completeUploadExternal
TRIGGER_TTL = 3.0  # Slack: trigger_id expires three seconds after it is issued
MAX_TEXT = 40_000
USER_TOKEN_METHODS = frozenset({"files.delete", "files.info", "auth.test"})
OPENID_METHODS = ("openid.connect.token", "openid.connect.userInfo")
# Slack downloads a message's image URLs when it is posted; these are the types it shows.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
IMAGE_FETCH_TIMEOUT_S = 30.0


class SlackError(Exception):
    """A Web API error answer: `{"ok": false, "error": code}`."""

    def __init__(
        self,
        code: str,
        status: int = 200,
        messages: list[str] | None = None,
        errors: list[str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.messages = messages or []
        self.errors = errors or []

    def answer(self) -> JSON:
        """The JSON body Slack sends: the code, and the reasons when it gives some."""
        body: JSON = {"ok": False, "error": self.code}
        if self.errors:
            body["errors"] = self.errors
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass
class Call:
    method: str
    args: JSON
    token: str | None
    at: float
    ok: bool = True
    error: str | None = None
    fault: str | None = None


@dataclass
class Fault:
    method: str
    kind: str  # see FAULT_KINDS
    remaining: int
    retry_after: int = 1
    delay: float = 0.0
    error: str = "internal_error"
    every: int = 1  # apply to every n-th matching call (2: half of them)
    seen: int = 0
    where: Callable[[JSON], bool] | None = None  # only calls whose arguments match


@dataclass
class Limit:
    per_minute: float
    burst: int
    per_channel: bool = False


class RateLimits:
    """Slack-like rate limits (token buckets per method, or per method and channel).

    Off by default. `RateLimits.slack_like(scale)` approximates Slack's published tiers
    (https://api.slack.com/apis/rate-limits): Tier 2 ≈ 20/min, Tier 3 ≈ 50/min, Tier 4 ≈
    100/min, chat.postMessage ≈ 1/s per channel with short bursts; `scale` multiplies
    every budget so a benchmark of 10,000 messages need not take hours.
    """

    def __init__(self, limits: dict[str, Limit] | None = None) -> None:
        self.limits = dict(limits or {})
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.refused = 0

    @classmethod
    def slack_like(cls, scale: float = 1.0, workspace_per_minute: float = 600) -> RateLimits:
        tier2, tier3, tier4 = Limit(20, 20), Limit(50, 50), Limit(100, 100)
        table = {
            "users.list": tier2,
            "conversations.history": tier3,
            "conversations.replies": tier3,
            "conversations.open": tier3,
            "users.info": tier4,
            "views.open": tier4,
            "views.publish": tier4,
            "chat.update": tier3,
            "files.delete": tier3,
            "chat.unfurl": tier3,
            "chat.postEphemeral": tier4,
            "files.getUploadURLExternal": tier4,
            "files.completeUploadExternal": tier4,
            "chat.postMessage": Limit(60, 5, per_channel=True),
            "chat.postMessage#workspace": Limit(workspace_per_minute, 30),
        }
        return cls(
            {
                k: Limit(v.per_minute * scale, max(1, int(v.burst * scale)), v.per_channel)
                for k, v in table.items()
            }
        )

    def _take(self, key: tuple[str, str], limit: Limit, now: float) -> float:
        tokens, last = self._buckets.get(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - last) * limit.per_minute / 60)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) * 60 / limit.per_minute

    def check(self, method: str, args: JSON) -> float:
        """0 if the call may proceed, else the seconds to wait (the call is refused)."""
        now = time.monotonic()
        waits = []
        for name in (method, f"{method}#workspace"):
            limit = self.limits.get(name)
            if limit is None:
                continue
            scope = str(args.get("channel") or "") if limit.per_channel else ""
            waits.append(self._take((name, scope), limit, now))
        wait = max(waits, default=0.0)
        if wait > 0:
            self.refused += 1
        return wait


FAULT_KINDS = (
    "ratelimited",  # 429 with Retry-After; nothing happens
    "http_500",  # 500; nothing happens
    "slow",  # answers after `delay` seconds
    "error",  # HTTP 200 {"ok": false, "error": error}; nothing happens
    "lost_reply",  # takes effect, answers `delay` s late (the client times out)
    "http_500_after",  # takes effect, then answers 500 (did it land or not?)
    "dropped",  # takes effect, then the connection closes without an answer
)


@dataclass
class Faults:
    """Faults injected on demand: `emulator.faults.add("chat.postMessage", "ratelimited")`."""

    active: list[Fault] = field(default_factory=list)

    def add(
        self,
        method: str,
        kind: str,
        *,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 0.0,
        error: str = "internal_error",
        every: int = 1,
        where: Callable[[JSON], bool] | None = None,
    ) -> Fault:
        """`lost_reply`, `http_500_after` and `dropped`: the call takes effect but its answer
        is late, a 500 or missing (from the client's point of view: did it land or not?)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(method, kind, times, retry_after, delay, error, max(1, every), where=where)
        self.active.append(fault)
        return fault

    def clear(self) -> None:
        self.active.clear()

    def take(self, method: str, args: JSON | None = None) -> Fault | None:
        for fault in self.active:
            if fault.where is not None and not fault.where(args or {}):
                continue
            if fault.remaining > 0 and fault.method in (method, "*"):
                fault.seen += 1
                if fault.seen % fault.every:
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.active.remove(fault)
                return fault
        return None


@dataclass
class Trigger:
    user: str
    issued: float


Handler = Callable[[JSON, str], Awaitable[JSON]]


class SlackEmulator:
    def __init__(
        self,
        *,
        signing_secret: str,
        bot_token: str,
        workspace: Workspace | None = None,
        app_url: str | None = None,
    ) -> None:
        self.workspace = workspace or seeded_workspace()
        self.bot_token = bot_token
        # User tokens (xoxp-…) people granted the app: token -> user id. Only the methods
        # in USER_TOKEN_METHODS take them (the app's other calls are the bot's).
        self.user_tokens: dict[str, str] = {}
        self.endpoint = AppEndpoint(signing_secret, app_url)
        self.faults = Faults()
        self.rate_limits = RateLimits()
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self.base_url = ""
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, tuple[str, str, str | None]] = {}
        self._pending_uploads: dict[str, tuple[str, int]] = {}
        self.share_delay = SHARE_DELAY
        self._sharing: set[asyncio.Task[None]] = set()
        self.console_url = ""  # the app's web console, linked from the pick page
        self.unfurl_domains: list[str] = []  # the manifest's features.unfurl_domains
        # As Slack: download every image_url of a posted message, refuse it if one fails.
        self.fetch_images = True
        self._unfurl_ids: dict[str, tuple[str, str]] = {}  # unfurl_id -> (channel, ts)
        self._tick = asyncio.Event()
        self.openid = OpenIDProvider(self.workspace)  # Sign in with Slack (sandbox/signin.py)
        self._methods: dict[str, Handler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.profile.get": self._users_profile_get,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
            "reactions.add": self._reactions_add,
            "chat.unfurl": self._chat_unfurl,
        }

    # wiring -----------------------------------------------------------------------

    @property
    def app_url(self) -> str | None:
        return self.endpoint.url

    @app_url.setter
    def app_url(self, url: str | None) -> None:
        """The app's base URL; requests go to its /slack/events."""
        if url and not url.rstrip("/").endswith("/slack/events"):
            url = url.rstrip("/") + "/slack/events"
        self.endpoint.url = url

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_get("/files/{file_id}/{name}", self._handle_file)
        app.router.add_post("/response/{token}", self._handle_response_url)
        self.openid.attach(app)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_cleanup(self, _: web.Application) -> None:
        await asyncio.gather(*self._sharing)  # files being shared land before the world stops
        await self.endpoint.close()

    def _notify(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()

    # observation, for tests ---------------------------------------------------------

    def calls_to(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method]

    def mark(self) -> int:
        """A position in the call log; pass it as `since` to see only later calls."""
        return len(self.calls)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Re-check `predicate` after every API call or workspace change until truthy."""
        queue = self.workspace.subscribe()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    tick = self._tick
                    result = predicate()
                    if result:
                        return result
                    get = asyncio.ensure_future(queue.get())
                    wait = asyncio.ensure_future(tick.wait())
                    try:
                        await asyncio.wait({get, wait}, return_when=asyncio.FIRST_COMPLETED)
                    finally:  # also on timeout/cancellation, or the helpers leak
                        get.cancel()
                        wait.cancel()
        finally:
            self.workspace.unsubscribe(queue)

    async def wait_for_call(
        self,
        method: str,
        where: Callable[[Call], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 10.0,
    ) -> Call:
        def found() -> Call | None:
            return next(
                (c for c in self.calls_to(method, since) if c.ok and (where is None or where(c))),
                None,
            )

        result: Call = await self.wait_until(found, timeout)
        return result

    def dm_messages(self, user: str) -> list[Message]:
        return self.workspace.history(self.workspace.dm_with(user).id, viewer=user)

    def last_message(self, channel: str, viewer: str | None = None) -> Message | None:
        history = self.workspace.history(channel, viewer)
        return history[-1] if history else None

    # Web API ------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if not self.base_url:
            self.base_url = str(request.url.origin())
        args = await self._read_args(request)
        token = _bearer(request) or args.pop("token", None)
        call = Call(method, args, token, time.time())
        self.calls.append(call)
        fault = self.faults.take(method, args)
        try:
            wait = self.rate_limits.check(method, args) if method in self._methods else 0.0
            if wait > 0:
                call.ok, call.error, call.fault = False, "ratelimited", "limit"
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            if fault is not None:
                call.fault = fault.kind
                if fault.kind in AFTER_EFFECT:
                    pass
                elif fault.kind == "slow":
                    await asyncio.sleep(fault.delay)
                elif fault.kind == "ratelimited":
                    call.ok, call.error = False, "ratelimited"
                    return web.json_response(
                        {"ok": False, "error": "ratelimited"},
                        status=429,
                        headers={"Retry-After": str(fault.retry_after)},
                    )
                elif fault.kind == "http_500":
                    call.ok, call.error = False, "http_500"
                    return web.Response(status=500, text="Internal Server Error")
                else:
                    raise SlackError(fault.error)
            if method in OPENID_METHODS:  # their own credentials, not the bot token
                return web.json_response(
                    {"ok": True, **self._openid_call(method, args, request, token)}
                )
            if method not in self._methods:
                raise SlackError("unknown_method")
            user_token = token in self.user_tokens and method in USER_TOKEN_METHODS
            if token != self.bot_token and not user_token:
                raise SlackError("not_authed" if not token else "invalid_auth")
            data = await self._methods[method](args, token)
            if fault is not None and fault.kind in AFTER_EFFECT:
                return await self._after_effect(request, call, fault, data)
            return web.json_response({"ok": True, **data})
        except SlackError as exc:
            call.ok, call.error = False, exc.code
            return web.json_response(exc.answer(), status=exc.status)
        finally:
            self._notify()

    def _openid_call(
        self, method: str, args: JSON, request: web.Request, token: str | None
    ) -> JSON:
        """openid.connect.token (client id and secret) and .userInfo (the user's token)."""
        try:
            if method == "openid.connect.token":
                return self.openid.token(args, request)
            return self.openid.user_info(token)
        except OpenIDError as exc:
            raise SlackError(exc.code) from None

    async def _after_effect(
        self, request: web.Request, call: Call, fault: Fault, data: JSON
    ) -> web.Response:
        """The call took effect; its answer is lost on the way (late, a 500, or none)."""
        self._notify()
        if fault.kind == "lost_reply":
            await asyncio.sleep(fault.delay)
            return web.json_response({"ok": True, **data})
        call.ok, call.error = False, fault.kind
        if fault.kind == "dropped" and request.transport is not None:
            request.transport.abort()  # the client sees the server disconnect, no answer
        return web.Response(status=500, text="Internal Server Error")

    async def _read_args(self, request: web.Request) -> JSON:
        args: JSON = dict(request.query)
        if request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise web.HTTPBadRequest(text="invalid_json") from None
                if isinstance(body, dict):
                    args.update(body)
            elif content_type == "multipart/form-data":
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                args.update(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        return args

    # auth / users -----------------------------------------------------------------

    async def _api_test(self, args: JSON, _: str) -> JSON:
        return {"args": args}

    async def _auth_test(self, _: JSON, __: str) -> JSON:
        return {
            "url": "https://sandbox.slack.local/",
            "team": "ShareTrail Sandbox",
            "user": "sharetrail",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _user(self, user_id: Any) -> Any:
        user = self.workspace.users.get(str(user_id or ""))
        if user is None:
            raise SlackError("user_not_found")
        return user

    async def _users_info(self, args: JSON, _: str) -> JSON:
        include_locale = str(args.get("include_locale", "")).lower() in ("true", "1")
        return {"user": self._user(args.get("user")).to_json(include_locale=include_locale)}

    async def _users_list(self, args: JSON, _: str) -> JSON:
        """Paged like Slack: `limit` (≤ 1000) and an opaque `cursor`."""
        users = list(self.workspace.users.values())
        try:
            start = int(str(args.get("cursor") or "0").removeprefix("dXNlcjo"))
            limit = min(1000, max(1, int(args.get("limit") or 1000)))
        except ValueError:
            raise SlackError("invalid_cursor") from None
        page = users[start : start + limit]
        more = start + limit < len(users)
        cursor = f"dXNlcjo{start + limit}" if more else ""
        include_locale = str(args.get("include_locale", "")).lower() in ("true", "1")
        return {
            "members": [u.to_json(include_locale=include_locale) for u in page],
            "response_metadata": {"next_cursor": cursor},
        }

    async def _users_profile_get(self, args: JSON, _: str) -> JSON:
        return {"profile": self._user(args.get("user")).to_json()["profile"]}

    # conversations ------------------------------------------------------------------

    def _channel_id(self, raw: Any, *, viewer: str = BOT_USER_ID) -> str:
        """A channel id; a user id means the app's DM with that user, as in Slack. A private
        channel is not found by someone outside it (the bot included, until invited)."""
        channel = str(raw or "")
        if channel.startswith(("U", "W")) and channel in self.workspace.users:
            return self.workspace.dm_with(channel).id
        if channel.startswith("#"):
            named = self.workspace.channel_by_name(channel)
            if named is not None:
                channel = named.id
        found = self.workspace.channels.get(channel)
        if found is None or (found.is_private and viewer not in found.members):
            raise SlackError("channel_not_found")
        return channel

    async def _conversations_open(self, args: JSON, _: str) -> JSON:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise SlackError("invalid_arguments" if not users else "not_implemented")
        user = self._user(users[0])
        if user.deleted:
            raise SlackError("user_disabled")
        if user.is_bot:
            raise SlackError("cannot_dm_bot")
        channel = self.workspace.dm_with(user.id)
        return {"channel": {"id": channel.id}, "already_open": True}

    async def _conversations_info(self, args: JSON, _: str) -> JSON:
        channel = self.workspace.channels[self._channel_id(args.get("channel"))]
        return {"channel": channel.to_json()}

    async def _conversations_list(self, _: JSON, __: str) -> JSON:
        channels = [
            c.to_json()
            for c in self.workspace.channels.values()
            if not c.is_im and not c.is_private  # Slack's default types: public_channel
        ]
        return {"channels": channels, "response_metadata": {"next_cursor": ""}}

    async def _conversations_join(self, args: JSON, _: str) -> JSON:
        channel = self.workspace.channels[self._channel_id(args.get("channel"))]
        self.workspace.join(channel, BOT_USER_ID)
        return {"channel": channel.to_json()}

    def _readable(self, args: JSON) -> str:
        """The channel to read; the bot reads only conversations it is in. A user id is
        not a conversation here (only chat.postMessage takes one, for the DM)."""
        raw = str(args.get("channel") or "")
        if raw in self.workspace.users:
            raise SlackError("channel_not_found")
        channel = self._channel_id(raw)
        self._check_member(channel)
        return channel

    async def _conversations_history(self, args: JSON, _: str) -> JSON:
        """Top-level messages only, newest first: thread replies are never in history
        (https://docs.slack.dev/reference/methods/conversations.history)."""
        channel = self._readable(args)
        top = [m for m in self.workspace.history(channel) if m.thread_ts in (None, m.ts)]
        return self._page(list(reversed(top)), args, default_limit=100, max_limit=999)

    async def _conversations_replies(self, args: JSON, _: str) -> JSON:
        """The thread of `ts` (its parent or any reply), oldest first with the parent first;
        an unthreaded message alone (docs.slack.dev/reference/methods/conversations.replies)."""
        channel = self._readable(args)
        message = self.workspace.find_message(channel, str(args.get("ts") or ""))
        if message is None:
            raise SlackError("thread_not_found")
        root = message.thread_ts or message.ts
        thread = [m for m in self.workspace.history(channel) if root in (m.ts, m.thread_ts)]
        parent, replies = thread[0], thread[1:]
        page = self._page(replies, args, default_limit=1000, max_limit=1000)
        if not args.get("cursor"):  # the first page starts with the parent
            page["messages"].insert(
                0, parent.to_json(self.workspace, metadata=_flag(args, "include_all_metadata"))
            )
        return page

    def _page(
        self, messages: list[Message], args: JSON, *, default_limit: int, max_limit: int
    ) -> JSON:
        """Slack's timeline paging: `oldest`/`latest` (exclusive unless `inclusive`),
        `limit`, an opaque `cursor`; metadata only with `include_all_metadata`."""
        oldest = _ts_arg(args, "oldest", "0")
        latest = _ts_arg(args, "latest", f"{time.time() + 1:.6f}")
        inclusive = _flag(args, "inclusive")
        try:
            limit = int(args.get("limit") or default_limit)
        except ValueError:
            raise SlackError("invalid_limit") from None
        limit = min(max_limit, max(1, limit))
        in_range = [
            m
            for m in messages
            if (oldest <= float(m.ts) <= latest)
            and (inclusive or float(m.ts) not in (oldest, latest))
        ]
        start = _cursor_start(args.get("cursor"), in_range)
        page = in_range[start : start + limit]
        more = start + limit < len(in_range)
        cursor = _cursor(in_range[start + limit].ts) if more else ""
        metadata = _flag(args, "include_all_metadata")
        return {
            "messages": [m.to_json(self.workspace, metadata=metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    # chat ---------------------------------------------------------------------------

    def _content(self, args: JSON) -> tuple[str, list[JSON]]:
        text = str(args.get("text") or "")
        try:
            blocks = _json_arg(args.get("blocks"), [])
        except SlackError:
            raise SlackError("invalid_blocks_format") from None
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        problems = message_problems(blocks)
        if problems:
            raise SlackError("invalid_blocks", messages=problems)
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        return text, blocks

    async def _download_images(self, blocks: list[JSON]) -> None:
        """Slack fetches a message's images when it is posted and refuses the message if
        one cannot be downloaded (chat.postMessage, chat.update): `invalid_blocks`, with
        `downloading image failed [json-pointer:/blocks/N/image_url]` in `errors` and,
        prefixed with [ERROR], in `response_metadata.messages`."""
        if not self.fetch_images:
            return
        failed = [
            f"downloading image failed [json-pointer:{pointer}]"
            for pointer, url in _image_urls(blocks)
            if not await _downloadable(url)
        ]
        if failed:
            raise SlackError(
                "invalid_blocks", messages=[f"[ERROR] {f}" for f in failed], errors=failed
            )

    def _check_member(self, channel_id: str) -> None:
        channel = self.workspace.channels[channel_id]
        if not channel.is_im and BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")

    def _refuse_bot_dm(self, channel_id: str) -> None:
        """Slack: a bot user cannot be DM'd (`cannot_dm_bot`), whether by user or DM id."""
        channel = self.workspace.channels[channel_id]
        user = self.workspace.users.get(channel.im_user) if channel.is_im else None
        if user is not None and user.is_bot:
            raise SlackError("cannot_dm_bot")

    async def _chat_post_message(self, args: JSON, _: str) -> JSON:
        channel = self._channel_id(args.get("channel"))
        self._refuse_bot_dm(channel)
        self._check_member(channel)
        text, blocks = self._content(args)
        await self._download_images(blocks)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts and self.workspace.find_message(channel, thread_ts) is None:
            raise SlackError("thread_not_found")
        metadata = _json_arg(args.get("metadata"), None)
        message = self.workspace.post(
            Message(
                channel,
                self.workspace.new_ts(),
                BOT_USER_ID,
                text,
                blocks,
                thread_ts,
                metadata=metadata if isinstance(metadata, dict) else None,
            )
        )
        return {"channel": channel, "ts": message.ts, "message": message.to_json(self.workspace)}

    async def _chat_post_ephemeral(self, args: JSON, _: str) -> JSON:
        channel = self._channel_id(args.get("channel"))
        user = self._user(args.get("user"))
        if user.id not in self.workspace.channels[channel].members:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(args)
        message = self.workspace.post(
            Message(
                channel, self.workspace.new_ts(), BOT_USER_ID, text, blocks, ephemeral_to=user.id
            )
        )
        return {"message_ts": message.ts}

    def _own_message(self, args: JSON) -> Message:
        channel = self._channel_id(args.get("channel"))
        message = self.workspace.find_message(channel, str(args.get("ts") or ""))
        if message is None:
            raise SlackError("message_not_found")
        if not message.is_bot:
            raise SlackError("cant_update_message")
        return message

    async def _chat_update(self, args: JSON, _: str) -> JSON:
        message = self._own_message(args)
        text, blocks = self._content(args)
        await self._download_images(blocks)
        message.text, message.blocks, message.edited = text, blocks, True
        self.workspace.changed(message)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": text,
            "message": message.to_json(self.workspace),
        }

    async def _chat_delete(self, args: JSON, _: str) -> JSON:
        message = self._own_message(args)
        message.deleted = True
        self.workspace.changed(message)
        return {"channel": message.channel, "ts": message.ts}

    async def _chat_get_permalink(self, args: JSON, _: str) -> JSON:
        channel = self._channel_id(args.get("channel"))
        ts = str(args.get("message_ts") or "")
        if self.workspace.find_message(channel, ts) is None:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": f"{self.base_url}/#{channel}/{ts}"}

    async def _reactions_add(self, args: JSON, _: str) -> JSON:
        channel = self._channel_id(args.get("channel"))
        message = self.workspace.find_message(channel, str(args.get("timestamp") or ""))
        if message is None:
            raise SlackError("message_not_found")
        name = str(args.get("name") or "")
        users = message.reactions.setdefault(name, [])
        if BOT_USER_ID in users:
            raise SlackError("already_reacted")
        users.append(BOT_USER_ID)
        self.workspace.changed(message)
        return {}

    async def _chat_unfurl(self, args: JSON, _: str) -> JSON:
        """Attach the app's previews to the links of a message (channel + ts, or unfurl_id
        + source as link_shared gave them); only for URLs the message holds."""
        if args.get("unfurl_id") or args.get("source"):
            target = self._unfurl_ids.get(str(args.get("unfurl_id") or ""))
            if target is None:
                raise SlackError("invalid_unfurl_id")
            if args.get("source") not in ("composer", "conversations_history"):
                raise SlackError("invalid_source")
            channel, ts = target
        else:
            channel, ts = self._channel_id(args.get("channel")), str(args.get("ts") or "")
        message = self.workspace.find_message(channel, ts)
        if message is None:
            raise SlackError("cannot_find_message")
        try:
            unfurls = _json_arg(args.get("unfurls"), None)
        except SlackError:
            raise SlackError("invalid_unfurls_format") from None
        if not isinstance(unfurls, dict) or not unfurls:
            raise SlackError("missing_unfurls")
        attachments = [self._unfurl(message, str(url), preview) for url, preview in unfurls.items()]
        message.attachments = attachments
        self.workspace.changed(message)
        return {}

    def _unfurl(self, message: Message, url: str, preview: Any) -> JSON:
        if url not in URL.findall(message.text):
            raise SlackError("cannot_unfurl_url")
        if not isinstance(preview, dict):
            raise SlackError("invalid_unfurls_format")
        if "blocks" in preview:
            problems = message_problems(preview["blocks"])
            if problems:
                raise SlackError("invalid_blocks", messages=problems)
        return {**preview, "app_unfurl_url": url, "from_url": url, "is_app_unfurl": True}

    # views --------------------------------------------------------------------------

    def _view_arg(self, args: JSON) -> JSON:
        view = _json_arg(args.get("view"), None)
        problems = view_problems(view)
        if problems:
            raise SlackError("invalid_arguments", messages=problems)
        assert isinstance(view, dict)
        return view

    def _trigger_user(self, args: JSON) -> str:
        trigger = self._triggers.get(str(args.get("trigger_id") or ""))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - trigger.issued > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        return trigger.user

    async def _views_open(self, args: JSON, _: str) -> JSON:
        view = self._view_arg(args)
        user = self._trigger_user(args)
        return {"view": self.workspace.open_view(user, view).to_json()}

    async def _views_push(self, args: JSON, _: str) -> JSON:
        view = self._view_arg(args)
        user = self._trigger_user(args)
        stack = self.workspace.open_modals(user)
        if not stack:
            raise SlackError("invalid_arguments")
        if sum(v.root_id == stack[-1].root_id for v in stack) >= 3:
            raise SlackError("push_limit_reached")
        return {"view": self.workspace.open_view(user, view, previous=stack[-1]).to_json()}

    async def _views_update(self, args: JSON, _: str) -> JSON:
        view = self._view_arg(args)
        existing = self.workspace.views.get(str(args.get("view_id") or ""))
        if existing is None and args.get("external_id"):
            existing = next(
                (
                    v
                    for v in self.workspace.views.values()
                    if v.view.get("external_id") == args["external_id"]
                ),
                None,
            )
        if existing is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != existing.hash:
            raise SlackError("hash_conflict")
        return {"view": self.workspace.update_view(existing, view).to_json()}

    async def _views_publish(self, args: JSON, _: str) -> JSON:
        view = self._view_arg(args)
        if view["type"] != "home":
            raise SlackError("invalid_arguments")
        user = self._user(args.get("user_id"))
        return {"view": self.workspace.publish_home(user.id, view).to_json()}

    # files --------------------------------------------------------------------------

    async def _files_get_upload_url(self, args: JSON, _: str) -> JSON:
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            raise SlackError("invalid_arguments") from None
        if not filename or length <= 0:
            raise SlackError("invalid_arguments")
        file_id = self.workspace.new_id("F")
        self._pending_uploads[file_id] = (filename, length)
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        pending = self._pending_uploads.get(file_id)
        call = Call("files.upload", {"file_id": file_id}, None, time.time())
        self.calls.append(call)
        fault = self.faults.take("files.upload")
        if fault is not None:  # every kind applies here too ("*" faults are not swallowed)
            call.fault = fault.kind
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "ratelimited":
                call.ok, call.error = False, "ratelimited"
                return web.Response(
                    status=429,
                    text="ratelimited",
                    headers={"Retry-After": str(fault.retry_after)},
                )
            elif fault.kind == "http_500":
                call.ok, call.error = False, "http_500"
                return web.Response(status=500, text="Internal Server Error")
            else:
                call.ok, call.error = False, fault.error
                return web.Response(status=400, text=fault.error)
        if pending is None:
            return web.Response(status=404, text="upload_url not found")
        content = await request.read()
        if request.content_type == "multipart/form-data":
            return web.Response(status=400, text="send the raw bytes")
        filename, length = pending
        if len(content) != length:
            return web.Response(status=400, text=f"expected {length} bytes, got {len(content)}")
        self.workspace.add_file(
            File(
                id=file_id,
                name=filename,
                title=filename,
                content=content,
                mimetype=_mimetype(filename),
                user=BOT_USER_ID,
                url_private=f"{self.base_url}/files/{file_id}/{filename}",
            )
        )
        del self._pending_uploads[file_id]
        self._notify()
        return web.Response(text=f"OK - {len(content)}")

    async def _files_complete_upload(self, args: JSON, _: str) -> JSON:
        entries = _json_arg(args.get("files"), None)
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        files: list[File] = []
        for entry in entries:
            file = self.workspace.files.get(str(entry.get("id") if isinstance(entry, dict) else ""))
            if file is None:
                raise SlackError("file_not_found")
            if entry.get("title"):
                file.title = str(entry["title"])
                self.workspace.file_changed(file)
            files.append(file)
        channel_arg = args.get("channel_id") or args.get("channels")
        if channel_arg:
            channel = self._channel_id(str(channel_arg).split(",")[0])
            self._check_member(channel)
            thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
            comment = str(args.get("initial_comment") or "")
            task = asyncio.create_task(self._share_files(files, channel, thread_ts, comment))
            self._sharing.add(task)
            task.add_done_callback(self._sharing.discard)
        return {"files": [f.to_json() for f in files]}  # not shared yet, as in Slack

    async def _share_files(
        self, files: list[File], channel: str, thread_ts: str | None, comment: str
    ) -> None:
        """The file message appears a moment after the upload completes (Slack shares files
        asynchronously: `files.info` shows its `shares` once it has)."""
        await asyncio.sleep(self.share_delay)
        message = self.workspace.post(
            Message(
                channel,
                self.workspace.new_ts(),
                BOT_USER_ID,
                comment,
                [],
                thread_ts,
                files=[f.id for f in files],
            )
        )
        for file in files:
            file.channels.append(channel)
            file.shares.setdefault(channel, []).append(message.ts)
            self.workspace.file_changed(file)
        self._notify()

    async def _files_info(self, args: JSON, _: str) -> JSON:
        file = self.workspace.files.get(str(args.get("file") or ""))
        if file is None:
            raise SlackError("file_not_found")
        return {"file": file.to_json()}

    async def _files_delete(self, args: JSON, token: str) -> JSON:
        """As Slack: a bot token deletes only the app's own files; a user token the
        person's own, or anyone's when they are a workspace admin or owner."""
        file_id = str(args.get("file") or "")
        if file_id in self.workspace.deleted_files:
            raise SlackError("file_deleted")
        file = self.workspace.files.get(file_id)
        if file is None:
            raise SlackError("file_not_found")
        caller = BOT_USER_ID if token == self.bot_token else self.user_tokens[token]
        person = self.workspace.users.get(caller)
        admin = person is not None and (person.is_admin or person.is_owner)
        if file.user != caller and not (admin and caller != BOT_USER_ID):
            raise SlackError("cant_delete_file")
        self.workspace.remove_file(file_id)
        return {}

    async def _handle_file(self, request: web.Request) -> web.Response:
        file = self.workspace.files.get(request.match_info["file_id"])
        if file is None:
            raise web.HTTPNotFound()
        return web.Response(body=file.content, content_type=file.mimetype)

    # response_url -------------------------------------------------------------------

    def _response_url(self, user: str, channel: str, message_ts: str | None = None) -> str:
        if not self.base_url:
            raise RuntimeError("Set the emulator's base_url (where it listens) before acting.")
        token = secrets.token_urlsafe(12)
        self._response_urls[token] = (user, channel, message_ts)
        return f"{self.base_url}/response/{token}"

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        target = self._response_urls.get(request.match_info["token"])
        call = Call("response_url", {}, None, time.time())
        self.calls.append(call)
        if target is None:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        user, channel, message_ts = target
        body = body if isinstance(body, dict) else {}
        if body.get("blocks") is not None and message_problems(body["blocks"]):
            # Slack answers a refused response_url post in plain text, like incoming webhooks.
            call.ok, call.error = False, "invalid_blocks"
            return web.Response(status=400, text="invalid_blocks")
        self._apply_response(body, user, channel, message_ts)
        self._notify()
        return web.json_response({"ok": True})

    def _apply_response(self, body: JSON, user: str, channel: str, message_ts: str | None) -> None:
        original = self.workspace.find_message(channel, message_ts) if message_ts else None
        if body.get("delete_original") and original is not None:
            original.deleted = True
            self.workspace.changed(original)
            return
        text = str(body.get("text") or "")
        raw_blocks = body.get("blocks")
        blocks: list[JSON] = raw_blocks if isinstance(raw_blocks, list) else []
        if body.get("replace_original") and original is not None:
            original.text, original.blocks, original.edited = text, blocks, True
            self.workspace.changed(original)
            return
        if not text and not blocks:
            return
        ephemeral = body.get("response_type") != "in_channel"
        self.workspace.post(
            Message(
                channel,
                self.workspace.new_ts(),
                BOT_USER_ID,
                text,
                blocks,
                ephemeral_to=user if ephemeral else None,
            )
        )

    # the user side: things people do in Slack -----------------------------------------

    def _trigger(self, user: str) -> str:
        trigger_id = f"{int(time.time())}.{secrets.token_hex(8)}"
        self._triggers[trigger_id] = Trigger(user, time.monotonic())
        return trigger_id

    def _user_ref(self, user_id: str) -> JSON:
        user = self._user(user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}

    async def send_slash_command(
        self,
        user: str,
        text: str = "",
        *,
        command: str = "/sharetrail",
        channel: str = "C_GENERAL",
        **options: Any,
    ) -> Delivery:
        """Type `/command text` in a channel; the app's immediate answer becomes an ephemeral."""
        channel_id = self._channel_id(channel, viewer=user)
        slack_channel = self.workspace.channels[channel_id]
        fields = {
            "token": "verification-token-unused",
            "team_id": TEAM_ID,
            "team_domain": "sandbox",
            "channel_id": channel_id,
            "channel_name": "directmessage" if slack_channel.is_im else slack_channel.name,
            "user_id": user,
            "user_name": self._user(user).name,
            "command": command,
            "text": text,
            "api_app_id": "A_SHARETRAIL",
            "is_enterprise_install": "false",
            "response_url": self._response_url(user, channel_id),
            "trigger_id": self._trigger(user),
        }
        delivery = await self.endpoint.post_form("command", fields, **options)
        self.deliveries.append(delivery)
        if delivery.timed_out:
            failure = f'{command} failed with the error "operation_timeout"'
            self._ephemeral(user, channel_id, failure)
        elif delivery.status == 200 and delivery.body:
            answer = delivery.json
            if isinstance(answer, dict):
                self._apply_response(answer, user, channel_id, None)
            else:
                self._ephemeral(user, channel_id, delivery.body)
        elif delivery.status != 200:
            self._ephemeral(user, channel_id, f'{command} failed with the error "dispatch_failed"')
        return delivery

    def _ephemeral(self, user: str, channel: str, text: str) -> None:
        self.workspace.post(
            Message(channel, self.workspace.new_ts(), "USLACKBOT", text, ephemeral_to=user)
        )

    def find_action(
        self,
        user: str,
        action_id: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
    ) -> tuple[Message | View, str, JSON]:
        """The newest message (or the given view) offering `action_id` to `user`; with
        `block_id`, the element of that block (a home lists one lead's buttons per block, all
        with the same action ids: the tap must reach the row it was on)."""
        if view_id is not None:
            view = self.workspace.views.get(view_id)
            if view is None:
                raise LookupError(f"no view {view_id}")
            containers: list[Message | View] = [view]
        else:
            channels = (
                [self._channel_id(channel, viewer=user)]
                if channel
                else [c.id for c in self.workspace.visible_channels(user)]
            )
            messages = [m for c in channels for m in self.workspace.history(c, viewer=user)]
            found = sorted(
                (m for m in messages if ts is None or m.ts == ts), key=lambda m: m.ts, reverse=True
            )
            containers = list(found)
        for container in containers:
            is_view = isinstance(container, View)
            blocks = container.view.get("blocks") if is_view else container.blocks  # type: ignore[union-attr]
            for found_in, element in _interactive_elements(blocks or []):
                if element.get("action_id") == action_id and block_id in (None, found_in):
                    return container, found_in, element
        where = f" in block {block_id!r}" if block_id is not None else ""
        raise LookupError(f"{user} sees no element with action_id {action_id!r}{where}")

    async def click_button(
        self,
        user: str,
        action_id: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        view_id: str | None = None,
        selected: Any = None,
        entered: dict[str, Any] | None = None,
        block_id: str | None = None,
        **options: Any,
    ) -> Delivery:
        """Tap a button (or choose `selected` in a select menu) in a message or a view; with
        `block_id`, the one in that block."""
        container, block_id, element = self.find_action(
            user, action_id, channel=channel, ts=ts, view_id=view_id, block_id=block_id
        )
        action: JSON = {
            "type": element.get("type"),
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if element.get("type") == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
        else:
            action.update(element_state(element, selected))
        payload: JSON = {
            "type": "block_actions",
            "user": self._user_ref(user),
            "api_app_id": "A_SHARETRAIL",
            "token": "verification-token-unused",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": self._trigger(user),
            "actions": [action],
        }
        if isinstance(container, View):
            payload["container"] = {"type": "view", "view_id": container.id}
            view_json = container.to_json()
            view_json["state"] = view_state(container.view, entered)
            payload["view"] = view_json
        else:
            channel_obj = self.workspace.channels[container.channel]
            payload["container"] = {
                "type": "message",
                "message_ts": container.ts,
                "channel_id": container.channel,
                "is_ephemeral": container.ephemeral_to is not None,
            }
            payload["channel"] = {"id": channel_obj.id, "name": channel_obj.name}
            payload["message"] = container.to_json(self.workspace)
            payload["response_url"] = self._response_url(user, container.channel, container.ts)
            payload["state"] = {"values": {}}
        delivery = await self.endpoint.post_payload("block_actions", payload, **options)
        self.deliveries.append(delivery)
        return delivery

    async def submit_view(
        self, user: str, view_id: str, entered: dict[str, Any] | None = None, **options: Any
    ) -> Delivery:
        """Press the modal's submit button; applies the app's `response_action`."""
        view = self.workspace.views.get(view_id)
        if view is None or view.closed:
            raise LookupError(f"no open view {view_id}")
        state = view_state(view.view, entered)
        required = missing_required(view.view, state)
        if required:  # Slack refuses in the client; the app never hears of it
            view.errors = required
            self.workspace.publish({"type": "view_errors", "user": user, "view_id": view.id})
            return Delivery("view_submission", 0, "", "", 0.0)
        view_json = view.to_json()
        view_json["state"] = state
        payload: JSON = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": self._user_ref(user),
            "api_app_id": "A_SHARETRAIL",
            "token": "verification-token-unused",
            "trigger_id": self._trigger(user),
            "view": view_json,
            "response_urls": [],
            "is_enterprise_install": False,
        }
        delivery = await self.endpoint.post_payload("view_submission", payload, **options)
        self.deliveries.append(delivery)
        reply = delivery.json if delivery.status == 200 else None
        answer: JSON = reply if isinstance(reply, dict) else {}
        action = answer.get("response_action")
        if action == "errors":
            view.errors = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
            self.workspace.publish({"type": "view_errors", "user": user, "view_id": view.id})
        elif action == "update" and isinstance(answer.get("view"), dict):
            self.workspace.update_view(view, answer["view"])
        elif action == "push" and isinstance(answer.get("view"), dict):
            self.workspace.open_view(user, answer["view"], previous=view)
        elif action == "clear":
            self.workspace.close_view(view, all_in_stack=True)
        elif delivery.status == 200:
            self.workspace.close_view(view)
        else:
            view.errors = {"": "We had some trouble connecting. Try again?"}
            self.workspace.publish({"type": "view_errors", "user": user, "view_id": view.id})
        return delivery

    async def close_view(self, user: str, view_id: str) -> None:
        """The user dismisses a modal (view_closed is only sent if notify_on_close)."""
        view = self.workspace.views.get(view_id)
        if view is None or view.user != user:
            raise LookupError(f"no view {view_id} for {user}")
        self.workspace.close_view(view)
        if view.view.get("notify_on_close"):
            payload = {
                "type": "view_closed",
                "team": {"id": TEAM_ID, "domain": "sandbox"},
                "user": self._user_ref(user),
                "view": view.to_json(),
                "is_cleared": False,
            }
            self.deliveries.append(await self.endpoint.post_payload("view_closed", payload))

    def _envelope(self, event: JSON) -> JSON:
        now = time.time()
        event.setdefault("event_ts", f"{now:.6f}")
        return {
            "token": "verification-token-unused",
            "team_id": TEAM_ID,
            "api_app_id": "A_SHARETRAIL",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(6).upper(),
            "event_time": int(now),
            "authorizations": [
                {
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    async def send_event(self, event: JSON, **options: Any) -> list[Delivery]:
        attempts = await self.endpoint.post_event(self._envelope(event), **options)
        self.deliveries.extend(attempts)
        return attempts

    async def open_app_home(self, user: str) -> list[Delivery]:
        return await self.send_event(
            {
                "type": "app_home_opened",
                "user": user,
                "tab": "home",
                "channel": self.workspace.dm_with(user).id,
            }
        )

    async def say(
        self, user: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """A person posts a message; the app hears it through the Events API."""
        channel_id = self._channel_id(channel, viewer=user)
        message = self.workspace.post(
            Message(channel_id, self.workspace.new_ts(), user, text, thread_ts=thread_ts)
        )
        is_im = self.workspace.channels[channel_id].is_im
        if is_im or BOT_USER_ID in self.workspace.channels[channel_id].members:
            event: JSON = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": message.ts,
                "channel": channel_id,
                "channel_type": "im" if is_im else "channel",
            }
            if thread_ts:
                event["thread_ts"] = thread_ts
                parent = self.workspace.find_message(channel_id, thread_ts)
                if parent is not None:
                    event["parent_user_id"] = parent.user
            await self.send_event(event)
        await self._share_links(message)
        return message

    def _unfurlable(self, text: str) -> list[JSON]:
        """The links of `text` on the app's unfurl domains (or their subdomains)."""
        links = []
        for url in dict.fromkeys(URL.findall(text)):
            host = (urlsplit(url).hostname or "").lower()
            domain = next(
                (d for d in self.unfurl_domains if host == d or host.endswith("." + d)), None
            )
            if domain is not None:
                links.append({"domain": domain, "url": url})
        return links

    async def _share_links(self, message: Message) -> None:
        """Slack's `link_shared`: a posted message holds links on the app's unfurl domains."""
        links = self._unfurlable(message.text)
        if not links:
            return
        unfurl_id = f"{message.channel}.{message.ts}.{secrets.token_hex(16)}"
        self._unfurl_ids[unfurl_id] = (message.channel, message.ts)
        event: JSON = {
            "type": "link_shared",
            "channel": message.channel,
            "is_bot_user_member": BOT_USER_ID in self.workspace.channels[message.channel].members,
            "user": message.user,
            "message_ts": message.ts,
            "unfurl_id": unfurl_id,
            "source": "conversations_history",
            "links": links,
        }
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        await self.send_event(event)

    def user_file(
        self, user: str, filename: str, content: bytes, *, mimetype: str | None = None
    ) -> File:
        """A file a person uploaded (say, into a modal's file_input), not shared anywhere yet."""
        file_id = self.workspace.new_id("F")
        file = File(
            id=file_id,
            name=filename,
            title=filename,
            content=content,
            mimetype=mimetype or mimetypes.guess_type(filename)[0] or _mimetype(filename),
            user=self._user(user).id,
            url_private=f"{self.base_url}/files/{file_id}/{filename}",
        )
        self.workspace.add_file(file)
        self._notify()
        return file

    async def share_file(
        self,
        user: str,
        channel: str,
        filename: str,
        content: bytes,
        *,
        text: str = "",
        thread_ts: str | None = None,
        mimetype: str | None = None,
    ) -> Message:
        """A person drops a file into a conversation: a `file_share` message event."""
        file = self.user_file(user, filename, content, mimetype=mimetype)
        channel_id = self._channel_id(channel, viewer=user)
        file.channels.append(channel_id)
        self.workspace.file_changed(file)
        message = self.workspace.post(
            Message(
                channel_id,
                self.workspace.new_ts(),
                user,
                text,
                thread_ts=thread_ts,
                files=[file.id],
            )
        )
        is_im = self.workspace.channels[channel_id].is_im
        if is_im or BOT_USER_ID in self.workspace.channels[channel_id].members:
            event: JSON = {
                "type": "message",
                "subtype": "file_share",
                "user": user,
                "text": text,
                "ts": message.ts,
                "channel": channel_id,
                "channel_type": "im" if is_im else "channel",
                "files": [file.to_json()],
                "upload": False,
                "display_as_bot": False,
            }
            if thread_ts:
                event["thread_ts"] = thread_ts
                parent = self.workspace.find_message(channel_id, thread_ts)
                if parent is not None:
                    event["parent_user_id"] = parent.user
            await self.send_event(event)
        return message


def _interactive_elements(blocks: list[JSON]) -> list[tuple[str, JSON]]:
    found: list[tuple[str, JSON]] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"block_{index}")
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section":
            candidates = [block.get("accessory")]
        elif block.get("type") == "input":
            candidates = [block.get("element")]
        found.extend((block_id, e) for e in candidates if isinstance(e, dict))
    return found


def _json_arg(value: Any, default: Any) -> Any:
    """Slack takes structured arguments either as JSON values or JSON-encoded strings."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError("invalid_arguments") from None
    return value


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


def _mimetype(filename: str) -> str:
    lowered = filename.lower()
    if lowered.endswith(".png"):
        return "image/png"
    if lowered.endswith(".csv"):
        return "text/csv"
    if lowered.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    return "application/octet-stream"


def _flag(args: JSON, name: str) -> bool:
    """A boolean argument as Slack reads it: true, "true" or "1" (slack_sdk sends 1/0)."""
    return str(args.get(name, "")).lower() in ("1", "true")


def _ts_arg(args: JSON, name: str, default: str) -> float:
    try:
        return float(str(args.get(name) or default))
    except ValueError:
        raise SlackError(f"invalid_ts_{name}") from None


CURSOR_PREFIX = "bmV4dF90czo"  # base64 of "next_ts:", as Slack's cursors look


def _cursor(ts: str) -> str:
    return CURSOR_PREFIX + ts.replace(".", "_")


def _cursor_start(raw: Any, messages: list[Message]) -> int:
    """Where a cursor resumes: the position of the message it names."""
    if not raw:
        return 0
    ts = str(raw).removeprefix(CURSOR_PREFIX).replace("_", ".")
    for index, message in enumerate(messages):
        if message.ts == ts:
            return index
    raise SlackError("invalid_cursor")


def _image_urls(blocks: list[JSON]) -> list[tuple[str, str]]:
    """(JSON pointer, URL) of every image a message shows: image blocks, image accessories
    and images in context blocks."""
    candidates: list[tuple[str, Any]] = []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        candidates.append((f"/blocks/{i}", block))
        candidates.append((f"/blocks/{i}/accessory", block.get("accessory")))
        if block.get("type") == "context":
            elements = block.get("elements") or []
            candidates += [(f"/blocks/{i}/elements/{j}", e) for j, e in enumerate(elements)]
    return [
        (f"{pointer}/image_url", str(item["image_url"]))
        for pointer, item in candidates
        if isinstance(item, dict) and item.get("type") == "image" and item.get("image_url")
    ]


async def _downloadable(url: str) -> bool:
    """An HTTP GET answers 200 with an image Slack shows (PNG, JPEG or GIF)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    timeout = aiohttp.ClientTimeout(total=IMAGE_FETCH_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url) as response,
        ):
            body = await response.read()
            return response.status == 200 and response.content_type in IMAGE_TYPES and bool(body)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
