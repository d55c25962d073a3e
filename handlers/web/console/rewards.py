"""/console/rewards (admins): the rewards catalogue (add, edit, retire, picture) and the
fulfilment queue (fulfil or refuse, which refunds). Pictures are served from the
database, re-encoded, to anyone signed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_request import FileField

from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.rewards import PICTURE_MAX_BYTES
from bot.roles import Role
from handlers.web.console.core import Viewer, posted_form, render, require_role, services_of
from handlers.web.forms import Form

routes = web.RouteTableDef()
TEXT_FIELDS = ("name", "cost", "stock")
FIELD_MAX = 1_000
NOTICES = {
    "added": "The reward is in the catalogue.",
    "saved": "Saved.",
    "fulfilled": "Marked fulfilled; the employee is told in Slack.",
    "refused": "Refused; the points are refunded and the employee is told in Slack.",
}
# A picture of up to PICTURE_MAX_BYTES plus the form around it (the app's default is less).
UPLOAD_BODY_MAX = PICTURE_MAX_BYTES + 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def larger_body(handler: Handler) -> Handler:
    """Let this route's form carry a picture: the request re-made with a larger limit
    (more than that is a 413 page, as elsewhere)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        larger = request.clone(client_max_size=UPLOAD_BODY_MAX)
        try:
            return await handler(larger)
        finally:
            # aiohttp spools uploads to temporary files and leaves closing them to us.
            for value in (getattr(larger, "_post", None) or {}).values():
                if isinstance(value, FileField):
                    value.file.close()

    return wrapped


def _number(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise NotFound(_("There is nothing at this address."))
    return int(raw)


def _texts(form: Form) -> dict[str, str]:
    values = {}
    for name in TEXT_FIELDS:
        value = form.get(name)
        values[name] = value[:FIELD_MAX] if isinstance(value, str) else ""
    return values


def _picture(form: Form) -> bytes | None:
    """The uploaded file's bytes; None when no file was chosen."""
    value = form.get("picture")
    if not isinstance(value, FileField):
        return None
    data = value.file.read(PICTURE_MAX_BYTES + 1)
    return data or None


async def _page(
    request: web.Request,
    viewer: Viewer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    editing: int | None = None,
    status: int = 200,
) -> web.StreamResponse:
    spending = services_of(request).spending
    notice = next((NOTICES[k] for k in NOTICES if k in request.query), "")
    context = {
        "rewards": await spending.catalogue(include_retired=True),
        "pending": await spending.queue("pending"),
        "fulfilled": await spending.queue("fulfilled"),
        "refused": await spending.queue("refused"),
        "values": values or {"name": "", "cost": "", "stock": ""},
        "errors": errors or {},
        "message": message,
        "editing": editing,
        "notice": _(notice) if notice else "",
        "picture_mb": PICTURE_MAX_BYTES // 2**20,
    }
    return render(request, "console/rewards.html", context, viewer=viewer, status=status)


@routes.get("/console/rewards")
@require_role(Role.ADMIN)
async def rewards_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _page(request, viewer)


@routes.post("/console/rewards")
@larger_body
@require_role(Role.ADMIN)
async def add_reward(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await posted_form(request)
    values = _texts(form)
    try:
        await services_of(request).spending.create_reward(
            values, _picture(form), by_user_id=viewer.user_id
        )
    except InvalidInput as exc:
        return await _page(
            request, viewer, values=values, errors=exc.fields, message=str(exc), status=400
        )
    raise web.HTTPSeeOther("/console/rewards?added=1")


@routes.post("/console/rewards/{reward_id}")
@larger_body
@require_role(Role.ADMIN)
async def edit_reward(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    reward_id = _number(request.match_info["reward_id"])
    form = await posted_form(request)
    values = _texts(form)
    try:
        await services_of(request).spending.update_reward(
            reward_id,
            values,
            _picture(form),
            active=form.get("active") == "on",
            by_user_id=viewer.user_id,
        )
    except InvalidInput as exc:
        return await _page(
            request,
            viewer,
            values=values,
            errors=exc.fields,
            message=str(exc),
            editing=reward_id,
            status=400,
        )
    raise web.HTTPSeeOther("/console/rewards?saved=1")


@routes.post("/console/redemptions/{redemption_id}")
@require_role(Role.ADMIN)
async def decide_redemption(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    redemption_id = _number(request.match_info["redemption_id"])
    form = await posted_form(request)
    decision = form.get("decision")
    if decision not in ("fulfil", "refuse"):
        raise InvalidInput(_("Pick fulfil or refuse."))
    note = form.get("note")
    await services_of(request).spending.decide(
        redemption_id,
        fulfil=decision == "fulfil",
        by_user_id=viewer.user_id,
        note=note if isinstance(note, str) else "",
    )
    done = "fulfilled" if decision == "fulfil" else "refused"
    raise web.HTTPSeeOther(f"/console/rewards?{done}=1")


@routes.get("/console/rewards/{reward_id}/picture")
@require_role(Role.EMPLOYEE)
async def picture(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    reward_id = _number(request.match_info["reward_id"])
    data, kind = await services_of(request).spending.picture(reward_id)
    return web.Response(
        body=data,
        content_type=kind,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
