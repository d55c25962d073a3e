"""Domain errors to pages, once. Nothing a visitor sends produces a 500 or a traceback."""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.errors import Closed, DomainError, Forbidden, Gone, InvalidInput, NotFound
from bot.i18n import N_, _
from handlers.web.limits import TooManyRequests
from handlers.web.logs import redact

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Gone: 410, Forbidden: 403, InvalidInput: 400, Closed: 409}
TITLES = {
    404: N_("This link does not exist"),
    410: N_("This link has expired"),
    403: N_("This link is not yours"),
    400: N_("Something is not right"),
    409: N_("Sign-ups are closed"),
    413: N_("That was too much data"),
    429: N_("Slow down a little"),
    500: N_("Something broke on our side"),
}


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    if request.path.startswith(("/healthz", "/slack/")) or request.path.endswith("/beacon"):
        return web.json_response({"ok": False, "error": message}, status=status)
    return aiohttp_jinja2.render_template(
        "error.html",
        request,
        {"title": _(TITLES.get(status, N_("Error"))), "message": message},
        status=status,
    )


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return error_page(request, status, str(exc))
    except TooManyRequests as exc:
        response = error_page(request, 429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPRequestEntityTooLarge:
        return error_page(request, 413, _("The request was larger than this page accepts."))
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_page(request, 404, _("There is nothing at this address."))
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        return error_page(request, 500, _("Please try again in a moment."))
