"""Console pages for points: an activity's rules (form on its page), marking a lead spam or
duplicate (its lead page), the fraud review queue at /console/review, and manual points
adjustments (a form on /console/people); the admin-only ones are checked on the server."""

from __future__ import annotations

from aiohttp import web

from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.points import RULE_FIELDS
from bot.points_desk import ADJUST_MAX
from bot.points_flags import DECISIONS
from bot.points_marks import MARKS
from bot.roles import Role
from handlers.web.console.core import Viewer, posted_form, render, require_role, services_of
from handlers.web.console.people import page as people_page

routes = web.RouteTableDef()


def _number(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not (raw.isdigit() and len(raw) <= 9):
        raise NotFound(_("There is nothing at this address."))
    return int(raw)


@routes.post("/console/activities/{activity_id}/points")
@require_role(Role.ADMIN)
async def save_rules(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    activity_id = _number(request, "activity_id")
    form = await posted_form(request)
    fields = {name: str(form.get(name) or "")[:12] for name in RULE_FIELDS}
    services = services_of(request)
    try:
        await services.points.set_rules(activity_id, fields, by_user_id=viewer.user_id)
    except InvalidInput as exc:
        activity = await services.activity(activity_id)
        context = {
            "activity": activity,
            "rules": fields,
            "rule_errors": exc.fields or {},
            "message": str(exc),
        }
        return render(request, "console/points_rules.html", context, viewer=viewer, status=400)
    raise web.HTTPSeeOther(f"/console/activities/{activity_id}?saved=1")


@routes.post("/console/leads/{lead_id}/mark")
@require_role(Role.EMPLOYEE)
async def mark_lead(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The lead DM's spam / duplicate buttons: its salesperson or an admin."""
    lead_id = _number(request, "lead_id")
    mark = (await posted_form(request)).get("mark")
    if not isinstance(mark, str) or mark not in MARKS:
        raise InvalidInput(_("Mark the lead spam or duplicate."))
    services = services_of(request)
    await services.records.timeline(lead_id, user_id=viewer.user_id)  # NotFound if not theirs
    await services.points.mark_lead(lead_id, mark, by_user_id=viewer.user_id)
    raise web.HTTPSeeOther(f"/console/leads/{lead_id}?marked=1")


@routes.get("/console/review")
@require_role(Role.ADMIN)
async def review_queue(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    items = await services.points.review_queue(user_id=viewer.user_id)
    notice = request.query.get("decided", "")
    context = {
        "items": items,
        "notice": notice if notice in ("approved", "rejected") else "",
    }
    return render(request, "console/review.html", context, viewer=viewer)


@routes.post("/console/review/{flag_id}")
@require_role(Role.ADMIN)
async def decide(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    flag_id = _number(request, "flag_id")
    decision = (await posted_form(request)).get("decision")
    if not isinstance(decision, str) or decision not in DECISIONS:
        raise InvalidInput(_("Approve or reject."))
    flag = await services_of(request).points.decide(flag_id, decision, by_user_id=viewer.user_id)
    raise web.HTTPSeeOther(f"/console/review?decided={flag.status}")


@routes.post("/console/people/points")
@require_role(Role.ADMIN)
async def adjust_points(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Add or remove an employee's points with a reason: a new ledger entry, audited."""
    form = await posted_form(request)
    fields = {
        name: str(form.get(name) or "").strip()[:400]
        for name in ("employee", "direction", "points", "note")
    }
    try:
        raw = fields["points"]
        if not (raw.isdigit() and 0 < len(raw) <= 9):
            message = _("Give a whole number of points from 1 to %(n)d.") % {"n": ADJUST_MAX}
            raise InvalidInput(message, fields={"points": message})
        sign = -1 if fields["direction"] == "remove" else 1
        await services_of(request).points.adjust(
            fields["employee"], sign * int(raw), fields["note"], by_user_id=viewer.user_id
        )
    except (InvalidInput, NotFound) as exc:
        errors = exc.fields if isinstance(exc, InvalidInput) else {}
        return await people_page(
            request, viewer, message=str(exc), status=400, adjust=fields, adjust_errors=errors
        )
    raise web.HTTPSeeOther("/console/people?adjusted=1#points")
