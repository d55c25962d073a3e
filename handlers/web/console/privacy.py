"""/console/privacy (admins): a customer's access request (everything held about a phone
number, downloaded as JSON) and erasure (bot/privacy.py), with a confirm step. The phone
travels only in POST bodies, never in a URL (URLs end up in logs and histories)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot import privacy
from bot.errors import InvalidInput
from bot.roles import Role
from handlers.web.console.core import Viewer, posted_form, render, require_role, services_of
from store.models import Activity

routes = web.RouteTableDef()
PHONE_MAX = 64


async def _phone(request: web.Request) -> str:
    raw = (await posted_form(request)).get("phone")
    return raw.strip()[:PHONE_MAX] if isinstance(raw, str) else ""


def _page(
    request: web.Request, viewer: Viewer, *, status: int = 200, **context: Any
) -> web.Response:
    full = {"phone": "", "error": "", "confirm": None, "erased": None, **context}
    return render(request, "console/privacy.html", full, viewer=viewer, status=status)


@routes.get("/console/privacy")
@require_role(Role.ADMIN)
async def show_privacy(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return _page(request, viewer)


@routes.post("/console/privacy/access")
@require_role(Role.ADMIN)
async def access_export(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    phone = await _phone(request)
    try:
        privacy.checked_phone(phone)
    except InvalidInput as exc:
        return _page(request, viewer, status=400, phone=phone, error=str(exc))
    data = await services_of(request).customer_data(phone, by_user_id=viewer.user_id)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return web.Response(
        body=body.encode("utf-8"),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="customer-data.json"',
            "Cache-Control": "private, no-store",
        },
    )


@routes.post("/console/privacy/erase")
@require_role(Role.ADMIN)
async def erase(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """First post: what would be erased, and a confirm button; the confirmed post erases."""
    services = services_of(request)
    phone = await _phone(request)
    try:
        privacy.checked_phone(phone)
    except InvalidInput as exc:
        return _page(request, viewer, status=400, phone=phone, error=str(exc))
    if (await posted_form(request)).get("confirm") != "yes":
        async with services.db.session() as session:
            leads = await privacy.leads_with_phone(session, phone)
            names = {
                a.id: a.name
                for a in [await session.get(Activity, i) for i in {x.activity_id for x in leads}]
                if a is not None
            }
        found = [(lead, names.get(lead.activity_id, "")) for lead in leads]
        return _page(request, viewer, phone=phone, confirm=found)
    erasure = await services.forget_customer(phone, by_user_id=viewer.user_id)
    return _page(request, viewer, erased=erasure)
