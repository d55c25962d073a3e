"""What every console page shares: the app key, `require_role`, CSRF, rendering."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import aiohttp_jinja2
from aiohttp import web
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import i18n
from bot.codes import PUSH_SOURCE_LABELS
from bot.directory import employee_by_user
from bot.errors import DomainError, Forbidden, Gone, InvalidInput, NotFound
from bot.i18n import _
from bot.roles import Role, role_of
from bot.service import ShareTrail
from handlers.web.console.oidc import SlackSignIn
from handlers.web.console.session import Cookies, Session, same_token
from handlers.web.forms import Form, read_form
from handlers.web.keys import SERVICES

LOGIN_PATH = "/console/login"
TEAM_CACHE_S = 3600.0
STATUS = {NotFound: 404, Gone: 410, Forbidden: 403, InvalidInput: 400}


@dataclass
class Console:
    """The console's long-lived parts, built when the server starts."""

    cookies: Cookies
    slack: AsyncWebClient  # the bot's client: publishing, the workspace's team id
    sign_in: SlackSignIn | None  # None: SLACK_CLIENT_ID / SLACK_CLIENT_SECRET not set
    base_url: str  # PUBLIC_BASE_URL: the redirect URI registered with Slack
    _team: tuple[float, str] | None = field(default=None, repr=False)

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/console/callback"

    async def workspace(self) -> str:
        """The bot's workspace: only its people may sign in (Sign in with Slack lets
        anyone with a Slack account through)."""
        if self._team is not None and time.monotonic() - self._team[0] < TEAM_CACHE_S:
            return self._team[1]
        try:
            team = str((await self.slack.auth_test()).get("team_id") or "")
        except (SlackApiError, SlackClientError, OSError, TimeoutError):
            raise Forbidden(_("Slack could not be reached. Please try again.")) from None
        self._team = (time.monotonic(), team)
        return team


CONSOLE = web.AppKey("console", Console)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person on this request, with the role decided on the server."""

    session: Session
    role: Role

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN


def role_name(role: Role) -> str:
    """The role as the header shows it."""
    if role is Role.ADMIN:
        return _("Admin")
    if role is Role.SALESPERSON:
        return _("Salesperson")
    return _("Employee")


def state_name(state: str) -> str:
    """A lead's state as people say it."""
    names = {
        "new": _("New"),
        "attended": _("Attended"),
        "no_show": _("No-show"),
        "converted": _("Converted"),
    }
    return names.get(state, state)


def source_label(source: str) -> str:
    """A push source as people say it: "WeChat", "Card QR", never `card_qr`."""
    return _(PUSH_SOURCE_LABELS.get(source, "Other"))


def entry_kind(kind: str) -> str:
    """A timeline entry's kind (bot/records.py TimelineEntry.kind) in words."""
    names = {
        "view": _("Viewed the page"),
        "signup": _("Signed up"),
        "outcome": _("Outcome"),
        "contact": _("Contact"),
        "check_in": _("Check-in"),
        "note": _("Note"),
    }
    return names.get(kind, kind)


def role_plural(role: Role) -> str:
    if role is Role.ADMIN:
        return _("ShareTrail admins")
    if role is Role.SALESPERSON:
        return _("salespeople and admins")
    return _("people of this workspace")


Page = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]


def services_of(request: web.Request) -> ShareTrail:
    return request.app[SERVICES]


async def viewer_zone(request: web.Request, user_id: str) -> str:
    """The signed-in person's time zone: the one stored with them (their Slack profile's,
    refreshed whenever they use ShareTrail in Slack), else Slack's users.info, else UTC."""
    services = services_of(request)
    async with services.db.session() as session:
        person = await employee_by_user(session=session, user_id=user_id)
    if person is not None and person.tz:
        return person.tz
    try:
        return (await services.directory.profile(user_id)).tz or "UTC"
    except (DomainError, SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError):
        return "UTC"


def local_path(raw: str | None) -> str:
    """A console path to come back to after sign-in; anything else (another site,
    `//host`, `/\\host`) is the dashboard, so the login is no open redirect."""
    if not raw or not raw.startswith("/console") or any(c in raw for c in "\\\r\n\t"):
        return "/console"
    return raw


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status: int = 200,
) -> web.Response:
    """A console page; `viewer` fills the header (name, role, CSRF token for forms)."""
    full = {"viewer": viewer, "csrf": viewer.session.csrf if viewer else "", **context}
    response = aiohttp_jinja2.render_template(template, request, full, status=status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def refused(
    request: web.Request, status: int, message: str, *, viewer: Viewer | None = None
) -> web.Response:
    return render(
        request,
        "console/refused.html",
        {"status": status, "message": message},
        viewer=viewer,
        status=status,
    )


def to_login(request: web.Request) -> web.Response:
    """Not signed in (or a forged or expired cookie): to the login page, then back."""
    target = LOGIN_PATH
    if request.method == "GET":
        target += "?next=" + quote(local_path(request.path_qs), safe="")
    return web.Response(status=303, headers={"Location": target})


async def posted_form(request: web.Request) -> Form:
    """The posted form (aiohttp keeps it: reading it again costs nothing)."""
    return await read_form(request)


def require_role(
    role: Role,
) -> Callable[[Page], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Check the session, the role (on every request) and, on POST, the CSRF token, before
    the page runs; domain errors become console pages with their status."""

    def wrap(page: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(page)
        async def guarded(request: web.Request) -> web.StreamResponse:
            session = request.app[CONSOLE].cookies.session(request)
            if session is None:
                return to_login(request)
            viewer = Viewer(session, await role_of(services_of(request), session.user_id))
            if request.method == "POST":
                token = (await posted_form(request)).get("csrf")
                if not isinstance(token, str) or not same_token(token, session.csrf):
                    message = _("This form has expired. Go back, reload the page and try again.")
                    return refused(request, 403, message, viewer=viewer)
            if viewer.role < role:
                message = _("This page is for {role} only.").format(role=role_plural(role))
                return refused(request, 403, message, viewer=viewer)
            try:
                # Every time on the page is in the viewer's zone (bot.i18n, Jinja's filters).
                with i18n.use_zone(await viewer_zone(request, session.user_id)):
                    return await page(request, viewer)
            except DomainError as exc:
                status = next((c for kind, c in STATUS.items() if isinstance(exc, kind)), 400)
                return refused(request, status, str(exc), viewer=viewer)

        return guarded

    return wrap
