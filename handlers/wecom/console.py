"""The console's WeCom action: announce an activity to the app's members as a template card.

WeCom has no channel to post in; `message/send` to `@all` reaches every member in the
app's visible range (可见范围) with one call, each member's card with its own buttons.
It goes through the outbox like Slack's `publish --dm-all`, once per activity: a second
click tells nobody twice.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.platforms import wecom_user_id
from bot.roles import Role
from handlers.web.console.core import Viewer, require_role, services_of

ALL_MEMBERS = wecom_user_id("@all")


@require_role(Role.ADMIN)
async def announce(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    raw = request.match_info["activity_id"]
    if not raw.isdigit() or int(raw) > 2**31:
        raise web.HTTPNotFound()
    activity = await services.activity(int(raw))
    assert activity.id is not None
    await services.start_broadcast(activity.id, by_user_id=viewer.user_id, user_ids=[ALL_MEMBERS])
    raise web.HTTPSeeOther(f"/console/activities/{activity.id}?announced=wecom")


def register(app: web.Application) -> None:
    aiohttp_jinja2.get_env(app).globals["wecom_announce"] = True
    app.router.add_post("/console/activities/{activity_id}/wecom-announce", announce)
