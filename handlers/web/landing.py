"""The customer's side: landing page, sign-up, card image, interaction beacons."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from assets import STATIC_DIR
from bot import i18n, phones
from bot.cache import MISSING
from bot.calendar import activity_ics
from bot.errors import DomainError, Forbidden, Gone, InvalidInput
from bot.service import LandingPage, ShareTrail
from bot.tracking import Visit, classify
from handlers.web import limits
from handlers.web.forms import read_form
from handlers.web.keys import SERVICES
from handlers.web.richtext import intro_html
from handlers.web.visitors import (
    Visitor,
    identify,
    own_employee_id,
    remember,
    remember_owner,
    remember_signup,
    signed_up_activities,
)

SIGNUP_FIELDS = ("name", "phone", "company", "note")
FORM_TOKEN = "form"
# A field people never see (moved off-screen, not type=hidden) that form-filling bots fill
# in: a sign-up with anything in it is thanked and dropped.
HONEYPOT = "website"
BEACON_MAX_BYTES = 2048
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "private, no-store"}


def _secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto") == "https"


def page_locale(request: web.Request, page: LandingPage) -> str:
    """The browser's choice between en and zh, else the activity's language."""
    fallback = i18n.supported(page.activity.language, i18n.current_locale())
    return i18n.negotiate(request.headers.get("Accept-Language"), fallback)


def _page_context(
    request: web.Request,
    services: ShareTrail,
    page: LandingPage,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    signed_up: bool = False,
) -> dict[str, Any]:
    base = services.public_base_url
    return {
        "signed_up": signed_up,
        "calendar_url": f"/s/{page.code}/calendar.ics",
        "page": page,
        "activity": page.activity,
        "employee": page.employee,
        "salesperson": page.salesperson,
        "when": page.when,
        "intro_html": intro_html(page.activity),
        "share_url": f"{base}/s/{page.code}",
        "card_url": f"{base}/s/{page.code}/card.png",
        "signup_url": f"/s/{page.code}/signup",
        "beacon_url": f"/s/{page.code}/beacon",
        "form_token": services.signup_form_token(page.code),
        "honeypot": HONEYPOT,
        "values": values or {},
        "errors": errors or {},
        "message": message,
    }


def _own_link(request: web.Request, services: ShareTrail) -> web.StreamResponse:
    """`?me=…` from the employee's DM: remember this browser as theirs, then show the clean
    address (so the link they copy from the address bar is the customer's link)."""
    services.codec.decode(request.match_info["code"])
    response = web.Response(status=303, headers={"Location": request.rel_url.path})
    try:
        employee_id = int(services.own_links.unsign(request.query["me"]))
    except (DomainError, ValueError):
        return response  # an expired or copied preview link just opens the page
    remember_owner(response, services, employee_id, secure=_secure(request))
    return response


async def landing(request: web.Request) -> web.StreamResponse:
    """The hot path. A new visitor of a cached share is answered without awaiting anything
    but the write-through commit, if configured; the rest takes the awaiting path."""
    services = request.app[SERVICES]
    if "me" in request.query:
        return _own_link(request, services)
    visitor = identify(request, services)
    code = request.match_info["code"]
    page = None if visitor.known else services.cached_landing(code, visitor_key=visitor.key)
    if page is None:
        page = await services.landing(code, visitor_key=visitor.key, known_visitor=visitor.known)
    i18n.set_locale(page_locale(request, page))  # the page's language is known only now
    if page.activity.id in signed_up_activities(request, services):
        # Rare, and different for each browser: rendered for this one, never cached.
        context = _page_context(request, services, page, signed_up=True)
        body = aiohttp_jinja2.render_string("landing.html", request, context).encode()
    else:
        body = services.page_cache.peek(page.cache_key)
        if body is MISSING:
            body = await _rendered(request, services, page)
    response = web.Response(body=body, headers=PAGE_HEADERS)
    remember(response, visitor, secure=_secure(request))
    committed = services.record_visit(page, visit=_visit(request, services, page, visitor))
    if committed is not None:
        await committed
    return response


async def _rendered(request: web.Request, services: ShareTrail, page: LandingPage) -> bytes:
    """The page is the same for every visitor offered the same salesperson: render it once
    (the cache is cleared whenever something it shows changes)."""

    async def render() -> bytes:
        context = _page_context(request, services, page)
        return aiohttp_jinja2.render_string("landing.html", request, context).encode()

    body: bytes = await services.page_cache.get_or_load(page.cache_key, render)
    return body


def _visit(
    request: web.Request, services: ShareTrail, page: LandingPage, visitor: Visitor
) -> Visit:
    assert page.activity.id is not None and page.employee.id is not None
    return Visit(
        share_id=page.ref.share_id,
        activity_id=page.activity.id,
        employee_id=page.employee.id,
        source=page.ref.source,
        visitor_key=visitor.key,
        visitor_hash=visitor.hash,
        classification=classify(
            request.method, request.headers.get("User-Agent", ""), request.headers
        ),
        at=datetime.now(UTC),
        is_own=own_employee_id(request, services) == page.employee.id,
        network=visitor.network,
        window_networks=visitor.window_networks,
    )


async def _form_fields(request: web.Request) -> dict[str, str]:
    form = await read_form(request)
    fields = {}
    for name in (*SIGNUP_FIELDS, "offer", FORM_TOKEN, HONEYPOT):
        value = form.get(name)
        fields[name] = value if isinstance(value, str) else ""
    return fields


def _thanks(request: web.Request) -> web.StreamResponse:
    """ "Thanks, we'll be in touch", naming nobody: what a stranger may be told."""
    return aiohttp_jinja2.render_template("signup_done.html", request, {"generic": True})


async def _form_again(
    request: web.Request,
    services: ShareTrail,
    visitor: Visitor,
    fields: dict[str, str],
    *,
    status: int,
    message: str,
    errors: dict[str, str] | None = None,
) -> web.StreamResponse:
    """The landing page again with what was typed, a message, and a fresh form token."""
    code = request.match_info["code"]
    page = await services.landing(code, visitor_key=visitor.key, known_visitor=visitor.known)
    i18n.set_locale(page_locale(request, page))
    values = {name: fields[name] for name in SIGNUP_FIELDS}
    context = _page_context(request, services, page, values=values, errors=errors, message=message)
    response = aiohttp_jinja2.render_template("landing.html", request, context, status=status)
    remember(response, visitor, secure=_secure(request))
    return response


async def signup(request: web.Request) -> web.StreamResponse:
    """Order of refusals: unknown code (404), closed activity (409), the honeypot (thanks,
    nothing stored), a form not from our page (403), bad fields (400)."""
    services = request.app[SERVICES]
    code = request.match_info["code"]
    visitor = identify(request, services)
    services.codec.decode(code)  # A forged code is a 404 before the body is even read.
    await services.ensure_signups_open(code)
    fields = await _form_fields(request)
    if fields[HONEYPOT]:
        return _thanks(request)
    try:
        outcome = await services.signup(
            code,
            fields,
            visitor_key=visitor.key,
            visitor_hash=visitor.hash,
            offer_token=fields["offer"],
            form_token=fields[FORM_TOKEN],
            known_visitor=visitor.known,
            own_employee_id=own_employee_id(request, services),
        )
    except (Forbidden, Gone) as exc:
        return await _form_again(request, services, visitor, fields, status=403, message=str(exc))
    except InvalidInput as exc:
        return await _form_again(
            request, services, visitor, fields, status=400, message=str(exc), errors=exc.fields
        )
    if outcome.duplicate and outcome.lead.visitor_key != visitor.key:
        # Someone else's browser: naming the salesperson would tell them the phone is known.
        response = _thanks(request)
    else:
        page = await services.landing(code, visitor_key=visitor.key, known_visitor=False)
        i18n.set_locale(page_locale(request, page))
        response = aiohttp_jinja2.render_template(
            "signup_done.html",
            request,
            {
                "lead": outcome.lead,
                "salesperson": outcome.salesperson,
                "employee": outcome.employee,
                "duplicate": outcome.duplicate,
                "activity": page.activity,
                "when": page.when,
                "calendar_url": f"/s/{code}/calendar.ics",
            },
        )
    remember(response, visitor, secure=_secure(request))
    remember_signup(response, request, services, outcome.lead.activity_id, secure=_secure(request))
    return response


async def calendar(request: web.Request) -> web.StreamResponse:
    """The activity as an .ics file ("add to calendar" after signing up)."""
    services = request.app[SERVICES]
    code = request.match_info["code"]
    page = await services.landing(code, visitor_key="", known_visitor=False)
    activity = page.activity
    url = f"{services.public_base_url}/s/{code}"
    headline = activity.headline if activity.headline != activity.name else ""
    description = "\n\n".join(part for part in (headline, activity.intro, url) if part)
    body = activity_ics(
        activity,
        url=url,
        host=urlsplit(services.public_base_url).hostname or "sharetrail",
        description=description,
        now=datetime.now(UTC),
    )
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="activity-{activity.id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


async def card_image(request: web.Request) -> web.StreamResponse:
    png = await request.app[SERVICES].card_png(request.match_info["code"])
    return web.Response(
        body=png, content_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


def _not_a_number(constant: str) -> float:
    """json accepts NaN and Infinity, which JSON itself does not: refuse them."""
    raise ValueError(f"{constant} is not JSON")


def parse_beacon(raw: bytes) -> dict[str, Any]:
    """Dwell (ms), max scroll depth (%), clicked controls; unknown keys are dropped."""
    try:
        data = json.loads(raw, parse_constant=_not_a_number)
    except ValueError:  # also UnicodeDecodeError, and NaN / Infinity (see _not_a_number)
        raise InvalidInput("The beacon is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The beacon must be a JSON object.")
    beacon: dict[str, Any] = {}
    for key, limit in (("dwell_ms", 24 * 3600 * 1000), ("scroll_pct", 100)):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(f"{key} must be a non-negative number.")
        if not math.isfinite(value):  # 1e400 parses as float infinity
            raise InvalidInput(f"{key} must be a finite number.")
        beacon[key] = min(int(value), limit)
    clicks = data.get("clicks", [])
    if not isinstance(clicks, list) or not all(isinstance(c, str) for c in clicks):
        raise InvalidInput("clicks must be a list of strings.")
    beacon["clicks"] = sorted({c for c in clicks if c in ("phone", "email", "signup")})
    return beacon


async def beacon(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    ref = services.codec.decode(request.match_info["code"])
    raw = await request.content.read(BEACON_MAX_BYTES + 1)
    if len(raw) > BEACON_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=BEACON_MAX_BYTES, actual_size=len(raw))
    data = parse_beacon(raw)
    visitor = identify(request, services)
    await services.record_beacon(ref.share_id, visitor.key, **data)
    return web.Response(status=204)


def favicon_route(svg: bytes) -> Handler:
    """The ShareTrail mark: linked from every page, and at /favicon.ico where browsers
    look by themselves (they read an SVG served there too)."""

    async def favicon(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=svg,
            headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"},
        )

    return favicon


def register(app: web.Application) -> None:
    limits.setup(app)
    filters = aiohttp_jinja2.get_env(app).filters
    filters["phone"] = phones.display  # one way to show a number, everywhere
    filters["tel"] = phones.bare  # the href of a tel: link
    aiohttp_jinja2.get_env(app).tests["dialable"] = phones.dialable
    favicon = favicon_route((STATIC_DIR / "favicon.svg").read_bytes())
    app.router.add_get("/favicon.svg", favicon)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/s/{code}", landing)
    app.router.add_post("/s/{code}/signup", limits.limited("signup")(signup))
    app.router.add_get("/s/{code}/card.png", card_image)
    app.router.add_get("/s/{code}/calendar.ics", calendar)
    app.router.add_post("/s/{code}/beacon", limits.limited("beacon")(beacon))
