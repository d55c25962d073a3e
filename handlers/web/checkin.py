"""The salesperson's field check-in page: GET shows the form, POST records it (one use)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot import i18n
from bot.errors import DomainError, Forbidden, Gone, InvalidInput, NotFound
from bot.i18n import _
from bot.records import FORM_FIELDS, CheckInPage, LinkUsed, osm_url
from handlers.web.forms import read_form
from handlers.web.keys import SERVICES

# The token is the capability: keep it out of caches, indexes and Referer headers
# (the done page links to OpenStreetMap).
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def _refusal(request: web.Request, error: DomainError, *, note: str = "") -> web.Response:
    """A clear page per reason; a note typed into a refused form is shown so it is not lost."""
    if isinstance(error, LinkUsed):
        status, title = 410, _("This check-in link was already used")
    elif isinstance(error, Gone):
        status, title = 410, _("This check-in link has expired")
    elif isinstance(error, Forbidden):
        status, title = 403, _("This check-in link is not yours")
    elif isinstance(error, NotFound):
        status, title = 404, _("This check-in link is not valid")
    else:
        status, title = 400, _("Something is not right")
    response = aiohttp_jinja2.render_template(
        "checkin_refused.html",
        request,
        {"title": title, "message": str(error), "note": note},
        status=status,
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


def _form_context(
    page: CheckInPage,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
) -> dict[str, Any]:
    return {
        "page": page,
        "lead": page.lead,
        "activity": page.activity,
        "tz": page.tz,
        "values": {"met_at": page.now_value, **(values or {})},
        "errors": errors or {},
        "message": message,
    }


async def checkin_page(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    try:
        page = await services.records.check_in_page(request.match_info["token"])
    except (Gone, Forbidden, NotFound) as exc:
        return _refusal(request, exc)
    response = aiohttp_jinja2.render_template("checkin.html", request, _form_context(page))
    response.headers.update(PRIVATE_HEADERS)
    return response


async def _fields(request: web.Request) -> dict[str, str]:
    form = await read_form(request)
    return {name: value for name in FORM_FIELDS if isinstance(value := form.get(name), str)}


async def checkin_submit(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    token = request.match_info["token"]
    fields: dict[str, str] = {}
    try:
        fields = await _fields(request)
        page, check_in = await services.records.check_in(token, fields)
    except InvalidInput as exc:
        try:
            page = await services.records.check_in_page(token, submitting=True)
        except (Gone, Forbidden, NotFound) as refused:
            return _refusal(request, refused, note=fields.get("note", ""))
        context = _form_context(page, values=fields, errors=exc.fields, message=str(exc))
        response = aiohttp_jinja2.render_template("checkin.html", request, context, status=400)
        response.headers.update(PRIVATE_HEADERS)
        return response
    except (Gone, Forbidden, NotFound) as exc:
        return _refusal(request, exc, note=fields.get("note", ""))
    response = aiohttp_jinja2.render_template(
        "checkin_done.html",
        request,
        {
            "lead": page.lead,
            "check_in": check_in,
            "map_url": osm_url(check_in.lat, check_in.lon),
            "met_at": i18n.format_moment(check_in.met_at, page.tz),
            "tz": page.tz,
        },
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


def register(app: web.Application) -> None:
    app.router.add_get("/checkin/{token}", checkin_page)
    app.router.add_post("/checkin/{token}", checkin_submit)
