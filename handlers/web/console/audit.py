"""/console/audit: the audit log for admins, newest first, filtered by actor, action and
a date range (days in the viewer's time zone), a page at a time. Read only: the log has
no edit or delete, here or anywhere."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlmodel import select

from bot import audit, i18n
from bot.activities import zone
from bot.errors import NotFound
from bot.i18n import _
from bot.roles import Role, names_of
from handlers.web.console.core import Viewer, render, require_role, services_of
from store.models import AuditEntry

routes = web.RouteTableDef()
PER_PAGE = 50
MAX_PAGE = 100_000


def action_name(action: str) -> str:
    """An action as people say it."""
    names = {
        audit.ACTIVITY_CREATE: _("Activity created"),
        audit.ACTIVITY_EDIT: _("Activity edited"),
        audit.ACTIVITY_PUBLISH: _("Activity published"),
        audit.ACTIVITY_CLOSE: _("Activity closed"),
        audit.ROSTER_ADD: _("Salespeople added"),
        audit.ROSTER_REMOVE: _("Salespeople removed"),
        audit.EXPORT_CSV: _("CSV export"),
        audit.EXPORT_XLSX: _("XLSX report download"),
        audit.POINTS_ADJUST: _("Points adjusted"),
        audit.LEAD_CLAWBACK: _("Lead marked spam or duplicate"),
        audit.REVIEW_APPROVE: _("Review approved"),
        audit.REVIEW_REJECT: _("Review rejected"),
        audit.REWARD_CHANGE: _("Reward changed"),
        audit.REDEMPTION_CREATE: _("Reward redeemed"),
        audit.REDEMPTION_FULFIL: _("Redemption fulfilled"),
        audit.REDEMPTION_REFUSE: _("Redemption refused"),
        audit.PRIVACY_ERASE: _("Customer erased"),
        audit.PRIVACY_ACCESS: _("Customer data exported"),
        audit.RETENTION_FOLD: _("Old views rolled up"),
    }
    return names.get(action, action)


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def _page(raw: str) -> int:
    return min(int(raw), MAX_PAGE) if raw.isdigit() and len(raw) <= 6 and int(raw) > 0 else 1


async def _viewer_tz(request: web.Request, viewer: Viewer) -> str:
    """Days are the viewer's, as the table's times are (set by require_role)."""
    return i18n.viewer_zone() or "UTC"


@routes.get("/console/audit")
@require_role(Role.ADMIN)
async def show_audit(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    tz = await _viewer_tz(request, viewer)
    query = request.query
    actor = (query.get("actor") or "").strip()[: audit.ACTOR_MAX]
    action = (query.get("action") or "").strip()
    action = action if action in audit.ACTIONS else ""
    since, until = _day(query.get("from", "")), _day(query.get("to", ""))
    errors = []
    if query.get("from", "").strip() and since is None:
        errors.append(_("'From' is not a date."))
    if query.get("to", "").strip() and until is None:
        errors.append(_("'To' is not a date."))
    if since and until and until < since:
        errors.append(_("'To' is before 'From'."))
        since = until = None
    where = audit.AuditFilter(
        actor=actor,
        action=action,
        since=datetime.combine(since, time(), zone(tz)) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), zone(tz)) if until else None,
    )
    async with services.db.session() as session:
        found = await audit.entries(
            session, where=where, page=_page(query.get("page", "")), per_page=PER_PAGE
        )
        actors = list((await session.exec(select(AuditEntry.actor).distinct().limit(500))).all())
    actors = sorted(set(actors) | ({actor} if actor else set()))
    names = await names_of(services, actors)
    for user_id in {e.actor for e in found.entries} - set(names) - {audit.CLI, audit.SYSTEM}:
        try:  # someone ShareTrail has not cached (an admin who only ever used the console)
            names[user_id] = (await services.directory.profile(user_id)).name
        except (NotFound, OSError, TimeoutError):
            continue
    filters = {
        "actor": actor,
        "action": action,
        "from": since.isoformat() if since else "",
        "to": until.isoformat() if until else "",
    }
    kept = {k: v for k, v in filters.items() if v}

    def page_link(number: int) -> str:
        return "/console/audit?" + urlencode({**kept, "page": number})

    context: dict[str, Any] = {
        "found": found,
        "rows": [(entry, audit.details_of(entry)) for entry in found.entries],
        "filters": filters,
        "actors": actors,
        "names": names,
        "actions": audit.ACTIONS,
        "action_name": action_name,
        "errors": errors,
        "tz": tz,
        "previous": page_link(found.page - 1) if found.page > 1 else "",
        "next": page_link(found.page + 1) if found.page < found.pages else "",
    }
    return render(request, "console/audit.html", context, viewer=viewer)
