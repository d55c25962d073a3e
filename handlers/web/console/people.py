"""/console/people: who the admins and salespeople are; admins add and remove salespeople
of the global roster (the same rules as `/sharetrail sales add|remove`)."""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web
from sqlmodel import col, select

from bot.errors import DomainError, InvalidInput
from bot.i18n import _
from bot.roles import Role, names_of
from handlers.slack.parsing import parse_user
from handlers.web.console.core import Viewer, posted_form, render, require_role, services_of
from store.models import Employee

routes = web.RouteTableDef()
NOTICES = ("added", "removed", "adjusted")


async def _people(request: web.Request) -> dict[str, Any]:
    services = services_of(request)
    async with services.db.session() as session:
        known = list((await session.exec(select(Employee).order_by(col(Employee.name)))).all())
    admins = sorted(services.admin_ids | {e.user_id for e in known if e.is_admin})
    roster = await services.salespeople()
    names = await names_of(services, [*admins, *roster])
    for user_id in admins:  # few, and not always seen by ShareTrail yet: ask the directory
        if user_id not in names:
            with contextlib.suppress(DomainError):
                names[user_id] = (await services.directory.profile(user_id)).name
    on_roster = set(roster)
    return {
        "admins": [(u, names.get(u, "")) for u in admins],
        "salespeople": [(u, names.get(u, "")) for u in roster],
        "others": [e for e in known if e.user_id not in on_roster],
    }


def _user_id(raw: object) -> str:
    user_id = parse_user(raw.strip().lstrip("@")) if isinstance(raw, str) else None
    if user_id is None:
        raise InvalidInput(_("Give a Slack user ID like U0123ABCD."))
    return user_id


async def page(
    request: web.Request,
    viewer: Viewer,
    *,
    message: str = "",
    status: int = 200,
    adjust: dict[str, str] | None = None,
    adjust_errors: dict[str, str] | None = None,
) -> web.Response:
    """The people page; `adjust` and `adjust_errors` refill the points form after a refusal."""
    context = await _people(request)
    context["message"] = message
    context["balances"] = (
        await services_of(request).points.balances(user_id=viewer.user_id)
        if viewer.is_admin
        else []
    )
    context["adjust"] = adjust or {}
    context["adjust_errors"] = adjust_errors or {}
    context["notice"] = next((n for n in NOTICES if n in request.query), "")
    return render(request, "console/people.html", context, viewer=viewer, status=status)


@routes.get("/console/people")
@require_role(Role.SALESPERSON)
async def people(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await page(request, viewer)


@routes.post("/console/people/salespeople")
@require_role(Role.ADMIN)
async def add_salesperson(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await posted_form(request)
    try:
        user_id = _user_id(form.get("user_id") or form.get("known"))
        await services_of(request).add_salespeople([user_id], by_user_id=viewer.user_id)
    except InvalidInput as exc:
        return await page(request, viewer, message=str(exc), status=400)
    raise web.HTTPSeeOther("/console/people?added=1")


@routes.post("/console/people/salespeople/remove")
@require_role(Role.ADMIN)
async def remove_salesperson(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await posted_form(request)
    try:
        user_id = _user_id(form.get("user_id"))
        await services_of(request).remove_salespeople([user_id], by_user_id=viewer.user_id)
    except InvalidInput as exc:
        return await page(request, viewer, message=str(exc), status=400)
    raise web.HTTPSeeOther("/console/people?removed=1")
