"""Signing in and out: /console/login, Slack's round trip, /console/callback, logout."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import DomainError, Forbidden
from bot.i18n import _
from bot.roles import Role
from handlers.web.console.core import (
    CONSOLE,
    Viewer,
    local_path,
    render,
    require_role,
)
from handlers.web.console.session import same_token

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def login_page(request: web.Request, *, message: str = "", status: int = 200) -> web.Response:
    console = request.app[CONSOLE]
    next_path = local_path(request.query.get("next"))
    return render(
        request,
        "console/login.html",
        {
            "configured": console.sign_in is not None,
            "start_url": "/console/login/slack?" + urlencode({"next": next_path}),
            "message": message,
        },
        status=status,
    )


@routes.get("/console/login")
async def login(request: web.Request) -> web.StreamResponse:
    """The "Sign in with Slack" page; someone already signed in goes straight on."""
    if request.app[CONSOLE].cookies.session(request) is not None:
        raise web.HTTPSeeOther(local_path(request.query.get("next")))
    return login_page(request)


@routes.get("/console/login/slack")
async def start(request: web.Request) -> web.StreamResponse:
    """Off to Slack's authorize page, with a state and nonce bound to this browser."""
    console = request.app[CONSOLE]
    if console.sign_in is None:
        return login_page(request, status=503)
    response = web.Response(status=303)
    attempt = console.cookies.start_attempt(response, local_path(request.query.get("next")))
    response.headers["Location"] = console.sign_in.authorize_url(
        redirect_uri=console.redirect_uri, state=attempt.state, nonce=attempt.nonce
    )
    return response


@routes.get("/console/callback")
async def callback(request: web.Request) -> web.StreamResponse:
    """Slack sends the browser back here with a code; the code is exchanged, the person
    read, and a session started. Anything off is the login page with a reason, never a 500."""
    console = request.app[CONSOLE]
    attempt = console.cookies.attempt(request)
    state = request.query.get("state", "")
    if console.sign_in is None:
        return login_page(request, status=503)
    if attempt is None or not same_token(state, attempt.state):
        message = _("This sign-in was not started in this browser, or took too long. Try again.")
        return login_page(request, message=message, status=403)
    if request.query.get("error"):
        return login_page(request, message=_("Sign-in was cancelled."), status=403)
    code = request.query.get("code", "")
    if not code:
        return login_page(request, message=_("Slack sent no sign-in code. Try again."), status=400)
    try:
        identity = await console.sign_in.identify(
            code=code, redirect_uri=console.redirect_uri, nonce=attempt.nonce
        )
        if identity.team_id != await console.workspace():
            raise Forbidden(_("You signed in to another Slack workspace than ShareTrail's."))
    except DomainError as exc:
        return login_page(request, message=str(exc), status=403)
    response = web.Response(status=303, headers={"Location": attempt.next_path or "/console"})
    console.cookies.end_attempt(response)
    console.cookies.start_session(response, user_id=identity.user_id, name=identity.name)
    log.info("console sign-in by %s", identity.user_id)
    return response


@routes.post("/console/logout")
@require_role(Role.EMPLOYEE)
async def logout(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    response = web.Response(status=303, headers={"Location": "/console/login"})
    request.app[CONSOLE].cookies.end_session(response)
    return response
