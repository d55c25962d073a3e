"""/console/health: the outbox queue and its failures in words (admins only)."""

from __future__ import annotations

from aiohttp import web

from bot.health import explain, failures
from bot.roles import Role
from handlers.web.console.core import Viewer, render, require_role, services_of

routes = web.RouteTableDef()


@routes.get("/console/health")
@require_role(Role.ADMIN)
async def health(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    outbox = await services.outbox.health()
    context = {
        "lines": explain(outbox, views_queued=services.recorder.pending),
        "failures": failures(outbox),
        "database_ok": await services.database_answers(),
    }
    return render(request, "console/health.html", context, viewer=viewer)
