"""The composition root: builds everything from Settings (no globals, no import-time I/O)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from assets import FONTS_DIR, STATIC_DIR, TEMPLATES_DIR
from bot.background import BackgroundTasks
from bot.cards import CardRenderer
from bot.directory import Directory
from bot.notifications import Notifier
from bot.platforms import SLACK, WECOM, PlatformDirectory, PlatformNotifier
from bot.scheduler import Scheduler
from bot.secret import load_or_create_secret
from bot.service import ShareTrail
from bot.settings import Settings
from bot.tracking import warm_up
from handlers.slack import broadcast, payloads
from handlers.slack.app import build_bolt_app, make_client
from handlers.slack.directory import SlackDirectory
from handlers.slack.notifier import SlackNotifier
from handlers.slack.pacing import Pacer
from handlers.slack.signing import RequestSigning
from handlers.web import (
    charts,
    checkin,
    console,
    landing,
    languages,
    logs,
    privacy_notice,
    security,
)
from handlers.web.errors import error_pages
from handlers.web.keys import BOLT, SERVICES, SIGNATURES, SLACK_CLIENT
from handlers.web.visitors import PROXIES, TrustedProxies
from handlers.wecom import console as wecom_console
from handlers.wecom import routes as wecom_routes
from handlers.wecom import signin as wecom_signin
from handlers.wecom.api import WeComApi
from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.directory import WeComDirectory
from handlers.wecom.events import WeComBot
from handlers.wecom.notifier import WeComNotifier
from store.db import Database
from store.migrate import upgrade

log = logging.getLogger("sharetrail")

MAX_BODY_BYTES = 256 * 1024


SLACK_TIMEOUT_S = 10


@dataclass
class Runtime:
    """Everything that lives as long as the server, closed in reverse order on shutdown."""

    db: Database
    client: AsyncWebClient  # without a token when only WeCom is configured
    services: ShareTrail
    bolt: AsyncApp | None  # None: Slack is not configured (WeCom only)
    scheduler: Scheduler | None = None
    slack_http: aiohttp.ClientSession | None = None  # the Web API clients' connections
    wecom: WeComBot | None = None
    wecom_http: aiohttp.ClientSession | None = None


WECOM_TIMEOUT_S = 10


def _wecom(settings: Settings, db: Database, http: aiohttp.ClientSession) -> WeComApi:
    assert settings.wecom_corp_id and settings.wecom_agent_id and settings.wecom_secret
    return WeComApi(
        http=http,
        base_url=settings.wecom_api_url,
        corp_id=settings.wecom_corp_id,
        secret=settings.wecom_secret.get_secret_value(),
        agent_id=settings.wecom_agent_id,
        db=db,
    )


async def start_runtime(settings: Settings) -> Runtime:
    if not settings.slack and not settings.wecom:
        raise RuntimeError("neither SLACK_BOT_TOKEN nor the WECOM_* settings are set")
    db = Database.from_url(settings.database_url)
    await upgrade(db.engine)
    configured = settings.sharetrail_secret
    secret = await load_or_create_secret(db, configured.get_secret_value() if configured else None)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    # One connection pool for every Web API call (slack_sdk otherwise opens a session, and
    # a TCP and TLS connection, per call).
    slack_http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_S))
    client = AsyncWebClient(token=None, base_url=settings.slack_api_url, session=slack_http)
    # One notifier and one directory per platform; each person's user id picks theirs.
    notifiers: dict[str, Notifier] = {}
    directories: dict[str, Directory] = {}
    if token is not None:
        client = make_client(token, settings.slack_api_url, session=slack_http)
        slack_directory = SlackDirectory(client)
        directories[SLACK] = slack_directory
        # The outbox's client handles 429s itself (pacer + Retry-After rescheduling).
        admin_token = settings.slack_admin_token
        notifiers[SLACK] = SlackNotifier(
            make_client(token, settings.slack_api_url, session=slack_http, rate_limits=False),
            Pacer(scale=settings.slack_pacing_scale),
            admin_client=make_client(
                admin_token.get_secret_value(),
                settings.slack_api_url,
                session=slack_http,
                rate_limits=False,
            )
            if admin_token
            else None,
            locale_of=slack_directory.locale,  # each DM in its reader's Slack language
            language=settings.language,
        )
    wecom_http = wecom_api = None
    if settings.wecom:
        wecom_http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WECOM_TIMEOUT_S))
        wecom_api = _wecom(settings, db, wecom_http)
        directories[WECOM] = WeComDirectory(wecom_api)
        notifiers[WECOM] = WeComNotifier(wecom_api)
    warm_up()
    services = ShareTrail(
        db=db,
        secret=secret,
        public_base_url=settings.public_base_url,
        admin_ids=settings.admin_ids,
        directory=PlatformDirectory(directories),
        notifier=PlatformNotifier(notifiers),
        cards=CardRenderer(FONTS_DIR),
        tasks=BackgroundTasks(),
        tracking_flush_ms=settings.tracking_flush_ms,
    )
    services.recorder.start()
    await services.outbox.start()
    if token is not None:
        await broadcast.resume(services, client)
    # Reminders, auto-close, the weekly report; only the replica holding the lease acts.
    scheduler = Scheduler(services, retention_days=settings.retention_days)
    await scheduler.start()
    signing = settings.slack_signing_secret
    bolt = None
    if token is not None:
        bolt = build_bolt_app(
            services,
            client=client,
            signing_secret=signing.get_secret_value() if signing else None,
            language=settings.language,
        )
    wecom = None
    if wecom_api is not None:
        wecom = WeComBot(services, wecom_api, f"{settings.public_base_url}/console/login/wecom")
    return Runtime(db, client, services, bolt, scheduler, slack_http, wecom, wecom_http)


async def stop_runtime(runtime: Runtime) -> None:
    """Commit the queued views, finish the notifications they cause, then close."""
    if runtime.scheduler is not None:
        await runtime.scheduler.stop()  # first: nothing new gets queued while draining
    await runtime.services.recorder.stop()
    await runtime.services.tasks.drain()
    await runtime.services.outbox.stop()
    await runtime.services.reports.close()  # the chart workers, if any were started
    if runtime.slack_http is not None:
        await runtime.slack_http.close()
    if runtime.wecom_http is not None:
        await runtime.wecom_http.close()
    await runtime.db.dispose()


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=status)


async def slack_events(request: web.Request) -> web.StreamResponse:
    """Slack's Request URL. The signature is checked before the body is parsed (bolt parses
    first), and malformed payloads are refused with 400 instead of failing inside bolt."""
    raw = await request.read()
    verifier = request.app[SIGNATURES]
    if verifier is not None and not verifier.valid(raw, request.headers):
        return _refuse(401, "invalid signature")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8")
    reason = payloads.problem_in(text, request.content_type)
    if reason is not None:  # before bolt builds its context, which indexes the body blindly
        log.warning("refused a malformed Slack request: %s", reason)
        return _refuse(400, reason)
    bolt_request = AsyncBoltRequest(
        body=text, query=request.query_string, headers=dict(request.headers)
    )
    key = payloads.delivery_key(bolt_request.body)
    if key is not None and not await request.app[SERVICES].first_delivery(key):
        # Slack re-sent something already handled (X-Slack-Retry-Num): ack, do nothing.
        log.info(
            "acknowledged a repeated Slack request (retry %s)",
            request.headers.get("X-Slack-Retry-Num", "-"),
        )
        return web.Response(status=200)
    bolt_response = await request.app[BOLT].async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)


# Status only: queue sizes, versions and errors are internals (`/sharetrail health`, admins).
HEALTHY = b'{"status": "ok"}'
UNHEALTHY = b'{"status": "unavailable"}'


async def healthz(request: web.Request) -> web.StreamResponse:
    """For load balancers and uptime checks: 200 when the database answers, else 503."""
    if await request.app[SERVICES].database_answers():
        return web.Response(body=HEALTHY, content_type="application/json")
    return web.Response(body=UNHEALTHY, status=503, content_type="application/json")


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> web.Application:
    """The one aiohttp app: landing routes, POST /slack/events, /wecom/callback."""
    logs.install()
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[languages.middleware(settings.language), error_pages],
    )
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True),
        auto_reload=False,  # templates are package data: no stat() per request
    )
    languages.install(aiohttp_jinja2.get_env(app))
    privacy_notice.install(aiohttp_jinja2.get_env(app), settings)
    scripts = security.install(app, STATIC_DIR)
    aiohttp_jinja2.get_env(app).globals["inline_script"] = scripts.markup

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        active = runtime or await start_runtime(settings)
        app[SERVICES] = active.services
        if active.bolt is not None:
            app[BOLT] = active.bolt
        app[SLACK_CLIENT] = active.client
        if active.wecom is not None:
            app[wecom_routes.WECOM_BOT] = active.wecom
        signing = settings.slack_signing_secret
        app[SIGNATURES] = RequestSigning(signing.get_secret_value()) if signing else None
        yield
        if runtime is None:
            await stop_runtime(active)

    app.cleanup_ctx.append(lifecycle)
    app[PROXIES] = TrustedProxies(settings.proxy_networks)
    landing.register(app)
    checkin.register(app)
    charts.register(app)
    console.register(app, settings)
    app.router.add_get("/healthz", healthz)
    if settings.slack and not settings.socket_mode:
        app.router.add_post("/slack/events", slack_events)
    if settings.wecom:
        assert settings.wecom_token and settings.wecom_aes_key and settings.wecom_corp_id
        app[wecom_routes.WECOM_CRYPTO] = CallbackCrypto(
            token=settings.wecom_token.get_secret_value(),
            aes_key=settings.wecom_aes_key.get_secret_value(),
            corp_id=settings.wecom_corp_id,
        )
        wecom_routes.register(app)
        wecom_signin.register(
            app, oauth_url=settings.wecom_oauth_url, corp_id=settings.wecom_corp_id
        )
        wecom_console.register(app)
    return app
