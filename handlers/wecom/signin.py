"""Console sign-in inside WeCom: OAuth2 with scope snsapi_base (WeCom 构造网页授权链接).

/console/login/wecom sends the browser (WeCom's own, opened from the app's menu) to
WECOM_OAUTH_URL with the corp id, our redirect URI, a state bound to this browser and the
agent id; WeCom sends it back to /console/callback/wecom with a code, which
`auth/getuserinfo` turns into the member's userid (a code works once, for five minutes).
The session is the console's own (handlers/web/console/session.py), for `wecom:USERID`.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import DomainError
from bot.i18n import _
from bot.platforms import wecom_user_id
from handlers.web.console.auth import login_page
from handlers.web.console.core import CONSOLE, local_path
from handlers.web.console.session import same_token
from handlers.wecom.api import WeComError
from handlers.wecom.routes import WECOM_BOT

log = logging.getLogger(__name__)

CALLBACK = "/console/callback/wecom"
OAUTH_URL = web.AppKey("wecom_oauth_url", str)
CORP_ID = web.AppKey("wecom_oauth_corp_id", str)


async def start(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    response = web.Response(status=303)
    attempt = console.cookies.start_attempt(response, local_path(request.query.get("next")))
    query = urlencode(
        {
            "appid": request.app[CORP_ID],
            "redirect_uri": f"{console.base_url}{CALLBACK}",
            "response_type": "code",
            "scope": "snsapi_base",
            "state": attempt.state,
            "agentid": str(request.app[WECOM_BOT].api.agent_id),
        }
    )
    response.headers["Location"] = f"{request.app[OAUTH_URL]}?{query}#wechat_redirect"
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    """Anything off is the login page with a reason, never a 500."""
    console = request.app[CONSOLE]
    attempt = console.cookies.attempt(request)
    if attempt is None or not same_token(request.query.get("state", ""), attempt.state):
        message = _("This sign-in was not started in this browser, or took too long. Try again.")
        return login_page(request, message=message, status=403)
    code = request.query.get("code", "")
    if not code:
        return login_page(request, message=_("Sign-in was cancelled."), status=403)
    bot = request.app[WECOM_BOT]
    try:
        userid = await bot.api.user_by_code(code)
        employee = await bot.services.sync_employee(wecom_user_id(userid))
    except WeComError as exc:
        log.info("WeCom sign-in refused: %s", exc.code)
        return login_page(
            request, message=_("WeCom did not confirm who you are. Try again."), status=403
        )
    except DomainError as exc:
        return login_page(request, message=str(exc), status=403)
    response = web.Response(status=303, headers={"Location": attempt.next_path or "/console"})
    console.cookies.end_attempt(response)
    console.cookies.start_session(response, user_id=employee.user_id, name=employee.name)
    log.info("console sign-in by %s (WeCom)", employee.user_id)
    return response


def register(app: web.Application, *, oauth_url: str, corp_id: str) -> None:
    app[OAUTH_URL] = oauth_url
    app[CORP_ID] = corp_id
    app.router.add_get("/console/login/wecom", start)
    app.router.add_get(CALLBACK, callback)
