"""The web console at /console (DESIGN.md §7): server-rendered pages, one module per page
group, each route guarded by `require_role` on the server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import aiohttp_jinja2
from aiohttp import web

from bot.settings import Settings
from handlers.web.console import (
    activities,
    audit,
    auth,
    dashboard,
    health,
    leads,
    people,
    points,
    privacy,
    rewards,
)
from handlers.web.console.activities import local_time
from handlers.web.console.core import (
    CONSOLE,
    Console,
    entry_kind,
    role_name,
    source_label,
    state_name,
)
from handlers.web.console.oidc import SlackSignIn
from handlers.web.console.session import Cookies
from handlers.web.keys import SERVICES, SLACK_CLIENT

SLACK_TIMEOUT_S = 10


def _translations(app: web.Application) -> None:
    """The console's template helpers (`_()` and `{% trans %}`: handlers/web/languages.py)."""
    env = aiohttp_jinja2.get_env(app)
    env.globals["role_name"] = role_name
    env.globals["local_time"] = local_time
    env.globals["state_name"] = state_name
    env.globals["entry_kind"] = entry_kind
    env.globals["source_label"] = source_label


def register(app: web.Application, settings: Settings) -> None:
    """Add the console's routes; its parts are built once the services have started."""
    _translations(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        secret = settings.slack_client_secret
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_S)
        ) as http:
            sign_in = None
            if settings.slack_client_id and secret is not None:
                sign_in = SlackSignIn(
                    api_url=settings.slack_api_url,
                    client_id=settings.slack_client_id,
                    client_secret=secret.get_secret_value(),
                    session=http,
                )
            app[CONSOLE] = Console(
                cookies=Cookies(
                    services.secret, secure=settings.public_base_url.startswith("https://")
                ),
                slack=app[SLACK_CLIENT],
                sign_in=sign_in,
                base_url=settings.public_base_url,
            )
            yield

    app.cleanup_ctx.append(lifecycle)
    for module in (
        auth,
        dashboard,
        activities,
        leads,
        people,
        health,
        audit,
        points,
        rewards,
        privacy,
    ):
        app.router.add_routes(module.routes)
